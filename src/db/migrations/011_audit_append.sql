-- Audit appends in one round trip. Every appender serialises on one advisory lock held until its transaction
-- commits (the chain has exactly one tip), so each client round trip made while holding it is a round trip
-- every other writer waits for. This function takes the same lock, reads the tip and inserts the rows in a
-- single call; only the COMMIT remains. It takes the very lock older code took from the client, so replicas
-- of both versions can run side by side during a rolling deploy without forking the chain.
--
-- The body is canonical JSON built by the caller, whose keys sort as action, actor, at, data, seq, subject:
-- the caller sends the text before and after the seq value (head, tail) and the function puts the seq in
-- between. The hash is sha256 over the UTF-8 of prev_hash || '\n' || body, exactly as chainHash computes it;
-- the caller recomputes it from what is returned and rolls back on any difference.
--
-- VOLATILE (the default) matters: in READ COMMITTED each statement of a volatile function takes a fresh
-- snapshot, so the tip is read after the lock is granted and sees the row the previous holder committed.
CREATE FUNCTION audit_append(p_at text[], p_actor text[], p_action text[], p_subject text[], p_head text[], p_tail text[])
RETURNS TABLE (seq bigint, prev_hash text, hash text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  tip_seq  bigint;
  tip_hash text;
  body     text;
  i        integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('warden:audit', 0));
  SELECT l.seq, l.hash INTO tip_seq, tip_hash FROM audit_log l ORDER BY l.seq DESC LIMIT 1;
  tip_seq := coalesce(tip_seq, 0);
  tip_hash := coalesce(tip_hash, repeat('0', 64));
  FOR i IN 1 .. coalesce(array_length(p_head, 1), 0) LOOP
    seq := tip_seq + 1;
    prev_hash := tip_hash;
    body := p_head[i] || seq::text || p_tail[i];
    hash := encode(sha256(convert_to(prev_hash || E'\n' || body, 'UTF8')), 'hex');
    INSERT INTO audit_log (seq, at, actor, action, subject, body, prev_hash, hash)
      VALUES (seq, p_at[i]::timestamptz, p_actor[i], p_action[i], p_subject[i], body, prev_hash, hash);
    RETURN NEXT;
    tip_seq := seq;
    tip_hash := hash;
  END LOOP;
END
$$;
