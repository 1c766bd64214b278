-- Denser HNSW graphs for the per-model vector indexes (src/knowledge/models.ts, ensureModelIndex, which builds
-- new ones WITH the same parameters). pgvector's defaults (m 16, ef_construction 64) gave recall@10 0.575 at
-- ef_search 100 on 100k chunks of the local hashing embedder, whose vectors are nearly equidistant (median
-- cosine distance of the 1st / 10th neighbour 0.620 / 0.663); m 32, ef_construction 200 gave 0.722 at 100,
-- 0.835 at 200, 0.908 at 400 and 0.961 at 1000, and a faster query at equal ef (bench:retrieval, Postgres 15,
-- pgvector 0.8.0). The cost is a build about 2.6× longer (28 s → 73 s at 100k chunks).
--
-- Existing indexes are rebuilt here, once, with the new parameters (the index name stays, so search and the
-- registry are unchanged). On a large knowledge base this migration takes as long as that build.
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT id, dim, index_name FROM embedding_models ORDER BY id LOOP
    EXECUTE format('DROP INDEX IF EXISTS %I', r.index_name);
    EXECUTE format(
      'CREATE INDEX %I ON chunks USING hnsw ((embedding::vector(%s)) vector_cosine_ops) WITH (m = 32, ef_construction = 200) WHERE embedding_model = %L',
      r.index_name, r.dim, r.id);
  END LOOP;
END $$;
