-- +goose Up
-- PostgreSQL re-keys incidents_group to keep incident updates in place (see
-- its 00014); SQLite updates rows in place anyway. Numbered alike.
SELECT 1;

-- +goose Down
SELECT 1;
