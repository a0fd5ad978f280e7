-- The hotline (deconfliction.domain.hotline): threads between parties, their messages, and each
-- party's language for rendering message templates.
CREATE TABLE threads (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    participants TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES parties (id),
    created_at BIGINT NOT NULL
);

CREATE TABLE thread_members (
    thread_id TEXT NOT NULL REFERENCES threads (id),
    party_id TEXT NOT NULL REFERENCES parties (id),
    PRIMARY KEY (thread_id, party_id)
);
CREATE INDEX thread_members_party ON thread_members (party_id, thread_id);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    thread_id TEXT NOT NULL REFERENCES threads (id),
    sender TEXT NOT NULL REFERENCES parties (id),
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX messages_thread ON messages (thread_id, id);

CREATE TABLE preferences (
    party_id TEXT PRIMARY KEY REFERENCES parties (id),
    language TEXT NOT NULL
);
