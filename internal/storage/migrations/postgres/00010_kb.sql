-- +goose Up
-- Knowledge base (issue 8). Documents are what people upload; the file
-- itself lives in object storage (blob_key), the extracted text is cut into
-- kb_chunks. dedupe_key (source_url, else the uploaded name) makes a
-- re-upload replace the document instead of adding a second copy.
CREATE TABLE kb_documents (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs(id),
    dedupe_key    TEXT NOT NULL,
    title         TEXT NOT NULL,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    source_url    TEXT NOT NULL DEFAULT '',
    tags          TEXT NOT NULL DEFAULT '[]',
    status        TEXT NOT NULL,
    error         TEXT NOT NULL DEFAULT '',
    sha256        TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    blob_key      TEXT NOT NULL,
    chunk_count   INTEGER NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (org_id, dedupe_key)
);
CREATE INDEX kb_documents_org ON kb_documents (org_id, updated_at);
CREATE INDEX kb_documents_source ON kb_documents (org_id, source_url);

-- Chunks of documents and of helpful incidents. Not tied to kb_documents by
-- a foreign key: incident chunks have no document row. tags is '|a|b|' so
-- "has tag x" is a substring test on '|x|' in both dialects. vector is
-- little-endian float32, unit length (cosine = dot product); pgvector is
-- not required (Debian ships no package for it), see docs/knowledge-base.md.
CREATE TABLE kb_chunks (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    document_id   TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    title         TEXT NOT NULL,
    heading_path  TEXT NOT NULL,
    text          TEXT NOT NULL,
    start_off     INTEGER NOT NULL,
    end_off       INTEGER NOT NULL,
    tags          TEXT NOT NULL,
    source_url    TEXT NOT NULL,
    vector        BYTEA NOT NULL,
    tsv           tsvector GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || heading_path || ' ' || text)) STORED
);
CREATE INDEX kb_chunks_doc ON kb_chunks (org_id, kind, document_id);
CREATE INDEX kb_chunks_tsv ON kb_chunks USING GIN (tsv);

-- The embedder the stored vectors were made with (one row).
CREATE TABLE kb_space (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    name  TEXT NOT NULL,
    dims  INTEGER NOT NULL
);

-- Feedback on an incident's report; "helpful" ones are indexed as
-- KindIncident chunks.
CREATE TABLE incident_feedback (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    incident_id  TEXT NOT NULL,
    rating       TEXT NOT NULL,
    comment      TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL
);
CREATE INDEX incident_feedback_incident ON incident_feedback (org_id, incident_id, created_at);

-- +goose Down
DROP TABLE incident_feedback;
DROP TABLE kb_space;
DROP TABLE kb_chunks;
DROP TABLE kb_documents;
