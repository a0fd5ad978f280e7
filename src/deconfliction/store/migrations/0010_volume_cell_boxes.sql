-- The bounding box of each volume on its index rows (the union of the volume's boxes, degrees), so that
-- the candidate query drops the rows whose box misses the query's before it joins the volumes and reads
-- their geometry. Rows written before this migration get the whole world (they always pass, as before)
-- until the data step that runs with it (store/sql/backfills.py) gives them their own box.
ALTER TABLE volume_cells ADD COLUMN lon_lo DOUBLE PRECISION NOT NULL DEFAULT -180;
ALTER TABLE volume_cells ADD COLUMN lat_lo DOUBLE PRECISION NOT NULL DEFAULT -90;
ALTER TABLE volume_cells ADD COLUMN lon_hi DOUBLE PRECISION NOT NULL DEFAULT 180;
ALTER TABLE volume_cells ADD COLUMN lat_hi DOUBLE PRECISION NOT NULL DEFAULT 90
