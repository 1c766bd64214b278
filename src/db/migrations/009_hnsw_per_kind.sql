-- One HNSW index per (embedding model, source kind) instead of one per model (src/knowledge/models.ts,
-- ensureModelIndex, builds new ones the same way; vector.ts, nearestChunks, queries them). Every assessment
-- searches within a kind, and through the single per-model graph a kind filter was a post-filter: pgvector's
-- iterative scan walked the whole model's graph until enough chunks of the kind turned up (at 100k chunks twice
-- the cost of an unfiltered search, at lower recall). Each chunk is still in exactly one graph.
--
-- Existing indexes are replaced here, once (same build parameters as 008; the registry keeps the model's name
-- prefix). On a large knowledge base this migration takes about as long as one full build.
DO $$
DECLARE r record; k text;
BEGIN
  FOR r IN SELECT id, dim, index_name FROM embedding_models ORDER BY id LOOP
    EXECUTE format('DROP INDEX IF EXISTS %I', r.index_name);
    FOREACH k IN ARRAY ARRAY['runbook', 'case_study', 'telemetry', 'doc'] LOOP
      EXECUTE format(
        'CREATE INDEX IF NOT EXISTS %I ON chunks USING hnsw ((embedding::vector(%s)) vector_cosine_ops) WITH (m = 32, ef_construction = 200) WHERE embedding_model = %L and kind = %L',
        r.index_name || '_' || k, r.dim, r.id, k);
    END LOOP;
  END LOOP;
END $$;
