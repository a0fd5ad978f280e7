-- Zones of responsibility, deconfliction lines (with their bands) and protected sites
-- (docs/zones-and-sites.md). Each record keeps its whole domain value as JSON in `body`; the columns are
-- what the service filters on.

-- One row per zone version: a zone keeps its id for ever, each version is proposed and answered on its own.
-- `token` is what an operator entering this version lists as proof of knowledge (a new one per version).
CREATE TABLE zones (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    owner_id TEXT NOT NULL REFERENCES parties (id),
    state TEXT NOT NULL,
    body TEXT NOT NULL,
    token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX zones_owner ON zones (owner_id, id);

CREATE TABLE sites (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES parties (id),
    state TEXT NOT NULL,
    body TEXT NOT NULL,
    token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sites_owner ON sites (owner_id, id);

-- A deconfliction line: the area, the line, the two parties, the zones it proposed and its band (if any).
CREATE TABLE lines (
    id TEXT PRIMARY KEY,
    creator_id TEXT NOT NULL REFERENCES parties (id),
    party_left TEXT NOT NULL,
    party_right TEXT NOT NULL,
    body TEXT NOT NULL,
    token TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The bounding-box index of everything that counts in area detection: agreed zone versions, active sites
-- (boxes grown by radius + accuracy) and bands. Two boxes for a thing across the antimeridian. A thing
-- leaves this table when it stops counting. Only a pre-filter: the geometry decides.
CREATE TABLE area_boxes (
    target_id TEXT NOT NULL,
    box_idx INTEGER NOT NULL,
    kind TEXT NOT NULL,
    lon_lo DOUBLE PRECISION NOT NULL,
    lat_lo DOUBLE PRECISION NOT NULL,
    lon_hi DOUBLE PRECISION NOT NULL,
    lat_hi DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (target_id, box_idx)
);
CREATE INDEX area_boxes_lat ON area_boxes (kind, lat_lo, lat_hi);

-- The route and schedule of an operation declared as a movement (its volumes are the swept segments,
-- stored as any operation's): kept so that it reads and exports back as it was declared.
CREATE TABLE movements (
    op_id TEXT PRIMARY KEY REFERENCES operations (id),
    op_version INTEGER NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
