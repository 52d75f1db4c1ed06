// Package llm talks to language-model providers (OpenAI-compatible APIs,
// Anthropic, Gemini) behind one small interface: a chat call with tools,
// optionally streamed. The agent loop (package agent) is built on it and
// knows nothing of any vendor's wire format.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Role of a message in a conversation.
type Role string

// Roles.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	// RoleTool carries a tool's result back to the model; ToolCallID and
	// Name say which call it answers.
	RoleTool Role = "tool"
)

// Message is one turn of a conversation. The system prompt is not a
// message: it is Request.System, because vendors place it differently.
type Message struct {
	Role    Role   `json:"role"`
	Content string `json:"content,omitempty"`
	// ToolCalls are the calls an assistant message asks for.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID and Name identify the call a RoleTool message answers.
	ToolCallID string `json:"tool_call_id,omitempty"`
	Name       string `json:"name,omitempty"`
	// IsError marks a RoleTool message whose content is an error.
	IsError bool `json:"is_error,omitempty"`
}

// ToolCall is one call the model asks for.
type ToolCall struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Arguments is the JSON object the model wrote (may be invalid JSON:
	// models make mistakes, and the caller answers with an error).
	Arguments json.RawMessage `json:"arguments"`
	// Signature is opaque provider data that must travel back with the
	// call in the next request (Gemini's thought signature); keep it as
	// received.
	Signature []byte `json:"signature,omitempty"`
}

// ToolDef describes a tool offered to the model.
type ToolDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"` // JSON schema of an object
}

// ToolChoice constrains tool use.
type ToolChoice string

// Tool choices. The zero value is ToolAuto.
const (
	ToolAuto     ToolChoice = ""
	ToolNone     ToolChoice = "none"
	ToolRequired ToolChoice = "required"
)

// Request is one model call.
type Request struct {
	// Model is the provider's model name, without any "provider/" prefix.
	Model      string
	System     string
	Messages   []Message
	Tools      []ToolDef
	ToolChoice ToolChoice
	// MaxTokens bounds the answer (0: the provider's default).
	MaxTokens int
	// Temperature is nil for the provider's default.
	Temperature *float64
}

// Usage counts tokens of one call.
type Usage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
	// CachedInputTokens is the part of InputTokens served from a prompt
	// cache, when the provider says.
	CachedInputTokens int `json:"cached_input_tokens,omitempty"`
}

// Total is input plus output tokens.
func (u Usage) Total() int { return u.InputTokens + u.OutputTokens }

// Add sums usages.
func (u Usage) Add(o Usage) Usage {
	return Usage{u.InputTokens + o.InputTokens, u.OutputTokens + o.OutputTokens, u.CachedInputTokens + o.CachedInputTokens}
}

// Stop reasons, normalised across vendors.
const (
	StopEnd       = "end"        // the model finished its answer
	StopToolCalls = "tool_calls" // the model asks for tool calls
	StopLength    = "length"     // cut by MaxTokens or the context limit
	StopFiltered  = "filtered"   // a content filter stopped it
)

// Response is the model's answer.
type Response struct {
	// Message is the assistant message (text and/or tool calls).
	Message    Message
	Usage      Usage
	StopReason string
	// Model is the model that answered, as the provider names it.
	Model string
}

// Provider is one vendor API.
type Provider interface {
	// Name is the provider's routing name: openai, openrouter, ollama,
	// anthropic, gemini.
	Name() string
	// Chat sends req. When onDelta is not nil the answer is streamed and
	// onDelta receives its text as it arrives; the returned Response is the
	// same whole answer either way (tool calls assembled).
	Chat(ctx context.Context, req Request, onDelta func(text string)) (Response, error)
}

// ErrorKind classifies provider failures.
type ErrorKind string

// Error kinds.
const (
	ErrAuth         ErrorKind = "auth"          // bad or missing key (401/403)
	ErrUnknownModel ErrorKind = "unknown_model" // the model does not exist
	ErrRateLimit    ErrorKind = "rate_limit"    // 429
	ErrServer       ErrorKind = "server"        // 5xx, overloaded
	ErrBadRequest   ErrorKind = "bad_request"   // 400 other than the above (e.g. context too long)
	ErrTimeout      ErrorKind = "timeout"
	ErrNetwork      ErrorKind = "network"
)

// Error is a provider failure with its kind.
type Error struct {
	Provider string
	Kind     ErrorKind
	// Status is the HTTP status, 0 when none was received.
	Status  int
	Message string
	Err     error
	// RetryAfter is how long the provider asked to wait before retrying
	// (Retry-After), 0 when it did not say.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s: %s", e.Provider, e.Kind)
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable says whether the same call may succeed later.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case ErrRateLimit, ErrServer, ErrTimeout, ErrNetwork:
		return true
	}
	return false
}

// IsRetryable reports whether err is a retryable *Error.
func IsRetryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable()
}

// Model is a configured model resolved to its provider: what the agent
// holds for a role (RCA, chat, summaries).
type Model struct {
	Provider Provider
	// Name is sent to the provider (no routing prefix).
	Name string
	// Ref is the model as configured, e.g. "anthropic/claude-sonnet-4.6";
	// prices and metrics are keyed by it.
	Ref string
	// Price is what the model costs; zero when unknown (cost then counts
	// as 0 and budgets in dollars cannot stop it, which the config check
	// warns about).
	Price Price
}

// Chat calls the model's provider with req.Model set to the model's name.
func (m Model) Chat(ctx context.Context, req Request, onDelta func(string)) (Response, error) {
	req.Model = m.Name
	return m.Provider.Chat(ctx, req, onDelta)
}

// Price is a model's price in US dollars per million tokens.
type Price struct {
	InputPerMTok       float64 `json:"input_per_mtok"`
	OutputPerMTok      float64 `json:"output_per_mtok"`
	CachedInputPerMTok float64 `json:"cached_input_per_mtok,omitempty"`
}

// Cost is the price of u in US dollars. Cached input tokens cost
// CachedInputPerMTok when set, else the input price.
func (p Price) Cost(u Usage) float64 {
	cached := p.CachedInputPerMTok
	if cached == 0 {
		cached = p.InputPerMTok
	}
	fresh := u.InputTokens - u.CachedInputTokens
	if fresh < 0 {
		fresh = 0
	}
	return (float64(fresh)*p.InputPerMTok + float64(u.CachedInputTokens)*cached + float64(u.OutputTokens)*p.OutputPerMTok) / 1e6
}
