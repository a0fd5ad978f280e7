-- Client certificates bound to parties (docs/security.md, Mutual TLS): the SHA-256 fingerprint of the
-- certificate's DER encoding; a caller presenting a verified certificate bound here acts as that party.
CREATE TABLE client_certificates (
    fingerprint TEXT PRIMARY KEY,
    party_id TEXT NOT NULL REFERENCES parties (id),
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX client_certificates_party ON client_certificates (party_id);
