-- +goose Up
-- The language-model agent's steps of a chat turn (model calls and tool
-- calls), stored as each finishes so that a turn retried after its worker
-- died resumes the conversation instead of paying for it again.
CREATE TABLE chat_agent_steps (
    turn_id      TEXT NOT NULL REFERENCES chat_turns(id) ON DELETE CASCADE,
    org_id       TEXT NOT NULL REFERENCES orgs(id),
    seq          INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    tool         TEXT NOT NULL DEFAULT '',
    input        TEXT NOT NULL DEFAULT '{}',
    output       TEXT NOT NULL DEFAULT '{}',
    error        TEXT NOT NULL DEFAULT '',
    started_at   BIGINT NOT NULL,
    finished_at  BIGINT NOT NULL,
    PRIMARY KEY (turn_id, seq)
);

-- +goose Down
DROP TABLE chat_agent_steps;
