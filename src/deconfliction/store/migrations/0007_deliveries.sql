-- Delivery of notifications to parties' webhooks and e-mail addresses (deconfliction.domain.delivery):
-- the endpoints each party registered, and one delivery row per notification and endpoint, retried with
-- backoff until delivered or dead (readable and replayable by the party).
CREATE TABLE endpoints (
    id TEXT PRIMARY KEY,
    party_id TEXT NOT NULL REFERENCES parties (id),
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX endpoints_party ON endpoints (party_id);

CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES endpoints (id),
    party_id TEXT NOT NULL,
    notification_id TEXT NOT NULL,
    body {blob} NOT NULL,
    created_at BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    last_error TEXT,
    delivered_at BIGINT
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_party ON deliveries (party_id, state);
