-- +goose Up
-- PostgreSQL stores alert labels, annotations, links and timeline data as
-- json instead of jsonb (see its 00013); SQLite stores text. Numbered alike.
SELECT 1;

-- +goose Down
SELECT 1;
