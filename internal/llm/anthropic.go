package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/param"
)

// AnthropicOptions configure the Anthropic Messages provider.
type AnthropicOptions struct {
	APIKey string
	// BaseURL is empty for https://api.anthropic.com.
	BaseURL    string
	HTTPClient *http.Client
}

// anthropicDefaultMaxTokens bounds answers when the request does not:
// the Messages API requires max_tokens, and every current model accepts
// this much.
const anthropicDefaultMaxTokens = 8192

// Anthropic speaks the Messages API through the official SDK.
type Anthropic struct {
	client anthropic.MessageService
}

// NewAnthropic returns the provider; nothing is read from the environment
// and the SDK's own retries are off (WithRetry does them).
func NewAnthropic(o AnthropicOptions) *Anthropic {
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithAPIKey(o.APIKey),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0),
	}
	if o.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(o.BaseURL))
	}
	c := anthropic.NewClient(opts...)
	return &Anthropic{client: c.Messages}
}

// Name is the routing name.
func (p *Anthropic) Name() string { return "anthropic" }

// Chat sends one Messages request, streamed when onDelta is set.
func (p *Anthropic) Chat(ctx context.Context, req Request, onDelta func(string)) (Response, error) {
	params, err := anthropicParams(req)
	if err != nil {
		return Response{}, &Error{Provider: p.Name(), Kind: ErrBadRequest, Message: err.Error(), Err: err}
	}
	if onDelta == nil {
		m, err := p.client.New(ctx, params)
		if err != nil {
			return Response{}, p.error(ctx, err)
		}
		return anthropicResponse(m), nil
	}
	stream := p.client.NewStreaming(ctx, params)
	defer stream.Close()
	var acc anthropic.Message
	for stream.Next() {
		ev := stream.Current()
		if err := acc.Accumulate(ev); err != nil {
			return Response{}, &Error{Provider: p.Name(), Kind: ErrServer, Message: "malformed stream: " + err.Error(), Err: err}
		}
		if ev.Type == "content_block_delta" && ev.Delta.Type == "text_delta" && ev.Delta.Text != "" {
			onDelta(ev.Delta.Text)
		}
	}
	if err := stream.Err(); err != nil {
		return Response{}, p.error(ctx, err)
	}
	return anthropicResponse(&acc), nil
}

func anthropicParams(req Request) (anthropic.MessageNewParams, error) {
	params := anthropic.MessageNewParams{Model: anthropic.Model(req.Model), MaxTokens: anthropicDefaultMaxTokens}
	if req.MaxTokens > 0 {
		params.MaxTokens = int64(req.MaxTokens)
	}
	if req.System != "" {
		params.System = []anthropic.TextBlockParam{{Text: req.System}}
	}
	// Request.Temperature is not sent: this Messages API version has no
	// sampling temperature.
	// Tool results answer the previous assistant turn and must open the
	// next user turn, so consecutive tool and user messages become one
	// user message (the API would merge them anyway, but in its order).
	for _, m := range req.Messages {
		var block anthropic.ContentBlockParamUnion
		switch m.Role {
		case RoleAssistant:
			var blocks []anthropic.ContentBlockParamUnion
			if m.Content != "" {
				blocks = append(blocks, anthropic.NewTextBlock(m.Content))
			}
			for _, tc := range m.ToolCalls {
				var input any = map[string]any{}
				if len(tc.Arguments) > 0 && json.Valid(tc.Arguments) {
					input = json.RawMessage(tc.Arguments)
				}
				blocks = append(blocks, anthropic.NewToolUseBlock(tc.ID, input, tc.Name))
			}
			if len(blocks) == 0 {
				blocks = append(blocks, anthropic.NewTextBlock("(no answer)"))
			}
			params.Messages = append(params.Messages, anthropic.NewAssistantMessage(blocks...))
			continue
		case RoleTool:
			content := m.Content
			if content == "" {
				content = "(no output)"
			}
			block = anthropic.NewToolResultBlock(m.ToolCallID, content, m.IsError)
		case RoleUser:
			block = anthropic.NewTextBlock(m.Content)
		default:
			return params, fmt.Errorf("message role %q is not user, assistant or tool", m.Role)
		}
		if n := len(params.Messages); n > 0 && params.Messages[n-1].OfUser != nil {
			params.Messages[n-1].OfUser.Content = append(params.Messages[n-1].OfUser.Content, block)
		} else {
			params.Messages = append(params.Messages, anthropic.NewUserMessage(block))
		}
	}
	for _, t := range req.Tools {
		schema, err := anthropicSchema(t.Parameters)
		if err != nil {
			return params, fmt.Errorf("tool %s: %w", t.Name, err)
		}
		tp := anthropic.ToolParam{Name: t.Name, InputSchema: schema}
		if t.Description != "" {
			tp.Description = param.NewOpt(t.Description)
		}
		params.Tools = append(params.Tools, anthropic.ToolUnionParam{OfTool: &tp})
	}
	if len(req.Tools) > 0 {
		switch req.ToolChoice {
		case ToolNone:
			none := anthropic.NewToolChoiceNoneParam()
			params.ToolChoice = anthropic.ToolChoiceUnionParam{OfNone: &none}
		case ToolRequired:
			params.ToolChoice = anthropic.ToolChoiceUnionParam{OfAny: &anthropic.ToolChoiceAnyParam{}}
		}
	}
	return params, nil
}

// anthropicSchema splits a JSON schema object into the SDK's fields.
func anthropicSchema(raw json.RawMessage) (anthropic.ToolInputSchemaParam, error) {
	var s anthropic.ToolInputSchemaParam
	if len(raw) == 0 {
		return s, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return s, fmt.Errorf("parameters are not a JSON object: %w", err)
	}
	s.Properties = m["properties"]
	if req, ok := m["required"].([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				s.Required = append(s.Required, name)
			}
		}
	}
	for k, v := range m {
		if k == "properties" || k == "required" || k == "type" {
			continue
		}
		if s.ExtraFields == nil {
			s.ExtraFields = map[string]any{}
		}
		s.ExtraFields[k] = v
	}
	return s, nil
}

func anthropicResponse(m *anthropic.Message) Response {
	msg := Message{Role: RoleAssistant}
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			msg.Content += b.Text
		case "tool_use":
			msg.ToolCalls = append(msg.ToolCalls, ToolCall{ID: b.ID, Name: b.Name, Arguments: rawArgs(string(b.Input))})
		}
	}
	u := m.Usage
	usage := Usage{
		// Anthropic counts cache reads and writes apart from input_tokens;
		// Usage.InputTokens is everything read.
		InputTokens:       int(u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens),
		OutputTokens:      int(u.OutputTokens),
		CachedInputTokens: int(u.CacheReadInputTokens),
	}
	return Response{Message: msg, Usage: usage, StopReason: anthropicStop(m.StopReason, len(msg.ToolCalls) > 0), Model: string(m.Model)}
}

func anthropicStop(r anthropic.StopReason, hasCalls bool) string {
	switch r {
	case anthropic.StopReasonToolUse:
		return StopToolCalls
	case anthropic.StopReasonMaxTokens, anthropic.StopReasonModelContextWindowExceeded:
		return StopLength
	case anthropic.StopReasonRefusal:
		return StopFiltered
	}
	if hasCalls {
		return StopToolCalls
	}
	return StopEnd
}

// anthropicTypeStatus gives the HTTP status of an error type, for errors
// that arrive inside a stream whose status was 200.
var anthropicTypeStatus = map[string]int{
	"invalid_request_error": 400,
	"authentication_error":  401,
	"billing_error":         402,
	"permission_error":      403,
	"not_found_error":       404,
	"request_too_large":     413,
	"rate_limit_error":      429,
	"api_error":             500,
	"timeout_error":         504,
	"overloaded_error":      529,
}

func (p *Anthropic) error(ctx context.Context, err error) error {
	var ae *anthropic.Error
	if errors.As(err, &ae) {
		typ := string(ae.Type())
		status := ae.StatusCode
		if st, ok := anthropicTypeStatus[typ]; ok && (status == 0 || status == http.StatusOK) {
			status = st
		}
		msg := ae.Message
		if msg == "" {
			msg = rawErrorMessage(ae.RawJSON())
		}
		var h http.Header
		if ae.Response != nil && ae.StatusCode != http.StatusOK {
			h = ae.Response.Header
		}
		return httpError(p.Name(), status, "", typ, msg, h, err)
	}
	return transportError(p.Name(), ctx, err)
}
