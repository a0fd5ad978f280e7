-- The event log becomes a hash chain (see deconfliction.domain.ledger): each event keeps who may read it,
-- the SHA-256 of its canonical content and its chain hash; store_head keeps the hash of the last event.
-- Events written before this migration are sealed right after it, in sequence order (store/sql/backfills.py).
ALTER TABLE events ADD COLUMN audience TEXT NOT NULL DEFAULT '[]';
ALTER TABLE events ADD COLUMN content_hash TEXT;
ALTER TABLE events ADD COLUMN hash TEXT;
ALTER TABLE store_head ADD COLUMN last_hash TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000';
