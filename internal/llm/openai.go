package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"
)

// OpenAIOptions configure an OpenAI-compatible chat-completions provider.
type OpenAIOptions struct {
	// Name is the routing name: openai, openrouter or ollama.
	Name string
	// BaseURL ends before /chat/completions, e.g.
	// "https://api.openai.com/v1" or "http://localhost:11434/v1".
	BaseURL string
	// APIKey may be empty for servers without auth (Ollama, a local vLLM).
	APIKey     string
	HTTPClient *http.Client
	// MaxCompletionTokens sends the bound as max_completion_tokens, which
	// OpenAI's reasoning models require, instead of max_tokens, which
	// other servers understand.
	MaxCompletionTokens bool
	// Headers are added to every request (OpenRouter's attribution).
	Headers map[string]string
}

// OpenAI speaks the OpenAI chat-completions API through the official SDK:
// OpenAI itself, OpenRouter, Ollama's /v1, vLLM, llama.cpp and LM Studio.
type OpenAI struct {
	name   string
	maxCT  bool
	client openai.ChatCompletionService
}

// NewOpenAI returns the provider. The SDK's own retries are off (WithRetry
// does them) and nothing is read from the environment: configuration
// comes only from o.
func NewOpenAI(o OpenAIOptions) *OpenAI {
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	opts := []option.RequestOption{
		option.WithBaseURL(o.BaseURL),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0),
	}
	if o.APIKey != "" {
		opts = append(opts, option.WithAPIKey(o.APIKey))
	}
	for k, v := range o.Headers {
		opts = append(opts, option.WithHeader(k, v))
	}
	name := o.Name
	if name == "" {
		name = "openai"
	}
	return &OpenAI{name: name, maxCT: o.MaxCompletionTokens, client: openai.NewChatCompletionService(opts...)}
}

// Name is the routing name.
func (p *OpenAI) Name() string { return p.name }

// Chat sends one chat completion, streamed when onDelta is set.
func (p *OpenAI) Chat(ctx context.Context, req Request, onDelta func(string)) (Response, error) {
	params, err := p.params(req)
	if err != nil {
		return Response{}, &Error{Provider: p.name, Kind: ErrBadRequest, Message: err.Error(), Err: err}
	}
	if onDelta == nil {
		c, err := p.client.New(ctx, params)
		if err != nil {
			return Response{}, p.error(ctx, err)
		}
		return p.response(c)
	}
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: param.NewOpt(true)}
	stream := p.client.NewStreaming(ctx, params)
	defer stream.Close()
	var acc streamAcc
	for stream.Next() {
		ch := stream.Current()
		if ch.Model != "" {
			acc.model = ch.Model
		}
		if ch.JSON.Usage.Valid() && (ch.Usage.PromptTokens != 0 || ch.Usage.CompletionTokens != 0) {
			acc.usage = openaiUsage(ch.Usage)
		}
		for _, c := range ch.Choices {
			if c.Index != 0 {
				continue
			}
			if c.Delta.Content != "" {
				acc.text.WriteString(c.Delta.Content)
				onDelta(c.Delta.Content)
			}
			acc.refusal.WriteString(c.Delta.Refusal)
			for _, tc := range c.Delta.ToolCalls {
				acc.toolDelta(int(tc.Index), tc.ID, tc.Function.Name, tc.Function.Arguments)
			}
			if c.FinishReason != "" {
				acc.finish = c.FinishReason
			}
		}
	}
	if err := stream.Err(); err != nil {
		return Response{}, p.error(ctx, err)
	}
	msg := Message{Role: RoleAssistant, Content: acc.text.String(), ToolCalls: acc.calls()}
	stop := openaiStop(acc.finish, len(msg.ToolCalls) > 0)
	if acc.refusal.Len() > 0 && msg.Content == "" {
		msg.Content, stop = acc.refusal.String(), StopFiltered
	}
	return Response{Message: msg, Usage: acc.usage, StopReason: stop, Model: acc.model}, nil
}

// streamAcc assembles streamed tool calls: the first delta of a call
// carries its index, id and name; later deltas of the same index append
// argument text. Parallel calls interleave by index.
type streamAcc struct {
	text    strings.Builder
	refusal strings.Builder
	byIdx   map[int]*ToolCall
	args    map[int]*strings.Builder
	finish  string
	usage   Usage
	model   string
}

func (a *streamAcc) toolDelta(idx int, id, name, args string) {
	if a.byIdx == nil {
		a.byIdx, a.args = map[int]*ToolCall{}, map[int]*strings.Builder{}
	}
	tc, ok := a.byIdx[idx]
	if !ok {
		tc = &ToolCall{}
		a.byIdx[idx], a.args[idx] = tc, &strings.Builder{}
	}
	if id != "" {
		tc.ID = id
	}
	if name != "" {
		tc.Name += name
	}
	a.args[idx].WriteString(args)
}

func (a *streamAcc) calls() []ToolCall {
	if len(a.byIdx) == 0 {
		return nil
	}
	idx := make([]int, 0, len(a.byIdx))
	for i := range a.byIdx {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	out := make([]ToolCall, 0, len(idx))
	for _, i := range idx {
		tc := *a.byIdx[i]
		tc.Arguments = rawArgs(a.args[i].String())
		if tc.ID == "" {
			tc.ID = fmt.Sprintf("call_%d", i)
		}
		out = append(out, tc)
	}
	return out
}

// rawArgs keeps the model's argument text; an empty string (a call with
// no arguments) becomes {} so that it is valid JSON.
func rawArgs(s string) json.RawMessage {
	if strings.TrimSpace(s) == "" {
		return json.RawMessage("{}")
	}
	return json.RawMessage(s)
}

func (p *OpenAI) params(req Request) (openai.ChatCompletionNewParams, error) {
	var msgs []openai.ChatCompletionMessageParamUnion
	if req.System != "" {
		msgs = append(msgs, openai.SystemMessage(req.System))
	}
	for _, m := range req.Messages {
		switch m.Role {
		case RoleUser:
			msgs = append(msgs, openai.UserMessage(m.Content))
		case RoleAssistant:
			var a openai.ChatCompletionAssistantMessageParam
			if m.Content != "" || len(m.ToolCalls) == 0 {
				// Content may be absent only when there are tool calls.
				a.Content.OfString = param.NewOpt(m.Content)
			}
			for _, tc := range m.ToolCalls {
				a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
						ID: tc.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{
							Name: tc.Name, Arguments: string(argsOrEmpty(tc.Arguments)),
						},
					},
				})
			}
			msgs = append(msgs, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		case RoleTool:
			msgs = append(msgs, openai.ToolMessage(m.Content, m.ToolCallID))
		default:
			return openai.ChatCompletionNewParams{}, fmt.Errorf("message role %q is not user, assistant or tool", m.Role)
		}
	}
	params := openai.ChatCompletionNewParams{Model: shared.ChatModel(req.Model), Messages: msgs}
	for _, t := range req.Tools {
		var schema map[string]any
		if len(t.Parameters) > 0 {
			if err := json.Unmarshal(t.Parameters, &schema); err != nil {
				return params, fmt.Errorf("tool %s: parameters are not a JSON object: %w", t.Name, err)
			}
		}
		fd := shared.FunctionDefinitionParam{Name: t.Name, Parameters: schema}
		if t.Description != "" {
			fd.Description = param.NewOpt(t.Description)
		}
		params.Tools = append(params.Tools, openai.ChatCompletionFunctionTool(fd))
	}
	if len(req.Tools) > 0 {
		switch req.ToolChoice {
		case ToolNone:
			params.ToolChoice.OfAuto = param.NewOpt("none")
		case ToolRequired:
			params.ToolChoice.OfAuto = param.NewOpt("required")
		}
	}
	if req.MaxTokens > 0 {
		if p.maxCT {
			params.MaxCompletionTokens = param.NewOpt(int64(req.MaxTokens))
		} else {
			params.MaxTokens = param.NewOpt(int64(req.MaxTokens))
		}
	}
	if req.Temperature != nil {
		params.Temperature = param.NewOpt(*req.Temperature)
	}
	return params, nil
}

func argsOrEmpty(a json.RawMessage) json.RawMessage {
	if len(a) == 0 {
		return json.RawMessage("{}")
	}
	return a
}

func (p *OpenAI) response(c *openai.ChatCompletion) (Response, error) {
	if len(c.Choices) == 0 {
		return Response{}, &Error{Provider: p.name, Kind: ErrServer, Message: "the answer has no choices"}
	}
	ch := c.Choices[0]
	msg := Message{Role: RoleAssistant, Content: ch.Message.Content}
	for i, tc := range ch.Message.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			continue
		}
		id := tc.ID
		if id == "" {
			id = fmt.Sprintf("call_%d", i)
		}
		msg.ToolCalls = append(msg.ToolCalls, ToolCall{ID: id, Name: tc.Function.Name, Arguments: rawArgs(tc.Function.Arguments)})
	}
	stop := openaiStop(ch.FinishReason, len(msg.ToolCalls) > 0)
	if ch.Message.Refusal != "" && msg.Content == "" {
		// A refusal is the model declining: shown as its answer, stopped
		// as by a filter.
		msg.Content, stop = ch.Message.Refusal, StopFiltered
	}
	return Response{Message: msg, Usage: openaiUsage(c.Usage), StopReason: stop, Model: c.Model}, nil
}

func openaiUsage(u openai.CompletionUsage) Usage {
	return Usage{InputTokens: int(u.PromptTokens), OutputTokens: int(u.CompletionTokens), CachedInputTokens: int(u.PromptTokensDetails.CachedTokens)}
}

// openaiStop normalises finish_reason. Some compatible servers (older
// Ollama, llama.cpp) answer "stop" even with tool calls.
func openaiStop(reason string, hasCalls bool) string {
	switch reason {
	case "length":
		return StopLength
	case "content_filter":
		return StopFiltered
	case "tool_calls", "function_call":
		return StopToolCalls
	}
	if hasCalls {
		return StopToolCalls
	}
	return StopEnd
}

func (p *OpenAI) error(ctx context.Context, err error) error {
	var ae *openai.Error
	if errors.As(err, &ae) {
		msg := ae.Message
		code, typ := ae.Code, ae.Type
		if msg == "" {
			// Servers that do not use OpenAI's {"error":{…}} shape
			// (Ollama answers {"error":"…"}) leave the fields empty.
			msg = rawErrorMessage(ae.RawJSON())
		}
		var h http.Header
		if ae.Response != nil {
			h = ae.Response.Header
		}
		return httpError(p.name, ae.StatusCode, code, typ, msg, h, err)
	}
	var se *ssestream.StreamError
	if errors.As(err, &se) {
		return p.streamError(se, err)
	}
	return transportError(p.name, ctx, err)
}

// streamError maps an error event inside a stream whose HTTP status was
// 200 (OpenRouter reports upstream failures so): its code is an HTTP status
// when numeric; without one it counts as a server failure.
func (p *OpenAI) streamError(se *ssestream.StreamError, err error) error {
	var v struct {
		Error struct {
			Code    json.RawMessage `json:"code"`
			Type    string          `json:"type"`
			Message string          `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(se.Event.Data, &v)
	status := http.StatusInternalServerError
	var code string
	var n int
	if json.Unmarshal(v.Error.Code, &n) == nil && n >= 400 {
		status = n
	} else if json.Unmarshal(v.Error.Code, &code) != nil {
		code = ""
	}
	msg := v.Error.Message
	if msg == "" {
		msg = se.Message
	}
	return httpError(p.name, status, code, v.Error.Type, msg, nil, err)
}

// rawErrorMessage digs a message out of an error body of unknown shape.
func rawErrorMessage(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  string          `json:"detail"`
	}
	if json.Unmarshal([]byte(raw), &v) == nil {
		var s string
		if json.Unmarshal(v.Error, &s) == nil && s != "" {
			return s
		}
		var o struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(v.Error, &o) == nil && o.Message != "" {
			return o.Message
		}
		if v.Message != "" {
			return v.Message
		}
		if v.Detail != "" {
			return v.Detail
		}
	}
	if len(raw) > 300 {
		raw = raw[:300] + "…"
	}
	return raw
}
