package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// LLMUsage is what a language model consumed: an investigation's totals or
// an org's for one UTC day.
type LLMUsage struct {
	// Model is the model of an investigation's last call (empty for days).
	Model        string    `json:"model,omitempty"`
	Calls        int64     `json:"calls"`
	InputTokens  int64     `json:"input_tokens"`
	OutputTokens int64     `json:"output_tokens"`
	CostUSD      float64   `json:"cost_usd"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// nanoUSD converts dollars to the stored unit (rounded to the nearest).
func nanoUSD(usd float64) int64 { return int64(math.Round(usd * 1e9)) }

// UsageDay is the key of a UTC day in llm_daily_usage.
func UsageDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// AddLLMUsage adds one model call's tokens and cost to an investigation's
// totals and to its org's total of the call's UTC day. Called in the
// transaction that stores the call's step, so a call is counted exactly
// once whatever happens to the worker.
func (t *Tx) AddLLMUsage(ctx context.Context, orgID, investigationID, model string, in, out int64, costUSD float64, at time.Time) error {
	if investigationID != "" {
		_, err := t.exec(ctx, `INSERT INTO investigation_llm_usage (investigation_id, org_id, model, calls, input_tokens, output_tokens, cost_nusd, updated_at)
VALUES ($1,$2,$3,1,$4,$5,$6,$7)
ON CONFLICT (investigation_id) DO UPDATE SET model = excluded.model, calls = investigation_llm_usage.calls + 1,
input_tokens = investigation_llm_usage.input_tokens + excluded.input_tokens, output_tokens = investigation_llm_usage.output_tokens + excluded.output_tokens,
cost_nusd = investigation_llm_usage.cost_nusd + excluded.cost_nusd, updated_at = excluded.updated_at`,
			investigationID, orgID, model, in, out, nanoUSD(costUSD), Micro(at))
		if err != nil {
			return fmt.Errorf("add investigation llm usage: %w", err)
		}
	}
	_, err := t.exec(ctx, `INSERT INTO llm_daily_usage (org_id, day, calls, input_tokens, output_tokens, cost_nusd, updated_at)
VALUES ($1,$2,1,$3,$4,$5,$6)
ON CONFLICT (org_id, day) DO UPDATE SET calls = llm_daily_usage.calls + 1,
input_tokens = llm_daily_usage.input_tokens + excluded.input_tokens, output_tokens = llm_daily_usage.output_tokens + excluded.output_tokens,
cost_nusd = llm_daily_usage.cost_nusd + excluded.cost_nusd, updated_at = excluded.updated_at`,
		orgID, UsageDay(at), in, out, nanoUSD(costUSD), Micro(at))
	if err != nil {
		return fmt.Errorf("add daily llm usage: %w", err)
	}
	return nil
}

// InvestigationLLMUsage returns an investigation's model totals, nil when
// no model was called for it.
func (s *Store) InvestigationLLMUsage(ctx context.Context, orgID, investigationID string) (*LLMUsage, error) {
	var u LLMUsage
	var cost, at int64
	err := s.DB.reader(ctx).QueryRowContext(ctx, `SELECT model, calls, input_tokens, output_tokens, cost_nusd, updated_at FROM investigation_llm_usage WHERE org_id = $1 AND investigation_id = $2`,
		orgID, investigationID).Scan(&u.Model, &u.Calls, &u.InputTokens, &u.OutputTokens, &cost, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load investigation llm usage: %w", err)
	}
	u.CostUSD, u.UpdatedAt = float64(cost)/1e9, FromMicro(at)
	return &u, nil
}

// DailyLLMUsage returns an org's model totals of the UTC day of day. It
// reads the writer, not a replica: budgets must see the latest spend.
func (s *Store) DailyLLMUsage(ctx context.Context, orgID string, day time.Time) (LLMUsage, error) {
	var u LLMUsage
	var cost, at int64
	err := s.DB.primary().QueryRowContext(ctx, `SELECT calls, input_tokens, output_tokens, cost_nusd, updated_at FROM llm_daily_usage WHERE org_id = $1 AND day = $2`,
		orgID, UsageDay(day)).Scan(&u.Calls, &u.InputTokens, &u.OutputTokens, &cost, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return LLMUsage{}, nil
	}
	if err != nil {
		return LLMUsage{}, fmt.Errorf("load daily llm usage: %w", err)
	}
	u.CostUSD, u.UpdatedAt = float64(cost)/1e9, FromMicro(at)
	return u, nil
}
