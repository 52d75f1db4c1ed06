-- +goose Up
-- The stale-alert scan filters on last_received_at first; with source
-- leading, a planner without statistics used it for open-episode lookups
-- and read every firing alert.
DROP INDEX alerts_stale;
CREATE INDEX alerts_stale ON alerts (last_received_at) WHERE status = 'firing';
-- Related alerts of an incident (same service or namespace, recent).
CREATE INDEX alerts_recent ON alerts (org_id, last_received_at DESC);

-- +goose Down
DROP INDEX alerts_recent;
DROP INDEX alerts_stale;
CREATE INDEX alerts_stale ON alerts (source, last_received_at) WHERE status = 'firing';
