package llm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"google.golang.org/genai"
)

// GeminiOptions configure the Google Gemini provider (Gemini API, not
// Vertex AI).
type GeminiOptions struct {
	APIKey string
	// BaseURL is empty for https://generativelanguage.googleapis.com.
	BaseURL    string
	HTTPClient *http.Client
}

// Gemini speaks the Gemini generateContent API through google.golang.org/genai.
type Gemini struct {
	models *genai.Models
}

// NewGemini returns the provider. The SDK does not retry unless told to
// (WithRetry does it), and the key and URL come only from o.
func NewGemini(ctx context.Context, o GeminiOptions) (*Gemini, error) {
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	c, err := genai.NewClient(ctx, &genai.ClientConfig{
		APIKey:      o.APIKey,
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  hc,
		HTTPOptions: genai.HTTPOptions{BaseURL: o.BaseURL},
	})
	if err != nil {
		return nil, fmt.Errorf("gemini client: %w", err)
	}
	return &Gemini{models: c.Models}, nil
}

// Name is the routing name.
func (p *Gemini) Name() string { return "gemini" }

// Chat sends one generateContent request, streamed when onDelta is set.
func (p *Gemini) Chat(ctx context.Context, req Request, onDelta func(string)) (Response, error) {
	contents, cfg, err := geminiParams(req)
	if err != nil {
		return Response{}, &Error{Provider: p.Name(), Kind: ErrBadRequest, Message: err.Error(), Err: err}
	}
	if onDelta == nil {
		r, err := p.models.GenerateContent(ctx, req.Model, contents, cfg)
		if err != nil {
			return Response{}, p.error(ctx, err)
		}
		var acc geminiAcc
		acc.add(r, nil)
		return acc.response(), nil
	}
	var acc geminiAcc
	for r, err := range p.models.GenerateContentStream(ctx, req.Model, contents, cfg) {
		if err != nil {
			return Response{}, p.error(ctx, err)
		}
		acc.add(r, onDelta)
	}
	return acc.response(), nil
}

// generatedIDPrefix marks call IDs made up here: the Gemini API often
// sends calls without an id, and must not be sent one back it never made.
const generatedIDPrefix = "gemini-call-"

func geminiParams(req Request) ([]*genai.Content, *genai.GenerateContentConfig, error) {
	cfg := &genai.GenerateContentConfig{}
	if req.System != "" {
		cfg.SystemInstruction = &genai.Content{Parts: []*genai.Part{{Text: req.System}}}
	}
	if req.MaxTokens > 0 {
		cfg.MaxOutputTokens = int32(req.MaxTokens)
	}
	if req.Temperature != nil {
		t := float32(*req.Temperature)
		cfg.Temperature = &t
	}
	var contents []*genai.Content
	// appendPart adds to the last content when it has the same role:
	// Gemini wants the answers to parallel calls in one turn.
	appendPart := func(role string, part *genai.Part) {
		if n := len(contents); n > 0 && contents[n-1].Role == role {
			contents[n-1].Parts = append(contents[n-1].Parts, part)
			return
		}
		contents = append(contents, &genai.Content{Role: role, Parts: []*genai.Part{part}})
	}
	for _, m := range req.Messages {
		switch m.Role {
		case RoleUser:
			appendPart(genai.RoleUser, &genai.Part{Text: m.Content})
		case RoleAssistant:
			var parts []*genai.Part
			if m.Content != "" {
				parts = append(parts, &genai.Part{Text: m.Content})
			}
			for _, tc := range m.ToolCalls {
				args := map[string]any{}
				if len(tc.Arguments) > 0 && json.Unmarshal(tc.Arguments, &args) != nil {
					args = map[string]any{}
				}
				fc := &genai.FunctionCall{Name: tc.Name, Args: args}
				if !strings.HasPrefix(tc.ID, generatedIDPrefix) {
					fc.ID = tc.ID
				}
				parts = append(parts, &genai.Part{FunctionCall: fc, ThoughtSignature: tc.Signature})
			}
			if len(parts) == 0 {
				parts = append(parts, &genai.Part{Text: "(no answer)"})
			}
			contents = append(contents, &genai.Content{Role: genai.RoleModel, Parts: parts})
		case RoleTool:
			if m.Name == "" {
				return nil, nil, errors.New("a tool message needs Name: Gemini matches function responses by name")
			}
			key := "output"
			if m.IsError {
				key = "error"
			}
			fr := &genai.FunctionResponse{Name: m.Name, Response: map[string]any{key: m.Content}}
			if !strings.HasPrefix(m.ToolCallID, generatedIDPrefix) {
				fr.ID = m.ToolCallID
			}
			appendPart(genai.RoleUser, &genai.Part{FunctionResponse: fr})
		default:
			return nil, nil, fmt.Errorf("message role %q is not user, assistant or tool", m.Role)
		}
	}
	if len(req.Tools) > 0 {
		decls := make([]*genai.FunctionDeclaration, 0, len(req.Tools))
		for _, t := range req.Tools {
			d := &genai.FunctionDeclaration{Name: t.Name, Description: t.Description}
			if len(t.Parameters) > 0 {
				var schema map[string]any
				if err := json.Unmarshal(t.Parameters, &schema); err != nil {
					return nil, nil, fmt.Errorf("tool %s: parameters are not a JSON object: %w", t.Name, err)
				}
				d.ParametersJsonSchema = schema
			}
			decls = append(decls, d)
		}
		cfg.Tools = []*genai.Tool{{FunctionDeclarations: decls}}
		mode := genai.FunctionCallingConfigModeAuto
		switch req.ToolChoice {
		case ToolNone:
			mode = genai.FunctionCallingConfigModeNone
		case ToolRequired:
			mode = genai.FunctionCallingConfigModeAny
		}
		cfg.ToolConfig = &genai.ToolConfig{FunctionCallingConfig: &genai.FunctionCallingConfig{Mode: mode}}
	}
	return contents, cfg, nil
}

// geminiAcc gathers an answer from one response or a stream of them:
// text arrives in pieces, function calls whole, usage with the last chunk.
type geminiAcc struct {
	text   strings.Builder
	calls  []ToolCall
	finish genai.FinishReason
	usage  *genai.GenerateContentResponseUsageMetadata
	model  string
	block  string
}

func (a *geminiAcc) add(r *genai.GenerateContentResponse, onDelta func(string)) {
	if r == nil {
		return
	}
	if r.UsageMetadata != nil {
		a.usage = r.UsageMetadata
	}
	if r.ModelVersion != "" {
		a.model = r.ModelVersion
	}
	if r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
		a.block = string(r.PromptFeedback.BlockReason)
	}
	if len(r.Candidates) == 0 {
		return
	}
	c := r.Candidates[0]
	if c.FinishReason != "" {
		a.finish = c.FinishReason
	}
	if c.Content == nil {
		return
	}
	for _, part := range c.Content.Parts {
		switch {
		case part.FunctionCall != nil:
			fc := part.FunctionCall
			args, err := json.Marshal(fc.Args)
			if err != nil || fc.Args == nil {
				args = []byte("{}")
			}
			id := fc.ID
			if id == "" {
				id = generatedIDPrefix + randomHex()
			}
			a.calls = append(a.calls, ToolCall{ID: id, Name: fc.Name, Arguments: args, Signature: part.ThoughtSignature})
		case part.Thought:
			// Thought summaries are not the answer.
		case part.Text != "":
			a.text.WriteString(part.Text)
			if onDelta != nil {
				onDelta(part.Text)
			}
		}
	}
}

func (a *geminiAcc) response() Response {
	msg := Message{Role: RoleAssistant, Content: a.text.String(), ToolCalls: a.calls}
	var u Usage
	if a.usage != nil {
		u = Usage{
			InputTokens: int(a.usage.PromptTokenCount + a.usage.ToolUsePromptTokenCount),
			// Thinking tokens are billed as output.
			OutputTokens:      int(a.usage.CandidatesTokenCount + a.usage.ThoughtsTokenCount),
			CachedInputTokens: int(a.usage.CachedContentTokenCount),
		}
	}
	stop := StopEnd
	switch {
	case len(a.calls) > 0:
		stop = StopToolCalls
	case a.finish == genai.FinishReasonMaxTokens:
		stop = StopLength
	case a.block != "", a.finish == genai.FinishReasonSafety, a.finish == genai.FinishReasonProhibitedContent,
		a.finish == genai.FinishReasonBlocklist, a.finish == genai.FinishReasonSPII, a.finish == genai.FinishReasonRecitation:
		stop = StopFiltered
	}
	return Response{Message: msg, Usage: u, StopReason: stop, Model: a.model}
}

func randomHex() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// geminiStatusCode maps google.rpc status names for errors that carry no
// usable HTTP code.
var geminiStatusCode = map[string]int{
	"INVALID_ARGUMENT":    400,
	"FAILED_PRECONDITION": 400,
	"UNAUTHENTICATED":     401,
	"PERMISSION_DENIED":   403,
	"NOT_FOUND":           404,
	"RESOURCE_EXHAUSTED":  429,
	"INTERNAL":            500,
	"UNAVAILABLE":         503,
	"DEADLINE_EXCEEDED":   504,
}

func (p *Gemini) error(ctx context.Context, err error) error {
	var ae genai.APIError
	if errors.As(err, &ae) {
		status := ae.Code
		if status < 400 {
			status = geminiStatusCode[ae.Status]
		}
		e := httpError(p.Name(), status, "", ae.Status, ae.Message, nil, err)
		// An invalid key is a 400 INVALID_ARGUMENT with reason
		// API_KEY_INVALID in Gemini's error details.
		if reason := geminiDetail(ae.Details, "reason"); strings.HasPrefix(reason, "API_KEY_") && e.Kind != ErrAuth {
			e.Kind = ErrAuth
			e.Message += " (check " + keyVars[ProviderGemini] + ")"
		}
		if d, perr := time.ParseDuration(geminiDetail(ae.Details, "retryDelay")); perr == nil && d > 0 {
			e.RetryAfter = d
		}
		return e
	}
	return transportError(p.Name(), ctx, err)
}

// geminiDetail finds a string field in the error's google.rpc details
// (ErrorInfo.reason, RetryInfo.retryDelay).
func geminiDetail(details []map[string]any, key string) string {
	for _, d := range details {
		if s, ok := d[key].(string); ok {
			return s
		}
	}
	return ""
}
