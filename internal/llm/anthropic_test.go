package llm

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAnthropicRequestWireFormat(t *testing.T) {
	t.Parallel()
	f := newFakeVendor(t, reply{file: "anthropic/message_text.json"})
	p := NewAnthropic(AnthropicOptions{APIKey: "sk-ant-test", BaseURL: f.URL()})
	req := conversation()
	req.Model = "claude-sonnet-4-5"
	// Two tool results and a user remark after them: one user turn.
	req.Messages[1].ToolCalls = append(req.Messages[1].ToolCalls, ToolCall{ID: "call_2", Name: "kubernetes_events", Arguments: json.RawMessage(`{}`)})
	req.Messages = append(req.Messages,
		Message{Role: RoleTool, ToolCallID: "call_2", Name: "kubernetes_events", Content: "forbidden", IsError: true},
		Message{Role: RoleUser, Content: "Be brief."})
	if _, err := p.Chat(testCtx(t), req, nil); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	// The SDK sends the key as a bearer token; older ones used X-Api-Key.
	keySent := r.header.Get("X-Api-Key") == "sk-ant-test" || r.header.Get("Authorization") == "Bearer sk-ant-test"
	if r.path != "/v1/messages" || !keySent || r.header.Get("Anthropic-Version") == "" {
		t.Fatalf("path %s headers %v", r.path, r.header)
	}
	var body struct {
		Model     string `json:"model"`
		MaxTokens int    `json:"max_tokens"`
		System    []struct {
			Type, Text string
		} `json:"system"`
		Messages []struct {
			Role    string `json:"role"`
			Content []struct {
				Type      string          `json:"type"`
				Text      string          `json:"text"`
				ID        string          `json:"id"`
				Name      string          `json:"name"`
				Input     json.RawMessage `json:"input"`
				ToolUseID string          `json:"tool_use_id"`
				IsError   bool            `json:"is_error"`
			} `json:"content"`
		} `json:"messages"`
		Tools []struct {
			Name        string         `json:"name"`
			InputSchema map[string]any `json:"input_schema"`
		} `json:"tools"`
		ToolChoice struct{ Type string } `json:"tool_choice"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatal(err)
	}
	if body.Model != "claude-sonnet-4-5" || body.MaxTokens != 512 || len(body.System) != 1 || body.System[0].Text != "You investigate incidents." {
		t.Fatalf("body %s", r.body)
	}
	if len(body.Messages) != 3 {
		t.Fatalf("want user, assistant, user turns; body %s", r.body)
	}
	a := body.Messages[1]
	if a.Role != "assistant" || len(a.Content) != 3 || a.Content[1].Type != "tool_use" || a.Content[1].ID != "call_1" || !jsonEqual(a.Content[1].Input, json.RawMessage(`{"kind":"pod"}`)) {
		t.Fatalf("assistant turn %+v", a)
	}
	u := body.Messages[2]
	if u.Role != "user" || len(u.Content) != 3 || u.Content[0].Type != "tool_result" || u.Content[0].ToolUseID != "call_1" ||
		u.Content[1].ToolUseID != "call_2" || !u.Content[1].IsError || u.Content[2].Type != "text" || u.Content[2].Text != "Be brief." {
		t.Fatalf("user turn %+v", u)
	}
	if len(body.Tools) != 1 || body.Tools[0].InputSchema["type"] != "object" || body.Tools[0].InputSchema["required"] == nil || body.ToolChoice.Type != "any" {
		t.Fatalf("tools %s", r.body)
	}
}

func TestAnthropicResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		file   string
		stream bool
		text   string
		calls  []ToolCall
		usage  Usage
		stop   string
	}{
		{name: "text", file: "anthropic/message_text.json", text: "Hi! My name is Claude.", usage: Usage{InputTokens: 2095, OutputTokens: 503}, stop: StopEnd},
		{name: "parallel tool use", file: "anthropic/message_tools.json", text: "I'll check the pod and its events.",
			calls: []ToolCall{
				{ID: "toolu_01A09q90qw90lq917835lq9", Name: "kubernetes_get", Arguments: json.RawMessage(`{"kind":"pod","namespace":"shop"}`)},
				{ID: "toolu_01B77x", Name: "kubernetes_events", Arguments: json.RawMessage(`{}`)},
			},
			usage: Usage{InputTokens: 3895, OutputTokens: 503, CachedInputTokens: 1800}, stop: StopToolCalls},
		{name: "streamed parallel tool use", file: "anthropic/stream_tools.sse", stream: true, text: "Okay, let's check both.",
			calls: []ToolCall{
				{ID: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", Name: "kubernetes_logs", Arguments: json.RawMessage(`{"pod":"api-7d9","previous":true}`)},
				{ID: "toolu_02AbC", Name: "kubernetes_events", Arguments: json.RawMessage(`{"namespace":"shop"}`)},
			},
			usage: Usage{InputTokens: 872, OutputTokens: 89, CachedInputTokens: 400}, stop: StopToolCalls},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeVendor(t, reply{file: tc.file})
			p := NewAnthropic(AnthropicOptions{APIKey: "k", BaseURL: f.URL()})
			var deltas []string
			var onDelta func(string)
			if tc.stream {
				onDelta = func(s string) { deltas = append(deltas, s) }
			}
			resp, err := p.Chat(testCtx(t), Request{Model: "claude-sonnet-4-5", Messages: []Message{{Role: RoleUser, Content: "x"}}}, onDelta)
			if err != nil {
				t.Fatal(err)
			}
			checkResponse(t, resp, tc.text, tc.calls, tc.usage, tc.stop, "")
			if tc.stream && strings.Join(deltas, "") != tc.text {
				t.Errorf("deltas %q", deltas)
			}
			if tc.stream && len(deltas) < 2 {
				t.Errorf("text arrived in %d deltas, want it streamed", len(deltas))
			}
		})
	}
}

func TestAnthropicErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		file       string
		stream     bool
		header     map[string]string
		kind       ErrorKind
		msg        string
		retryAfter time.Duration
	}{
		{"bad key", 401, "anthropic/error_401.json", false, nil, ErrAuth, "invalid x-api-key", 0},
		{"unknown model", 404, "anthropic/error_404.json", false, nil, ErrUnknownModel, "claude-sonnet-9", 0},
		{"rate limit", 429, "anthropic/error_429.json", false, map[string]string{"Retry-After": "7"}, ErrRateLimit, "rate limit", 7 * time.Second},
		{"server", 500, "anthropic/error_500.json", false, nil, ErrServer, "Internal server error", 0},
		{"overloaded", 529, "anthropic/error_529.json", false, nil, ErrServer, "Overloaded", 0},
		{"context length", 400, "anthropic/error_400_context.json", false, nil, ErrBadRequest, "prompt is too long", 0},
		{"overloaded mid-stream", 200, "anthropic/stream_overloaded.sse", true, nil, ErrServer, "Overloaded", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeVendor(t, reply{status: tc.status, file: tc.file, header: tc.header})
			p := NewAnthropic(AnthropicOptions{APIKey: "k", BaseURL: f.URL()})
			var onDelta func(string)
			if tc.stream {
				onDelta = func(string) {}
			}
			_, err := p.Chat(testCtx(t), Request{Model: "m", Messages: []Message{{Role: RoleUser, Content: "x"}}}, onDelta)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not *llm.Error", err)
			}
			if e.Kind != tc.kind || e.Provider != "anthropic" || !strings.Contains(e.Error(), tc.msg) || e.RetryAfter != tc.retryAfter {
				t.Errorf("got %v (kind %s, retry after %v), want kind %s containing %q", e, e.Kind, e.RetryAfter, tc.kind, tc.msg)
			}
			if len(f.requests()) != 1 {
				t.Errorf("%d requests: the SDK must not retry by itself", len(f.requests()))
			}
		})
	}
}
