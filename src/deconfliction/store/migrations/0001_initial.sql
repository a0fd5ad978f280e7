-- Portable SQL: runs on SQLite and PostgreSQL (and keeps PostgreSQL-compatible distributed engines in
-- reach). {blob} and {without_rowid} are filled per backend by the migration runner.

-- One row. Every write transaction locks it first (PostgreSQL: SELECT ... FOR UPDATE; SQLite: BEGIN
-- IMMEDIATE), so writes are serialised, event numbers follow commit order, and a conflict check always
-- sees every operation committed before it.
CREATE TABLE store_head (
    id INTEGER PRIMARY KEY,
    last_seq BIGINT NOT NULL
);
INSERT INTO store_head (id, last_seq) VALUES (1, 0);

CREATE TABLE parties (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE operations (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES parties (id),
    kind TEXT NOT NULL,
    priority INTEGER NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    ovn TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX operations_owner ON operations (owner_id, id);

-- One row per Volume4D: the footprint as the party sent it (JSON) and the detector's shape.
CREATE TABLE volumes (
    op_id TEXT NOT NULL REFERENCES operations (id),
    vol_idx INTEGER NOT NULL,
    footprint TEXT NOT NULL,
    core {blob} NOT NULL,
    radius_m DOUBLE PRECISION NOT NULL,
    center_lon DOUBLE PRECISION NOT NULL,
    center_lat DOUBLE PRECISION NOT NULL,
    reach_m DOUBLE PRECISION NOT NULL,
    boxes TEXT NOT NULL,
    t_start BIGINT NOT NULL,
    t_end BIGINT NOT NULL,
    alt_lo DOUBLE PRECISION NOT NULL,
    alt_hi DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (op_id, vol_idx)
);

-- The space-time index (docs/index.md): every live volume filed under its quadtree cells, with its
-- window and band so that time and altitude filter in the same scan. Only a pre-filter.
CREATE TABLE volume_cells (
    cell BIGINT NOT NULL,
    op_id TEXT NOT NULL,
    vol_idx INTEGER NOT NULL,
    t_start BIGINT NOT NULL,
    t_end BIGINT NOT NULL,
    alt_lo DOUBLE PRECISION NOT NULL,
    alt_hi DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (cell, op_id, vol_idx)
){without_rowid};
CREATE INDEX volume_cells_op ON volume_cells (op_id);

CREATE TABLE conflicts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    operation_a TEXT NOT NULL,
    party_a TEXT NOT NULL,
    operation_b TEXT NOT NULL,
    party_b TEXT NOT NULL,
    token_a TEXT NOT NULL,
    token_b TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (operation_a, operation_b)
);
CREATE INDEX conflicts_operation_b ON conflicts (operation_b);
CREATE INDEX conflicts_party_a ON conflicts (party_a, id);
CREATE INDEX conflicts_party_b ON conflicts (party_b, id);

CREATE TABLE idempotency (
    party_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    body {blob} NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (party_id, key)
);

-- Every change, in commit order. The ledger and the notifications build on this.
CREATE TABLE events (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id TEXT,
    type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    payload TEXT NOT NULL
);
