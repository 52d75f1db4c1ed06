-- +goose Up
-- What the language model cost (issue 5). An investigation's totals are
-- kept next to it for the API; an org's spend per UTC day is shared by all
-- replicas and grown by an atomic upsert, so LLM_DAILY_BUDGET_USD holds
-- across processes. Costs are in nano-dollars so sums are exact.
CREATE TABLE investigation_llm_usage (
    investigation_id  TEXT PRIMARY KEY REFERENCES investigations(id),
    org_id            TEXT NOT NULL REFERENCES orgs(id),
    model             TEXT NOT NULL DEFAULT '',
    calls             BIGINT NOT NULL DEFAULT 0,
    input_tokens      BIGINT NOT NULL DEFAULT 0,
    output_tokens     BIGINT NOT NULL DEFAULT 0,
    cost_nusd         BIGINT NOT NULL DEFAULT 0,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX investigation_llm_usage_org ON investigation_llm_usage (org_id);

CREATE TABLE llm_daily_usage (
    org_id         TEXT NOT NULL REFERENCES orgs(id),
    day            TEXT NOT NULL,
    calls          BIGINT NOT NULL DEFAULT 0,
    input_tokens   BIGINT NOT NULL DEFAULT 0,
    output_tokens  BIGINT NOT NULL DEFAULT 0,
    cost_nusd      BIGINT NOT NULL DEFAULT 0,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (org_id, day)
);

-- +goose Down
DROP TABLE llm_daily_usage;
DROP TABLE investigation_llm_usage;
