-- +goose Up
-- An alert's labels, annotations and links, and a timeline entry's data,
-- are written on every delivery and only ever read back whole (no query
-- looks inside them): json instead of jsonb, as 00012 did for events,
-- spares PostgreSQL converting them to and from the binary form, which was
-- a tenth of its work storing an alert. Readers get the bytes Aurora wrote.
ALTER TABLE alerts ALTER COLUMN labels TYPE json, ALTER COLUMN annotations TYPE json, ALTER COLUMN links TYPE json;
ALTER TABLE timeline_events ALTER COLUMN data TYPE json;

-- +goose Down
ALTER TABLE timeline_events ALTER COLUMN data TYPE jsonb;
ALTER TABLE alerts ALTER COLUMN labels TYPE jsonb, ALTER COLUMN annotations TYPE jsonb, ALTER COLUMN links TYPE jsonb;
