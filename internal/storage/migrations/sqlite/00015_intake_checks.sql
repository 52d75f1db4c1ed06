-- +goose Up
-- PostgreSQL drops the incident checks intake paid for on every row,
-- compresses raw payloads with lz4 and stores live events' data as text
-- (see its 00015). SQLite's alert and timeline foreign keys are cheap
-- primary-key probes in the writer's own process, it stores payloads as they
-- are, and its JSON is text already. Numbered alike.
SELECT 1;

-- +goose Down
SELECT 1;
