package storage

import (
	"context"
	"fmt"
	"time"
)

// ChatAgentStep is one finished model or tool call of a chat turn's agent.
type ChatAgentStep struct {
	TurnID     string
	OrgID      string
	Seq        int
	Kind       string
	Tool       string
	Input      RawJSON
	Output     RawJSON
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

// ChatLLMUsage is a model call's usage to count with its step.
type ChatLLMUsage struct {
	Model        string
	InputTokens  int64
	OutputTokens int64
	CostUSD      float64
}

// SaveChatAgentStep stores a finished step of a turn's agent and, for a
// model call, adds its usage to the org's daily total in the same
// transaction, so a call is counted once whatever happens to the worker.
// Storing a step already stored (a retried attempt) changes nothing.
func (s *Store) SaveChatAgentStep(ctx context.Context, st ChatAgentStep, usage *ChatLLMUsage) error {
	if len(st.Input) == 0 {
		st.Input = RawJSON("{}")
	}
	if len(st.Output) == 0 {
		st.Output = RawJSON("{}")
	}
	_, err := s.InTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `INSERT INTO chat_agent_steps (turn_id, org_id, seq, kind, tool, input, output, error, started_at, finished_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (turn_id, seq) DO NOTHING`,
			st.TurnID, st.OrgID, st.Seq, st.Kind, storableText(st.Tool), storableText(string(st.Input)), storableText(string(st.Output)), storableText(st.Error),
			Micro(st.StartedAt), Micro(st.FinishedAt))
		if err != nil {
			return fmt.Errorf("store chat agent step: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 || usage == nil {
			return nil // already stored by an earlier attempt
		}
		return tx.AddLLMUsage(ctx, st.OrgID, "", usage.Model, usage.InputTokens, usage.OutputTokens, usage.CostUSD, st.FinishedAt)
	})
	return err
}

// ChatAgentSteps returns a turn's stored agent steps in order.
func (s *Store) ChatAgentSteps(ctx context.Context, orgID, turnID string) ([]ChatAgentStep, error) {
	rows, err := s.DB.primary().QueryContext(ctx, `SELECT seq, kind, tool, input, output, error, started_at, finished_at FROM chat_agent_steps
WHERE org_id = $1 AND turn_id = $2 ORDER BY seq`, orgID, turnID)
	if err != nil {
		return nil, fmt.Errorf("load chat agent steps: %w", err)
	}
	defer rows.Close()
	var out []ChatAgentStep
	for rows.Next() {
		st := ChatAgentStep{TurnID: turnID, OrgID: orgID}
		var in, o string
		var started, finished int64
		if err := rows.Scan(&st.Seq, &st.Kind, &st.Tool, &in, &o, &st.Error, &started, &finished); err != nil {
			return nil, fmt.Errorf("load chat agent steps: %w", err)
		}
		st.Input, st.Output, st.StartedAt, st.FinishedAt = RawJSON(in), RawJSON(o), FromMicro(started), FromMicro(finished)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load chat agent steps: %w", err)
	}
	return out, nil
}
