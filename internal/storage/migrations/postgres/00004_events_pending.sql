-- +goose Up
-- Events are written here by the transaction that causes them and moved to
-- events by a sequencer, which numbers them in the order they committed;
-- see storage.Store.SequenceEvents.
CREATE TABLE events_pending (
    id          BIGSERIAL PRIMARY KEY,
    org_id      TEXT NOT NULL,
    type        TEXT NOT NULL,
    data        JSONB NOT NULL,
    created_at  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE events_pending;
