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

-- Failed authentications (docs/security.md, Limits on guessing), counted per scope ("address:<ip>" or
-- "party:<id>") over a sliding window; held here so that every server process counts the same failures.
CREATE TABLE auth_failures (
    scope TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX auth_failures_scope_at ON auth_failures (scope, at);
