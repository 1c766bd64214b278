-- Corpus statistics for BM25 ranking of chunks' full text (src/knowledge/termstats.ts). ts_rank_cd has no notion
-- of how rare a word is, so in a long OR-ed question the common words ("database", "service") outweigh the one
-- rare word that identifies the passage. These tables hold each lexeme's document frequency over chunks.tsv and
-- the corpus size / mean length. They are rebuilt at the end of an ingestion run that changed the corpus (inside
-- the run's single-writer lock) and only ever read by search, so a missing or stale row degrades ranking
-- slightly, never correctness.
CREATE TABLE term_stats (
  lexeme text PRIMARY KEY,
  -- Number of chunks whose tsv contains the lexeme.
  df     integer NOT NULL
);

-- One row: the statistics of the chunk set term_stats was computed from.
CREATE TABLE corpus_stats (
  singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  chunks       integer NOT NULL,
  -- Mean number of distinct lexemes per chunk tsv (BM25's average document length, see termstats.ts).
  avg_len      double precision NOT NULL,
  -- Chunks written or removed by ingestion runs since the last rebuild (a rebuild waits for enough of them).
  changed      integer NOT NULL DEFAULT 0,
  refreshed_at timestamptz NOT NULL DEFAULT now()
);

-- Keep tsv inside the heap row. A chunk row (text, index_text, tsv, ~2 KB vector) is over the TOAST threshold,
-- and with the default EXTENDED storage the toaster moved tsv — the largest inline column — out of line, so BM25
-- paid a TOAST fetch per candidate (measured at 100k chunks on Postgres 15: 1,951 candidates scored in 45 ms
-- instead of 8 ms). MAIN keeps it inline (still compressed) and moves text/index_text out instead; those are
-- read only for the few hits returned. Metadata only: applies to rows written from now on (re-ingesting, e.g.
-- after a chunker change, rewrites every chunk).
ALTER TABLE chunks ALTER COLUMN tsv SET STORAGE MAIN;
