-- +goose Up
-- An org's settings of a toolset (kubernetes, prometheus). settings is NULL
-- when the org uses the environment's configuration (the row then only
-- keeps the last connection test). Credentials live in secrets; secret_ref
-- points at them. version grows on every change so each replica's cached
-- clients notice a change made through another replica.
CREATE TABLE toolset_settings (
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    name        TEXT NOT NULL,
    settings    TEXT,
    secret_ref  TEXT,
    version     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT '',
    last_test   TEXT,
    PRIMARY KEY (org_id, name)
);

-- +goose Down
DROP TABLE toolset_settings;
