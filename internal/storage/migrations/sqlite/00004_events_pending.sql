-- +goose Up
-- Used on PostgreSQL only (SQLite has one writer, so events are numbered in
-- commit order as they are written); kept so both schemas match.
CREATE TABLE events_pending (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id      TEXT NOT NULL,
    type        TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE events_pending;
