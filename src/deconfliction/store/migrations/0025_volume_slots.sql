-- The space-time index, finer in time (docs/index.md): every live volume filed under its quadtree cells
-- once per two-hour slot its window meets, the slot first in the key, so that the candidate query reads
-- only the slots of its own window instead of every row filed under its cells at any time. A volume whose
-- window meets more than 12 slots is filed once under the long slot, which every query reads. Still
-- only a pre-filter. The data step that runs with this migration (store/sql/backfills.py) files the rows
-- of volume_cells here; migration 26 drops that table.
CREATE TABLE volume_slots (
    slot BIGINT NOT NULL,
    cell BIGINT NOT NULL,
    op_id TEXT NOT NULL,
    vol_idx INTEGER NOT NULL,
    t_start BIGINT NOT NULL,
    t_end BIGINT NOT NULL,
    alt_lo DOUBLE PRECISION NOT NULL,
    alt_hi DOUBLE PRECISION NOT NULL,
    lon_lo DOUBLE PRECISION NOT NULL,
    lat_lo DOUBLE PRECISION NOT NULL,
    lon_hi DOUBLE PRECISION NOT NULL,
    lat_hi DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (slot, cell, op_id, vol_idx)
){without_rowid};
CREATE INDEX volume_slots_op ON volume_slots (op_id)
