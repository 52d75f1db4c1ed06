package chat

import (
	"context"
	"encoding/json"

	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// Turn is the question an Engine answers, with what it may need to know.
type Turn struct {
	OrgID      string
	SessionID  string
	TurnID     string
	UserID     string
	Role       auth.Role
	Mode       string // ModeAsk (read-only) or ModeAgent (may propose writing tools)
	Text       string
	IncidentID string
	// Attempt counts from 1; a retried turn re-runs the engine and its
	// frames already stored are not sent again (see Emitter).
	Attempt int
	// Final is true on the queue's last attempt.
	Final bool
	// History is the session's earlier messages, oldest first.
	History []HistoryMessage
}

// HistoryMessage is an earlier question or answer of the session.
type HistoryMessage struct {
	Role string `json:"role"`
	Text string `json:"text"`
}

// Emitter is how an engine shows its work. Every call stores a frame (or,
// on a retried turn, finds the same frame already stored) and wakes the
// replica holding the client's socket. Engines must emit the same frames
// in the same order when re-run, as the deterministic engine does; frames
// are matched by their position in the turn.
type Emitter interface {
	Status(ctx context.Context, state, detail string) error
	Delta(ctx context.Context, text string) error
	ToolCall(ctx context.Context, id, tool string, args any) error
	ToolResult(ctx context.Context, id, status, summary string) error
	Usage(ctx context.Context, tokens int64, cost float64) error
	Message(ctx context.Context, text string, citations []Citation) error
	// Confirm stores a writing tool's proposal, sends
	// confirmation_required and waits for a human's answer, the deadline
	// (which counts as no) or the turn's cancellation (ctx).
	Confirm(ctx context.Context, tool string, args map[string]any, p toolset.Proposal) (Confirmation, error)
}

// Confirmation is a human's answer to a proposal.
type Confirmation struct {
	// Status is storage.ConfirmYes, ConfirmNo or ConfirmTimedOut.
	Status string
	// By is who answered ("" after a timeout).
	By string
}

// replayer is implemented by engines that may not emit the same frames
// when a turn is retried (a model): their attempts' frames are kept apart.
type replayer interface{ Replayable() bool }

// Engine answers one turn. The no-model engine (Deterministic) is used
// when no language model is configured; a model-backed engine adapts the
// agent loop to the same interface.
type Engine interface {
	Run(ctx context.Context, t Turn, e Emitter) error
}

// jsonArgs renders tool args for a frame.
func jsonArgs(v any) json.RawMessage {
	if v == nil {
		return json.RawMessage("{}")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}
