-- +goose Up
-- Each alert and timeline entry a delivery writes checked its incident_id
-- against incidents, a locking look-up (FOR KEY SHARE) of the very incident
-- the same statement writes or updates: about a twelfth of PostgreSQL's
-- time under intake load. Incidents are never deleted, and intake only
-- writes rows for incidents it created or locked in the same transaction.
-- investigations keep theirs (one row per investigation).
ALTER TABLE alerts DROP CONSTRAINT alerts_incident_id_fkey;
ALTER TABLE timeline_events DROP CONSTRAINT timeline_events_incident_id_fkey;

-- Raw payloads (several KB each) were compressed with pglz, PostgreSQL's
-- default and its slowest method; lz4 compresses about as well at a
-- fraction of the CPU. Only where the server was built with lz4: the
-- setting is a preference, and rows keep whichever method wrote them.
-- +goose StatementBegin
DO $$
BEGIN
  ALTER TABLE raw_payloads ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 not available; raw payloads stay compressed with pglz';
END $$;
-- +goose StatementEnd

-- Live events are JSON that Aurora wrote and reads back whole; PostgreSQL
-- never looks inside. As json, every event was parsed to be validated on
-- its way in (an alert.received event carries the whole alert): 4 % of
-- PostgreSQL's time under intake load. text stores the same bytes.
ALTER TABLE events_pending ALTER COLUMN data TYPE text;
ALTER TABLE events ALTER COLUMN data TYPE text;

-- +goose Down
ALTER TABLE events ALTER COLUMN data TYPE json USING data::json;
ALTER TABLE events_pending ALTER COLUMN data TYPE json USING data::json;
ALTER TABLE raw_payloads ALTER COLUMN body SET COMPRESSION default;
ALTER TABLE timeline_events ADD CONSTRAINT timeline_events_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES incidents(id);
ALTER TABLE alerts ADD CONSTRAINT alerts_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES incidents(id);
