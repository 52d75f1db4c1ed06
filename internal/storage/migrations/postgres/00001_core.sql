-- +goose Up
-- Times are unix microseconds (BIGINT) in both dialects so that one domain
-- layer can compare and page on them identically.
CREATE TABLE orgs (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL, -- equals id; kept so every table is scoped the same way
    name        TEXT NOT NULL,
    is_default  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX orgs_one_default ON orgs (is_default) WHERE is_default;

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    email          TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    disabled_at    BIGINT
);
CREATE UNIQUE INDEX users_email ON users (org_id, lower(email));

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);

CREATE TABLE secrets (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    name        TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    ciphertext  BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE integrations (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    source      TEXT NOT NULL,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    secret_ref  TEXT,
    settings    JSONB NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    disabled_at BIGINT
);
CREATE UNIQUE INDEX integrations_name ON integrations (org_id, source, name);

CREATE TABLE raw_payloads (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs(id),
    integration_id  TEXT,
    source          TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    body            BYTEA NOT NULL,
    alert_count     INTEGER NOT NULL,
    received_at     BIGINT NOT NULL
);
CREATE INDEX raw_payloads_received ON raw_payloads (received_at);

CREATE TABLE incidents (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES orgs(id),
    status            TEXT NOT NULL,
    severity          TEXT NOT NULL,
    title             TEXT NOT NULL,
    service           TEXT NOT NULL DEFAULT '',
    namespace         TEXT NOT NULL DEFAULT '',
    alert_name        TEXT NOT NULL DEFAULT '',
    group_key         TEXT NOT NULL,
    correlation_rule  TEXT NOT NULL,
    alert_count       INTEGER NOT NULL DEFAULT 0,
    firing_count      INTEGER NOT NULL DEFAULT 0,
    investigation_id  TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    last_alert_at     BIGINT NOT NULL,
    acknowledged_at   BIGINT,
    resolved_at       BIGINT
);
CREATE INDEX incidents_list ON incidents (org_id, created_at DESC, id DESC);
CREATE INDEX incidents_group ON incidents (org_id, group_key, last_alert_at) WHERE status <> 'resolved';

CREATE TABLE alerts (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES orgs(id),
    source              TEXT NOT NULL,
    integration_id      TEXT,
    fingerprint         TEXT NOT NULL,
    status              TEXT NOT NULL,
    severity            TEXT NOT NULL,
    name                TEXT NOT NULL,
    title               TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    service             TEXT NOT NULL DEFAULT '',
    environment         TEXT NOT NULL DEFAULT '',
    namespace           TEXT NOT NULL DEFAULT '',
    labels              JSONB NOT NULL DEFAULT '{}',
    annotations         JSONB NOT NULL DEFAULT '{}',
    links               JSONB NOT NULL DEFAULT '[]',
    starts_at           BIGINT NOT NULL,
    ends_at             BIGINT,
    first_received_at   BIGINT NOT NULL,
    last_received_at    BIGINT NOT NULL,
    received_count      INTEGER NOT NULL DEFAULT 1,
    incident_id         TEXT REFERENCES incidents(id),
    raw_payload_id      TEXT,
    correlation_rule    TEXT NOT NULL DEFAULT '',
    correlation_reason  TEXT NOT NULL DEFAULT ''
);
-- One open (firing) episode per (org, source, fingerprint).
CREATE UNIQUE INDEX alerts_open_episode ON alerts (org_id, source, fingerprint) WHERE status = 'firing';
CREATE INDEX alerts_fingerprint ON alerts (org_id, source, fingerprint, last_received_at DESC);
CREATE INDEX alerts_incident ON alerts (incident_id);
CREATE INDEX alerts_list ON alerts (org_id, first_received_at DESC, id DESC);
CREATE INDEX alerts_stale ON alerts (source, last_received_at) WHERE status = 'firing';

CREATE TABLE timeline_events (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    at           BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    message      TEXT NOT NULL,
    data         JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX timeline_incident ON timeline_events (incident_id, at);

CREATE TABLE investigations (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    status       TEXT NOT NULL,
    trigger      TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    report       JSONB,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    started_at   BIGINT,
    finished_at  BIGINT
);
CREATE INDEX investigations_incident ON investigations (incident_id, created_at DESC);

CREATE TABLE investigation_steps (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES orgs(id),
    investigation_id  TEXT NOT NULL REFERENCES investigations(id),
    seq               INTEGER NOT NULL,
    kind              TEXT NOT NULL,
    tool              TEXT NOT NULL DEFAULT '',
    input             JSONB NOT NULL DEFAULT '{}',
    output            JSONB,
    status            TEXT NOT NULL,
    error             TEXT NOT NULL DEFAULT '',
    started_at        BIGINT NOT NULL,
    finished_at       BIGINT,
    UNIQUE (investigation_id, seq)
);

CREATE TABLE events (
    id          BIGSERIAL PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs(id),
    type        TEXT NOT NULL,
    data        JSONB NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX events_org ON events (org_id, id);

CREATE TABLE job_runs (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    kind         TEXT NOT NULL,
    period       TEXT NOT NULL,
    affected     INTEGER NOT NULL,
    ran_by       TEXT NOT NULL,
    finished_at  BIGINT NOT NULL
);

CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    holder      TEXT NOT NULL,
    term        BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE leases;
DROP TABLE job_runs;
DROP TABLE events;
DROP TABLE investigation_steps;
DROP TABLE investigations;
DROP TABLE timeline_events;
DROP TABLE alerts;
DROP TABLE incidents;
DROP TABLE raw_payloads;
DROP TABLE integrations;
DROP TABLE secrets;
DROP TABLE api_tokens;
DROP TABLE users;
DROP TABLE orgs;
