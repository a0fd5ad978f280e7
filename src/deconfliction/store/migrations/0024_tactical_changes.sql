-- The elected detection cycle reads only the tracks changed since its last read (docs/tactical.md, The
-- incremental picture). Every transaction that writes tracks first takes the next number of the one-row
-- counter (its row lock serialises them, so numbers are handed out in commit order) and stamps the rows it
-- writes with it; the cycle reads the rows stamped after the newest number it saw. A change the stamps
-- cannot tell (a track re-keyed by a claim or disclaim: its old key is deleted) advances the epoch, and
-- the cycle then reads every row again.
ALTER TABLE tactical_tracks ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX tactical_tracks_seq ON tactical_tracks (seq);
CREATE TABLE tactical_changes (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL,
    epoch BIGINT NOT NULL
);
INSERT INTO tactical_changes (id, seq, epoch) VALUES (1, 0, 0);
