-- +goose Up
-- Chat (issue 6). A session belongs to one user of one org and optionally
-- to an incident. Everything a turn shows its client is a frame numbered by
-- seq within the session, so a client resumes on any replica by asking for
-- the frames after the last seq it saw. last_seq is the session's counter:
-- a frame is numbered by incrementing it in the frame's own transaction.
CREATE TABLE chat_sessions (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    user_id      TEXT NOT NULL,
    incident_id  TEXT,
    title        TEXT NOT NULL,
    last_seq     BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX chat_sessions_user ON chat_sessions (org_id, user_id, updated_at DESC);
CREATE INDEX chat_sessions_incident ON chat_sessions (org_id, incident_id);

-- A turn is one question and everything done to answer it; it runs as a
-- job. The partial unique index is the "one running turn per session" rule,
-- enforced by the database so two replicas cannot both start one.
CREATE TABLE chat_turns (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT NOT NULL REFERENCES orgs(id),
    session_id           TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    user_id              TEXT NOT NULL,
    role                 TEXT NOT NULL,
    mode                 TEXT NOT NULL,
    text                 TEXT NOT NULL,
    status               TEXT NOT NULL,
    error                TEXT NOT NULL DEFAULT '',
    attempts             INTEGER NOT NULL DEFAULT 0,
    cancel_requested_at  BIGINT,
    created_at           BIGINT NOT NULL,
    finished_at          BIGINT
);
CREATE UNIQUE INDEX chat_turns_one_active ON chat_turns (session_id) WHERE status IN ('queued', 'running', 'waiting_confirmation');

-- (turn_id, key) makes frames idempotent: a retried turn re-emits its
-- frames with the same keys and those already stored are not stored (nor
-- sent) again.
CREATE TABLE chat_frames (
    org_id      TEXT NOT NULL,
    session_id  TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    turn_id     TEXT NOT NULL,
    key         TEXT NOT NULL,
    type        TEXT NOT NULL,
    data        JSONB NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (session_id, seq)
);
CREATE UNIQUE INDEX chat_frames_key ON chat_frames (turn_id, key);

-- A writing tool's proposal waits here for a human; answered_by/at record
-- who decided. Pending ones past expires_at count as "no".
CREATE TABLE chat_confirmations (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    session_id   TEXT NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    turn_id      TEXT NOT NULL,
    key          TEXT NOT NULL,
    tool         TEXT NOT NULL,
    args         JSONB NOT NULL,
    risk         TEXT NOT NULL,
    command      TEXT NOT NULL,
    undo         TEXT NOT NULL,
    status       TEXT NOT NULL,
    answered_by  TEXT NOT NULL DEFAULT '',
    answered_at  BIGINT,
    expires_at   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX chat_confirmations_key ON chat_confirmations (turn_id, key);

-- Chat tokens are single use on every replica: the first use records the
-- token's id; a second use collides with it.
CREATE TABLE chat_token_uses (
    jti         TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX chat_token_uses_expiry ON chat_token_uses (expires_at);

-- Per-user query counts per minute, when Redis is not configured.
CREATE TABLE chat_rate (
    key           TEXT NOT NULL,
    window_start  BIGINT NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- +goose Down
DROP TABLE chat_rate;
DROP TABLE chat_token_uses;
DROP TABLE chat_confirmations;
DROP TABLE chat_frames;
DROP TABLE chat_turns;
DROP TABLE chat_sessions;
