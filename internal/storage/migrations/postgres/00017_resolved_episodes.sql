-- +goose Up
-- A fingerprint's episodes were indexed twice while open: in
-- alerts_open_episode (firing, unique) and in alerts_fingerprint (every
-- status), both keyed by fingerprint, so every new alert dirtied a random
-- leaf page of each, and a re-delivery moved its alerts_fingerprint entry
-- (the key holds last_received_at). The intake looks for the last episode
-- only when none is open, so only resolved episodes need the second index:
-- an alert is now in one of the two, never both.
CREATE INDEX alerts_resolved_episodes ON alerts (org_id, source, fingerprint, last_received_at DESC) WHERE status = 'resolved';
DROP INDEX alerts_fingerprint;

-- +goose Down
CREATE INDEX alerts_fingerprint ON alerts (org_id, source, fingerprint, last_received_at DESC);
DROP INDEX alerts_resolved_episodes;
