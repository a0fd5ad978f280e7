-- One tactical picture per deployment (docs/tactical.md, Several processes): every process writes the
-- position reports it receives here and serves tracks and alerts from here; one elected process runs the
-- detection cycle, writes the alerts and beats in tactical_cycle.

-- The newest report of every track (key: party, track id; party '' for a track of no party). Times are
-- seconds since the epoch (float), as the detection pass takes them.
CREATE TABLE tactical_tracks (
    party_id TEXT NOT NULL,
    track_id TEXT NOT NULL,
    t DOUBLE PRECISION NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    alt DOUBLE PRECISION NOT NULL,
    gs DOUBLE PRECISION NOT NULL,
    trk DOUBLE PRECISION NOT NULL,
    vs DOUBLE PRECISION NOT NULL,
    callsign TEXT,
    source TEXT NOT NULL,
    affiliation TEXT NOT NULL,
    reporter TEXT,
    PRIMARY KEY (party_id, track_id)
);
CREATE INDEX tactical_tracks_t ON tactical_tracks (t);
CREATE INDEX tactical_tracks_track ON tactical_tracks (track_id);

-- A track of no party claimed by a party: its later reports are that party's.
CREATE TABLE tactical_claims (
    track_id TEXT PRIMARY KEY,
    party_id TEXT NOT NULL
);

-- A party's track it disclaimed: its later reports belong to no party, with this affiliation.
CREATE TABLE tactical_disowned (
    party_id TEXT NOT NULL,
    track_id TEXT NOT NULL,
    affiliation TEXT NOT NULL,
    PRIMARY KEY (party_id, track_id)
);

-- Alerts: the active ones (new, ongoing) and the newest resolved ones. Subjects a and b as in the domain
-- (two tracks, or a track and a zone's or site's owner and id); times in microseconds since the epoch;
-- the prediction as JSON.
CREATE TABLE tactical_alerts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    a_party TEXT NOT NULL,
    a_id TEXT NOT NULL,
    b_party TEXT NOT NULL,
    b_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_found_at BIGINT NOT NULL,
    resolved_at BIGINT,
    prediction TEXT NOT NULL
);
CREATE INDEX tactical_alerts_state ON tactical_alerts (state, updated_at);

-- The elected detection cycle's heartbeat (one row): which process holds the election, and when (wall
-- clock, seconds since the epoch) it last finished a cycle.
CREATE TABLE tactical_cycle (
    id INTEGER PRIMARY KEY,
    holder TEXT NOT NULL,
    beat_at DOUBLE PRECISION NOT NULL
);
