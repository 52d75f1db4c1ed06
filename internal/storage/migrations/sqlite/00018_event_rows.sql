-- +goose Up
-- A row of events may hold several live events of one type that one
-- transaction wrote one after another (a delivery's alert.received events):
-- n of them, their data joined by newlines (an event's JSON never holds
-- one). The row's id is the id of its last event; its events are numbered
-- id-n+1 … id (ids are reserved through sqlite_sequence).
ALTER TABLE events ADD COLUMN n INTEGER NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE events DROP COLUMN n;
