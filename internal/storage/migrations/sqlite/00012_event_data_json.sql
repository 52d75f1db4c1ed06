-- +goose Up
-- PostgreSQL stores live events' data as json instead of jsonb (see its
-- 00012); SQLite stores it as text already. Numbered alike.
SELECT 1;

-- +goose Down
SELECT 1;
