-- The ASTM F3548-21 DSS interface (docs/dss.md): references of operational intents and constraints,
-- subscriptions and USS availability. Footprints are stored exactly (WKB of the union of the extents);
-- the box columns only pre-filter.
CREATE TABLE dss_entities (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    manager TEXT NOT NULL,
    version INTEGER NOT NULL,
    ovn TEXT NOT NULL,
    state TEXT NOT NULL,
    uss_base_url TEXT NOT NULL,
    subscription_id TEXT,
    t_start BIGINT NOT NULL,
    t_end BIGINT NOT NULL,
    alt_lo DOUBLE PRECISION NOT NULL,
    alt_hi DOUBLE PRECISION NOT NULL,
    min_lon DOUBLE PRECISION NOT NULL,
    min_lat DOUBLE PRECISION NOT NULL,
    max_lon DOUBLE PRECISION NOT NULL,
    max_lat DOUBLE PRECISION NOT NULL,
    footprint {blob} NOT NULL,
    mirror_id TEXT
);
CREATE INDEX dss_entities_kind_time ON dss_entities (kind, t_end);
CREATE INDEX dss_entities_subscription ON dss_entities (subscription_id);
CREATE TABLE dss_subscriptions (
    id TEXT PRIMARY KEY,
    manager TEXT NOT NULL,
    version TEXT NOT NULL,
    notification_index INTEGER NOT NULL,
    uss_base_url TEXT NOT NULL,
    notify_for_intents INTEGER NOT NULL,
    notify_for_constraints INTEGER NOT NULL,
    implicit INTEGER NOT NULL,
    t_start BIGINT NOT NULL,
    t_end BIGINT NOT NULL,
    alt_lo DOUBLE PRECISION,
    alt_hi DOUBLE PRECISION,
    min_lon DOUBLE PRECISION,
    min_lat DOUBLE PRECISION,
    max_lon DOUBLE PRECISION,
    max_lat DOUBLE PRECISION,
    footprint {blob}
);
CREATE INDEX dss_subscriptions_time ON dss_subscriptions (t_end);
CREATE TABLE dss_availability (
    uss_id TEXT PRIMARY KEY,
    availability TEXT NOT NULL,
    version TEXT NOT NULL
);
CREATE TABLE dss_reports (
    id TEXT PRIMARY KEY,
    reporter TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    body TEXT NOT NULL
)
