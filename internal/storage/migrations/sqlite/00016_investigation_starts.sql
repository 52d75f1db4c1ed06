-- +goose Up
-- The rate limit looks up an org's latest investigation start times (the
-- scheduled start of a held-back investigation, else its creation): the
-- limit-th latest decides when the next one may start. It counted the
-- investigations created in the last minute before, which read every one of
-- them per new incident and let more than the limit start in a minute
-- during a storm that lasted longer than one.
CREATE INDEX investigations_org_start ON investigations (org_id, COALESCE(scheduled_at, created_at));
DROP INDEX investigations_org_created;

-- +goose Down
CREATE INDEX investigations_org_created ON investigations (org_id, created_at);
DROP INDEX investigations_org_start;
