-- Units (deconfliction.domain.unit): the parts of a party that act, each with its own on-call ladder and
-- an optional area of interest; keys scoped to one unit; the unit that declared an operation, and the
-- unit a notification concerns (a unit's key reads its own unit's rows and its party's rows of no unit).
CREATE TABLE units (
    id TEXT PRIMARY KEY,
    party_id TEXT NOT NULL REFERENCES parties (id),
    name TEXT NOT NULL,
    contacts TEXT NOT NULL,
    area TEXT,
    version INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (party_id, name)
);

CREATE TABLE unit_keys (
    id TEXT PRIMARY KEY,
    unit_id TEXT NOT NULL REFERENCES units (id),
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX unit_keys_unit ON unit_keys (unit_id);

ALTER TABLE operations ADD COLUMN unit_id TEXT;
ALTER TABLE notifications ADD COLUMN unit_id TEXT;
