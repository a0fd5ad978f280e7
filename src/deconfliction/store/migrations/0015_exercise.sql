-- Exercise deployments (deconfliction.domain.exercise). store_head.deployment says what the database holds,
-- 'live' or 'exercise', fixed when it is first opened by a server or first written; a database that already
-- has entries is live. exercise_clock keeps the scenario clock's anchor that every process reads. An entry
-- written into an exercise database is marked (events.exercise = 1, "exercise": true in its content).
ALTER TABLE store_head ADD COLUMN deployment TEXT;
UPDATE store_head SET deployment = 'live' WHERE last_seq > 0;
ALTER TABLE events ADD COLUMN exercise INTEGER NOT NULL DEFAULT 0;
CREATE TABLE exercise_clock (
    id INTEGER PRIMARY KEY,
    scenario_start BIGINT NOT NULL,
    real_start BIGINT NOT NULL,
    speed DOUBLE PRECISION NOT NULL,
    advanced_us BIGINT NOT NULL DEFAULT 0
);
