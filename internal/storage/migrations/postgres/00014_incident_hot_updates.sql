-- +goose Up
-- Every delivery updates its incident (last_alert_at, counts). With
-- last_alert_at in incidents_group, each update wrote a new version of the
-- row and a new entry in every index of incidents. Keyed by group alone
-- (an open group has one incident, rarely a few, and the look-up filters
-- and orders those), the update changes no indexed column, so PostgreSQL
-- keeps it on the row's page (a HOT update) with no index entries; the
-- free space left on each page (fillfactor) is where it goes.
DROP INDEX incidents_group;
CREATE INDEX incidents_group ON incidents (org_id, group_key) WHERE status <> 'resolved';
ALTER TABLE incidents SET (fillfactor = 85);

-- +goose Down
ALTER TABLE incidents RESET (fillfactor);
DROP INDEX incidents_group;
CREATE INDEX incidents_group ON incidents (org_id, group_key, last_alert_at) WHERE status <> 'resolved';
