package llm

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func conversation() Request {
	temp := 0.2
	return Request{
		System: "You investigate incidents.",
		Messages: []Message{
			{Role: RoleUser, Content: "Why is checkout down?"},
			{Role: RoleAssistant, Content: "Looking.", ToolCalls: []ToolCall{{ID: "call_1", Name: "kubernetes_get", Arguments: json.RawMessage(`{"kind":"pod"}`)}}},
			{Role: RoleTool, ToolCallID: "call_1", Name: "kubernetes_get", Content: "pod api-7d9 CrashLoopBackOff"},
		},
		Tools:       []ToolDef{{Name: "kubernetes_get", Description: "Get objects", Parameters: json.RawMessage(`{"type":"object","properties":{"kind":{"type":"string"}},"required":["kind"]}`)}},
		ToolChoice:  ToolRequired,
		MaxTokens:   512,
		Temperature: &temp,
	}
}

func TestOpenAIRequestWireFormat(t *testing.T) {
	t.Parallel()
	f := newFakeVendor(t, reply{file: "openai/chat_text.json"})
	p := NewOpenAI(OpenAIOptions{Name: "openai", BaseURL: f.URL() + "/v1", APIKey: "sk-test", MaxCompletionTokens: true})
	req := conversation()
	req.Model = "gpt-4.1"
	if _, err := p.Chat(testCtx(t), req, nil); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if r.path != "/v1/chat/completions" || r.header.Get("Authorization") != "Bearer sk-test" {
		t.Fatalf("path %s auth %q", r.path, r.header.Get("Authorization"))
	}
	var body struct {
		Model    string `json:"model"`
		Messages []struct {
			Role       string `json:"role"`
			Content    any    `json:"content"`
			ToolCallID string `json:"tool_call_id"`
			ToolCalls  []struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct{ Name, Arguments string }
			} `json:"tool_calls"`
		} `json:"messages"`
		Tools []struct {
			Type     string `json:"type"`
			Function struct {
				Name       string         `json:"name"`
				Parameters map[string]any `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
		ToolChoice  any      `json:"tool_choice"`
		MaxCT       int      `json:"max_completion_tokens"`
		MaxTokens   *int     `json:"max_tokens"`
		Temperature *float64 `json:"temperature"`
		Stream      bool     `json:"stream"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatal(err)
	}
	if body.Model != "gpt-4.1" || len(body.Messages) != 4 || body.Messages[0].Role != "system" || body.Messages[0].Content != "You investigate incidents." {
		t.Fatalf("messages: %s", r.body)
	}
	a := body.Messages[2]
	if a.Role != "assistant" || len(a.ToolCalls) != 1 || a.ToolCalls[0].ID != "call_1" || a.ToolCalls[0].Type != "function" || a.ToolCalls[0].Function.Arguments != `{"kind":"pod"}` {
		t.Fatalf("assistant message: %+v", a)
	}
	if tm := body.Messages[3]; tm.Role != "tool" || tm.ToolCallID != "call_1" || tm.Content != "pod api-7d9 CrashLoopBackOff" {
		t.Fatalf("tool message: %+v", tm)
	}
	if len(body.Tools) != 1 || body.Tools[0].Type != "function" || body.Tools[0].Function.Parameters["required"] == nil {
		t.Fatalf("tools: %+v", body.Tools)
	}
	if body.ToolChoice != "required" || body.MaxCT != 512 || body.MaxTokens != nil || body.Temperature == nil || *body.Temperature != 0.2 || body.Stream {
		t.Fatalf("options: %s", r.body)
	}
}

func TestOpenAIMaxTokensForCompatibleServers(t *testing.T) {
	t.Parallel()
	f := newFakeVendor(t, reply{file: "openai/chat_text.json"})
	p := NewOpenAI(OpenAIOptions{Name: "ollama", BaseURL: f.URL() + "/v1"})
	if _, err := p.Chat(testCtx(t), Request{Model: "llama3.1", Messages: []Message{{Role: RoleUser, Content: "hi"}}, MaxTokens: 7}, nil); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if !strings.Contains(r.body, `"max_tokens":7`) || strings.Contains(r.body, "max_completion_tokens") {
		t.Errorf("body %s", r.body)
	}
	if h := r.header.Get("Authorization"); h != "" {
		t.Errorf("no key configured, yet Authorization %q was sent", h)
	}
}

func TestOpenAIResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		file      string
		stream    bool
		text      string
		calls     []ToolCall
		usage     Usage
		stop      string
		model     string
		wantDelta string
	}{
		{name: "text", file: "openai/chat_text.json", text: "Hello! How can I assist you today?",
			usage: Usage{InputTokens: 19, OutputTokens: 10}, stop: StopEnd, model: "gpt-4.1-2025-04-14"},
		{name: "parallel tool calls", file: "openai/chat_tools.json",
			calls: []ToolCall{
				{ID: "call_DdmO9pD3xa9XTPNJ32zg2hcA", Name: "kubernetes_get", Arguments: json.RawMessage(`{"kind":"pod","namespace":"shop"}`)},
				{ID: "call_ABCD1234", Name: "prometheus_alerts", Arguments: json.RawMessage(`{}`)},
			},
			usage: Usage{InputTokens: 2006, OutputTokens: 300, CachedInputTokens: 1920}, stop: StopToolCalls, model: "gpt-4.1-2025-04-14"},
		{name: "refusal", file: "openai/chat_refusal.json", text: "I'm sorry, I cannot assist with that request.",
			usage: Usage{InputTokens: 81, OutputTokens: 11}, stop: StopFiltered, model: "gpt-4o-2024-08-06"},
		{name: "streamed text", file: "openai/stream_text.sse", stream: true, text: "Hello there", wantDelta: "Hello there",
			usage: Usage{InputTokens: 9, OutputTokens: 2}, stop: StopEnd, model: "gpt-4o-mini"},
		{name: "streamed parallel tool calls", file: "openai/stream_parallel_tools.sse", stream: true, text: "Checking both.", wantDelta: "Checking both.",
			calls: []ToolCall{
				{ID: "call_A1", Name: "kubernetes_logs", Arguments: json.RawMessage(`{"pod": "api-7d9"}`)},
				{ID: "call_B2", Name: "kubernetes_events", Arguments: json.RawMessage(`{"namespace": "shop"}`)},
			},
			usage: Usage{InputTokens: 812, OutputTokens: 41, CachedInputTokens: 512}, stop: StopToolCalls, model: "gpt-4.1-2025-04-14"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeVendor(t, reply{file: tc.file})
			p := NewOpenAI(OpenAIOptions{BaseURL: f.URL(), APIKey: "k"})
			var deltas strings.Builder
			var onDelta func(string)
			if tc.stream {
				onDelta = func(s string) { deltas.WriteString(s) }
			}
			resp, err := p.Chat(testCtx(t), Request{Model: "m", Messages: []Message{{Role: RoleUser, Content: "x"}}}, onDelta)
			if err != nil {
				t.Fatal(err)
			}
			checkResponse(t, resp, tc.text, tc.calls, tc.usage, tc.stop, tc.model)
			if deltas.String() != tc.wantDelta {
				t.Errorf("deltas %q, want %q", deltas.String(), tc.wantDelta)
			}
			if tc.stream {
				body := f.requests()[0].body
				if !strings.Contains(body, `"stream":true`) || !strings.Contains(body, `"include_usage":true`) {
					t.Errorf("stream request %s", body)
				}
			}
		})
	}
}

func checkResponse(t *testing.T, resp Response, text string, calls []ToolCall, usage Usage, stop, model string) {
	t.Helper()
	if resp.Message.Role != RoleAssistant || resp.Message.Content != text {
		t.Errorf("message %q (%s), want %q", resp.Message.Content, resp.Message.Role, text)
	}
	if len(resp.Message.ToolCalls) != len(calls) {
		t.Fatalf("tool calls %+v, want %+v", resp.Message.ToolCalls, calls)
	}
	for i, c := range calls {
		got := resp.Message.ToolCalls[i]
		if got.ID != c.ID || got.Name != c.Name || !jsonEqual(got.Arguments, c.Arguments) {
			t.Errorf("call %d = %s %s %s, want %s %s %s", i, got.ID, got.Name, got.Arguments, c.ID, c.Name, c.Arguments)
		}
	}
	if resp.Usage != usage {
		t.Errorf("usage %+v, want %+v", resp.Usage, usage)
	}
	if resp.StopReason != stop {
		t.Errorf("stop %q, want %q", resp.StopReason, stop)
	}
	if model != "" && resp.Model != model {
		t.Errorf("model %q, want %q", resp.Model, model)
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

func TestOpenAIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		provider   string
		status     int
		file       string
		header     map[string]string
		kind       ErrorKind
		msg        string
		retryAfter time.Duration
	}{
		{"bad key", "openai", 401, "openai/error_401.json", nil, ErrAuth, "(check OPENAI_API_KEY)", 0},
		{"unknown model", "openai", 404, "openai/error_404_model.json", nil, ErrUnknownModel, "does not exist", 0},
		{"rate limit", "openai", 429, "openai/error_429.json", map[string]string{"Retry-After": "3"}, ErrRateLimit, "Rate limit reached", 3 * time.Second},
		{"rate limit ms", "openai", 429, "openai/error_429.json", map[string]string{"retry-after-ms": "1500"}, ErrRateLimit, "Rate limit reached", 1500 * time.Millisecond},
		{"no quota", "openai", 429, "openai/error_429_quota.json", nil, ErrAuth, "no quota", 0},
		{"server", "openai", 500, "openai/error_500.json", nil, ErrServer, "server had an error", 0},
		{"overloaded", "openai", 503, "", nil, ErrServer, "", 0},
		{"context length", "openai", 400, "openai/error_400_context.json", nil, ErrBadRequest, "maximum context length", 0},
		{"ollama unknown model", "ollama", 404, "openai/error_ollama_404.json", nil, ErrUnknownModel, "try pulling it first", 0},
		{"openrouter unknown model", "openrouter", 400, "openai/error_openrouter_400.json", nil, ErrUnknownModel, "not a valid model ID", 0},
		{"wrong base URL", "openai", 404, "", nil, ErrBadRequest, "base URL", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := ""
			if tc.file == "" {
				body = "not json"
			}
			f := newFakeVendor(t, reply{status: tc.status, file: tc.file, body: body, header: tc.header})
			p := NewOpenAI(OpenAIOptions{Name: tc.provider, BaseURL: f.URL(), APIKey: "k"})
			_, err := p.Chat(testCtx(t), Request{Model: "m", Messages: []Message{{Role: RoleUser, Content: "x"}}}, nil)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not *llm.Error", err)
			}
			if e.Kind != tc.kind || e.Status != tc.status || e.Provider != tc.provider || !strings.Contains(e.Error(), tc.msg) || e.RetryAfter != tc.retryAfter {
				t.Errorf("got %v (kind %s, retry after %v), want kind %s status %d containing %q, retry after %v", e, e.Kind, e.RetryAfter, tc.kind, tc.status, tc.msg, tc.retryAfter)
			}
			if len(f.requests()) != 1 {
				t.Errorf("%d requests: the SDK must not retry by itself", len(f.requests()))
			}
		})
	}
}

func TestOpenAINetworkError(t *testing.T) {
	t.Parallel()
	f := newFakeVendor(t, reply{file: "openai/chat_text.json"})
	url := f.URL()
	f.srv.Close()
	p := NewOpenAI(OpenAIOptions{BaseURL: url, APIKey: "k"})
	_, err := p.Chat(testCtx(t), Request{Model: "m", Messages: []Message{{Role: RoleUser, Content: "x"}}}, nil)
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrNetwork || !e.Retryable() {
		t.Fatalf("got %v, want a retryable network error", err)
	}
}

func TestOpenAIStreamError(t *testing.T) {
	t.Parallel()
	f := newFakeVendor(t, reply{status: http.StatusTooManyRequests, file: "openai/error_429.json", header: map[string]string{"Retry-After": "1"}})
	p := NewOpenAI(OpenAIOptions{BaseURL: f.URL(), APIKey: "k"})
	_, err := p.Chat(testCtx(t), Request{Model: "m", Messages: []Message{{Role: RoleUser, Content: "x"}}}, func(string) {})
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrRateLimit || e.RetryAfter != time.Second {
		t.Fatalf("got %v, want rate_limit with Retry-After", err)
	}
}

// OpenRouter reports an upstream failure as an error event in a stream
// that began with HTTP 200.
func TestOpenAIMidStreamError(t *testing.T) {
	t.Parallel()
	f := newFakeVendor(t, reply{file: "openai/stream_error_openrouter.sse"})
	p := NewOpenAI(OpenAIOptions{Name: "openrouter", BaseURL: f.URL(), APIKey: "k"})
	_, err := p.Chat(testCtx(t), Request{Model: "anthropic/claude-sonnet-4.5", Messages: []Message{{Role: RoleUser, Content: "x"}}}, func(string) {})
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrServer || e.Status != 502 || !strings.Contains(e.Message, "Provider returned error") || !e.Retryable() {
		t.Fatalf("got %v, want a retryable server error 502", err)
	}
}

func TestOpenAIAssistantWithoutText(t *testing.T) {
	t.Parallel()
	f := newFakeVendor(t, reply{file: "openai/chat_text.json"})
	p := NewOpenAI(OpenAIOptions{BaseURL: f.URL(), APIKey: "k"})
	req := Request{Model: "m", Messages: []Message{{Role: RoleUser, Content: "x"}, {Role: RoleAssistant}, {Role: RoleUser, Content: "y"}}}
	if _, err := p.Chat(testCtx(t), req, nil); err != nil {
		t.Fatal(err)
	}
	if body := f.requests()[0].body; !strings.Contains(body, `{"content":"","role":"assistant"}`) {
		t.Errorf("an assistant message needs content or tool calls: %s", body)
	}
}
