-- +goose Up
-- PostgreSQL drops the incident checks intake paid for on every row and
-- compresses raw payloads with lz4 (see its 00015); SQLite checks no
-- foreign keys on these tables' hot path and stores payloads as they are.
-- Numbered alike.
SELECT 1;

-- +goose Down
SELECT 1;
