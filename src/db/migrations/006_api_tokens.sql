-- API tokens. Only the SHA-256 of a token is stored: a database dump does not hand out credentials.
-- A token carries an identity and roles; who is acting is always taken from here, never from a request body.
CREATE TABLE api_tokens (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  identity    text NOT NULL,
  roles       text[] NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  -- The assistant acts through code, never through the API.
  CHECK (identity <> 'assistant'),
  CHECK (cardinality(roles) >= 1)
);
CREATE INDEX api_tokens_identity ON api_tokens (identity);
