-- +goose Up
-- Every row intake writes (alerts, their timeline entries, raw payloads,
-- live events) and every investigation step checked its org_id against
-- orgs, which locks the org's one row FOR KEY SHARE: with several
-- deliveries at once PostgreSQL turns those locks into a new MultiXact per
-- check, and the checks were a fifth of the cost of storing a row. Orgs are
-- never deleted, and these rows get their org_id from the token or session
-- that wrote them; the tables people and settings hang off (users, tokens,
-- integrations, secrets, ...) keep their constraint.
ALTER TABLE alerts DROP CONSTRAINT alerts_org_id_fkey;
ALTER TABLE timeline_events DROP CONSTRAINT timeline_events_org_id_fkey;
ALTER TABLE raw_payloads DROP CONSTRAINT raw_payloads_org_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_org_id_fkey;
ALTER TABLE investigation_steps DROP CONSTRAINT investigation_steps_org_id_fkey;

-- +goose Down
ALTER TABLE alerts ADD CONSTRAINT alerts_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs(id);
ALTER TABLE timeline_events ADD CONSTRAINT timeline_events_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs(id);
ALTER TABLE raw_payloads ADD CONSTRAINT raw_payloads_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs(id);
ALTER TABLE events ADD CONSTRAINT events_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs(id);
ALTER TABLE investigation_steps ADD CONSTRAINT investigation_steps_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs(id);
