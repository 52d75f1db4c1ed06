-- +goose Up
-- A row of events (and of events_pending) may hold several live events of
-- one type that one transaction wrote one after another (a delivery's
-- alert.received events): n of them, their data joined by newlines (an
-- event's JSON never holds one). The row's id is the id of its last event;
-- its events are numbered id-n+1 … id. A 10-alert delivery wrote eleven
-- event rows, twice (events_pending, then events), and now writes two.
ALTER TABLE events_pending ADD COLUMN n INTEGER NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN n INTEGER NOT NULL DEFAULT 1;

-- Such a row is larger than PostgreSQL's TOAST threshold (2 KB), so its
-- data is compressed: kept in the row (MAIN: out-of-line storage would
-- add a row per 2 KB), with lz4 where the server has it (pglz, the
-- default, costs several times the CPU).
ALTER TABLE events_pending ALTER COLUMN data SET STORAGE MAIN;
ALTER TABLE events ALTER COLUMN data SET STORAGE MAIN;
-- +goose StatementBegin
DO $$
BEGIN
  ALTER TABLE events_pending ALTER COLUMN data SET COMPRESSION lz4;
  ALTER TABLE events ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
  RAISE NOTICE 'lz4 not available; live events stay compressed with pglz';
END $$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE events ALTER COLUMN data SET COMPRESSION default;
ALTER TABLE events_pending ALTER COLUMN data SET COMPRESSION default;
ALTER TABLE events ALTER COLUMN data SET STORAGE EXTENDED;
ALTER TABLE events_pending ALTER COLUMN data SET STORAGE EXTENDED;
ALTER TABLE events DROP COLUMN n;
ALTER TABLE events_pending DROP COLUMN n;
