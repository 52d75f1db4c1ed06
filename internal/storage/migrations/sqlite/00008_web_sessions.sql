-- +goose Up
-- Browser sessions of the web UI. The cookie carries a random token; only its
-- SHA-256 is stored (id), so a leaked table does not sign anyone in. The
-- role is read from users on every request, so a role change or a disabled
-- user takes effect at once.
CREATE TABLE web_sessions (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (org_id, user_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- Failed sign-ins, counted per key (client address, and address + email)
-- over a window to rate-limit password guessing. In the database rather than
-- in memory so every replica counts the same failures.
CREATE TABLE web_login_failures (
    id   TEXT PRIMARY KEY,
    key  TEXT NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX web_login_failures_key ON web_login_failures (key, at);

-- +goose Down
DROP TABLE web_login_failures;
DROP TABLE web_sessions;
