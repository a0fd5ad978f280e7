-- Time sanity (docs/api.md "Historical records", docs/notifications.md "Expiry"):
-- an operation filed as a historical record for an inquiry, and conflicts with one, are marked; a
-- conflict keeps the end of its window so the expiry round finds the open ones whose window ended
-- through an index instead of reading every record. Rows written before this migration get their
-- window's end from their encounters (store/sql/backfills.py, the data step of this migration).
ALTER TABLE operations ADD COLUMN historical INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conflicts ADD COLUMN historical INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conflicts ADD COLUMN window_end BIGINT;
CREATE INDEX conflicts_state_window_end ON conflicts (state, window_end);
