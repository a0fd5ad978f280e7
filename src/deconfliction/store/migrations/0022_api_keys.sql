-- A party's API keys (service/api_keys.py): several per party, each with an optional expiry, listed
-- without their secret and revoked through the API. Only the SHA-256 of a key is stored. Every party's
-- first key, kept until now on the party's row, becomes its first row here; the party's key_hash column
-- is no longer read.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    party_id TEXT NOT NULL REFERENCES parties (id),
    key_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_keys_party ON api_keys (party_id);

INSERT INTO api_keys (id, party_id, key_hash, label, created_at, expires_at, revoked_at)
SELECT 'ak_' || substr(id, 4), id, key_hash, 'first key', created_at, NULL, NULL FROM parties;
