-- Signed submissions: parties' Ed25519 public keys (rotated by adding, retired by revoking, never
-- deleted: old entries stay verifiable), the signatures already accepted (a replay is refused until the
-- signature's timestamp is too old to be accepted anyway), and the signature kept with its ledger entry.
ALTER TABLE events ADD COLUMN signed TEXT;

CREATE TABLE party_keys (
    key_id TEXT PRIMARY KEY,
    party_id TEXT NOT NULL REFERENCES parties (id),
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX party_keys_party ON party_keys (party_id);

CREATE TABLE used_signatures (
    digest TEXT PRIMARY KEY,
    party_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX used_signatures_expiry ON used_signatures (expires_at);
