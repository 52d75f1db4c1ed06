// Package chat is Aurora's conversation service: the WebSocket protocol of
// docs/chat-protocol.md, the handler that serves it on any chatbot replica,
// and the turn runner that answers questions as durable jobs on workers.
//
// Nothing a replica holds in memory is needed by another: sessions, turns,
// frames and pending confirmations are rows. A turn's frames are numbered
// per session (seq) in the transaction that stores them; the replica
// holding the client's socket is woken through the event bus and sends the
// stored frames after the last one it sent, so a client resumes anywhere
// from its last seq and never sees a frame twice.
package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aurora-oss/aurora/internal/storage"
)

// Client frame types.
const (
	TypeQuery   = "query"
	TypeConfirm = "confirm"
	TypeCancel  = "cancel"
	TypeResume  = "resume"
	TypePing    = "ping"
)

// Server frame types.
const (
	TypeSession              = "session"
	TypeStatus               = "status"
	TypeDelta                = "delta"
	TypeToolCall             = "tool_call"
	TypeToolResult           = "tool_result"
	TypeConfirmationRequired = "confirmation_required"
	TypeUsage                = "usage"
	TypeMessage              = "message"
	TypeError                = "error"
	TypeDone                 = "done"
	TypePong                 = "pong"
)

// Modes of a query.
const (
	ModeAsk   = "ask"
	ModeAgent = "agent"
)

// Error codes of error frames.
const (
	CodeBadFrame    = "bad_frame"
	CodeRateLimited = "rate_limited"
	CodeBusy        = "busy"
	CodeNotFound    = "not_found"
	CodeForbidden   = "forbidden"
	CodeConflict    = "conflict"
	CodeNotRunning  = "not_running"
	CodeTurnFailed  = "turn_failed"
	CodeInternal    = "internal"
)

// ClientFrame is any frame a client sends; which fields matter depends on
// Type (see Validate).
type ClientFrame struct {
	Type           string `json:"type"`
	SessionID      string `json:"session_id,omitempty"`
	IncidentID     string `json:"incident_id,omitempty"`
	Text           string `json:"text,omitempty"`
	Mode           string `json:"mode,omitempty"`
	ConfirmationID string `json:"confirmation_id,omitempty"`
	Answer         string `json:"answer,omitempty"`
	// AfterSeq is a pointer so that a resume without it is told so.
	AfterSeq *int64 `json:"after_seq,omitempty"`
}

// maxQueryRunes bounds a question's length (the byte limit of the frame
// applies first; this keeps one question readable).
const maxQueryRunes = 8000

// ParseClientFrame decodes and validates one client frame. The error is
// meant for the client (an error frame with CodeBadFrame).
func ParseClientFrame(b []byte) (ClientFrame, error) {
	var f ClientFrame
	trimmed := strings.TrimSpace(string(b))
	if !strings.HasPrefix(trimmed, "{") {
		return f, errors.New("a frame must be a JSON object")
	}
	dec := json.NewDecoder(strings.NewReader(trimmed))
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("invalid JSON: %v", err)
	}
	if dec.More() {
		return f, errors.New("one JSON object per message")
	}
	// JSON allows "\u0000"; PostgreSQL text does not, and the question
	// and ids are stored or looked up as text.
	for _, field := range [...]struct{ name, v string }{{"type", f.Type}, {"session_id", f.SessionID}, {"incident_id", f.IncidentID}, {"text", f.Text},
		{"mode", f.Mode}, {"confirmation_id", f.ConfirmationID}, {"answer", f.Answer}} {
		if strings.IndexByte(field.v, 0) >= 0 {
			return f, fmt.Errorf("%s: must not contain a NUL character", field.name)
		}
	}
	return f, f.Validate()
}

// Validate checks the fields Type needs and fills defaults.
func (f *ClientFrame) Validate() error {
	switch f.Type {
	case TypeQuery:
		f.Text = strings.TrimSpace(f.Text)
		if f.Text == "" {
			return errors.New("query: text is required")
		}
		if n := len([]rune(f.Text)); n > maxQueryRunes {
			return fmt.Errorf("query: text is %d characters; at most %d", n, maxQueryRunes)
		}
		switch f.Mode {
		case "":
			f.Mode = ModeAsk
		case ModeAsk, ModeAgent:
		default:
			return fmt.Errorf("query: mode must be ask or agent, not %q", f.Mode)
		}
		if f.SessionID != "" && f.IncidentID != "" {
			return errors.New("query: incident_id only starts a new session; send it without session_id")
		}
	case TypeConfirm:
		if f.ConfirmationID == "" {
			return errors.New("confirm: confirmation_id is required")
		}
		if f.Answer != storage.ConfirmYes && f.Answer != storage.ConfirmNo {
			return fmt.Errorf("confirm: answer must be yes or no, not %q", f.Answer)
		}
	case TypeCancel:
		if f.SessionID == "" {
			return errors.New("cancel: session_id is required")
		}
	case TypeResume:
		if f.SessionID == "" {
			return errors.New("resume: session_id is required")
		}
		if f.AfterSeq == nil {
			return errors.New("resume: after_seq is required (0 replays the whole session)")
		}
		if *f.AfterSeq < 0 {
			return errors.New("resume: after_seq must be ≥ 0")
		}
	case TypePing:
	case "":
		return errors.New("type is required")
	default:
		return fmt.Errorf("unknown frame type %q", f.Type)
	}
	return nil
}

// Citation points at the evidence an answer relies on.
type Citation struct {
	N               int    `json:"n"`
	Tool            string `json:"tool"`
	Summary         string `json:"summary"`
	InvestigationID string `json:"investigation_id,omitempty"`
	StepSeq         int    `json:"step_seq,omitempty"`
}

// WireFrame renders a stored frame as sent: its type, session, turn and seq
// followed by its own fields.
func WireFrame(fr storage.ChatFrame) []byte {
	var b strings.Builder
	b.WriteString(`{"type":`)
	b.WriteString(strconv.Quote(fr.Type))
	b.WriteString(`,"session_id":`)
	b.WriteString(strconv.Quote(fr.SessionID))
	b.WriteString(`,"turn_id":`)
	b.WriteString(strconv.Quote(fr.TurnID))
	b.WriteString(`,"seq":`)
	b.WriteString(strconv.FormatInt(fr.Seq, 10))
	data := strings.TrimSpace(string(fr.Data))
	if len(data) > 2 && data[0] == '{' {
		b.WriteByte(',')
		b.WriteString(data[1:])
	} else {
		b.WriteByte('}')
	}
	return []byte(b.String())
}

// connFrame renders a connection-level frame (no seq, never replayed).
func connFrame(typ string, fields map[string]any) []byte {
	m := map[string]any{"type": typ}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

func errorFrame(code, msg string, extra map[string]any) []byte {
	f := map[string]any{"code": code, "message": msg}
	for k, v := range extra {
		f[k] = v
	}
	return connFrame(TypeError, f)
}
