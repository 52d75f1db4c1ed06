-- +goose Up
-- Live events are written once and read back as they were written, never
-- queried inside: json (checked, stored as text) instead of jsonb spares
-- PostgreSQL converting every event to its binary form on the way in and
-- back to text on the way out, twice per event (events_pending, then
-- events). Readers also get the very bytes Aurora wrote, as on SQLite.
ALTER TABLE events_pending ALTER COLUMN data TYPE json;
ALTER TABLE events ALTER COLUMN data TYPE json;

-- +goose Down
ALTER TABLE events ALTER COLUMN data TYPE jsonb;
ALTER TABLE events_pending ALTER COLUMN data TYPE jsonb;
