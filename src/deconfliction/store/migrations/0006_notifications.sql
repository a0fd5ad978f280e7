-- Notifications (deconfliction.domain.notification): one per party told of a change, numbered in commit
-- order (store_head.last_notification, taken inside the serialised write) so a party's stream resumes
-- after the last number it saw with no gap and no repeat; deadlines and escalation steps live here, not
-- in memory, so they survive restarts and fire once whichever process looks.
ALTER TABLE store_head ADD COLUMN last_notification BIGINT NOT NULL DEFAULT 0;

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    party_id TEXT NOT NULL REFERENCES parties (id),
    kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    entry_seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    deadline BIGINT,
    state TEXT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT,
    step INTEGER NOT NULL DEFAULT 0,
    escalations TEXT NOT NULL DEFAULT '[]',
    at_coordinator INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notifications_party_seq ON notifications (party_id, seq);
CREATE INDEX notifications_due ON notifications (state, deadline);

CREATE TABLE contacts (
    party_id TEXT PRIMARY KEY REFERENCES parties (id),
    ladder TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
