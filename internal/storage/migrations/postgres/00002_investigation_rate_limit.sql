-- +goose Up
-- An investigation held back by the per-org rate limit stays queued with
-- rate_limited set until its scheduled start.
ALTER TABLE investigations ADD COLUMN rate_limited BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE investigations ADD COLUMN scheduled_at BIGINT;
CREATE INDEX investigations_org_created ON investigations (org_id, created_at);

-- +goose Down
DROP INDEX investigations_org_created;
ALTER TABLE investigations DROP COLUMN scheduled_at;
ALTER TABLE investigations DROP COLUMN rate_limited;
