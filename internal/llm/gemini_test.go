package llm

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func newTestGemini(t *testing.T, f *fakeVendor) *Gemini {
	t.Helper()
	p, err := NewGemini(testCtx(t), GeminiOptions{APIKey: "AIza-test", BaseURL: f.URL()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGeminiRequestWireFormat(t *testing.T) {
	t.Parallel()
	f := newFakeVendor(t, reply{file: "gemini/generate_text.json"})
	p := newTestGemini(t, f)
	req := conversation()
	req.Model = "gemini-2.5-pro"
	req.Messages[1].ToolCalls[0].Signature = []byte("sig-1")
	// A call whose id was made up here (the API sent none) and its answer.
	req.Messages[1].ToolCalls = append(req.Messages[1].ToolCalls, ToolCall{ID: generatedIDPrefix + "x", Name: "kubernetes_events", Arguments: json.RawMessage(`{}`)})
	req.Messages = append(req.Messages, Message{Role: RoleTool, ToolCallID: generatedIDPrefix + "x", Name: "kubernetes_events", Content: "forbidden", IsError: true})
	if _, err := p.Chat(testCtx(t), req, nil); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if r.path != "/v1beta/models/gemini-2.5-pro:generateContent" || r.header.Get("X-Goog-Api-Key") != "AIza-test" {
		t.Fatalf("path %s headers %v", r.path, r.header)
	}
	var body struct {
		Contents []struct {
			Role  string `json:"role"`
			Parts []struct {
				Text         string `json:"text"`
				FunctionCall *struct {
					ID   string         `json:"id"`
					Name string         `json:"name"`
					Args map[string]any `json:"args"`
				} `json:"functionCall"`
				FunctionResponse *struct {
					ID       string         `json:"id"`
					Name     string         `json:"name"`
					Response map[string]any `json:"response"`
				} `json:"functionResponse"`
				ThoughtSignature string `json:"thoughtSignature"`
			} `json:"parts"`
		} `json:"contents"`
		SystemInstruction struct {
			Parts []struct{ Text string } `json:"parts"`
		} `json:"systemInstruction"`
		Tools []struct {
			FunctionDeclarations []struct {
				Name                 string         `json:"name"`
				ParametersJSONSchema map[string]any `json:"parametersJsonSchema"`
			} `json:"functionDeclarations"`
		} `json:"tools"`
		ToolConfig struct {
			FunctionCallingConfig struct{ Mode string } `json:"functionCallingConfig"`
		} `json:"toolConfig"`
		GenerationConfig struct {
			MaxOutputTokens int     `json:"maxOutputTokens"`
			Temperature     float64 `json:"temperature"`
		} `json:"generationConfig"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.SystemInstruction.Parts) != 1 || body.SystemInstruction.Parts[0].Text != "You investigate incidents." {
		t.Fatalf("system %s", r.body)
	}
	if len(body.Contents) != 3 || body.Contents[0].Role != "user" || body.Contents[1].Role != "model" || body.Contents[2].Role != "user" {
		t.Fatalf("contents %s", r.body)
	}
	m := body.Contents[1].Parts
	if len(m) != 3 || m[1].FunctionCall == nil || m[1].FunctionCall.ID != "call_1" || m[1].FunctionCall.Args["kind"] != "pod" || m[1].ThoughtSignature == "" ||
		m[2].FunctionCall.ID != "" {
		t.Fatalf("model turn %s", r.body)
	}
	u := body.Contents[2].Parts
	if len(u) != 2 || u[0].FunctionResponse.Name != "kubernetes_get" || u[0].FunctionResponse.Response["output"] != "pod api-7d9 CrashLoopBackOff" ||
		u[1].FunctionResponse.ID != "" || u[1].FunctionResponse.Response["error"] != "forbidden" {
		t.Fatalf("function responses %s", r.body)
	}
	if len(body.Tools) != 1 || body.Tools[0].FunctionDeclarations[0].ParametersJSONSchema["type"] != "object" ||
		body.ToolConfig.FunctionCallingConfig.Mode != "ANY" || body.GenerationConfig.MaxOutputTokens != 512 {
		t.Fatalf("config %s", r.body)
	}
}

func TestGeminiNeedsToolName(t *testing.T) {
	t.Parallel()
	f := newFakeVendor(t, reply{file: "gemini/generate_text.json"})
	_, err := newTestGemini(t, f).Chat(testCtx(t), Request{Model: "m", Messages: []Message{{Role: RoleTool, ToolCallID: "x", Content: "out"}}}, nil)
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrBadRequest || len(f.requests()) != 0 {
		t.Fatalf("got %v", err)
	}
}

func TestGeminiResponses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		file   string
		stream bool
		text   string
		calls  []ToolCall
		usage  Usage
		stop   string
		model  string
	}{
		{name: "text", file: "gemini/generate_text.json", text: "The pod is crash looping because its config map is missing.",
			usage: Usage{InputTokens: 8, OutputTokens: 12}, stop: StopEnd, model: "gemini-2.5-flash"},
		{name: "parallel function calls", file: "gemini/generate_tools.json",
			calls: []ToolCall{
				{Name: "kubernetes_get", Arguments: json.RawMessage(`{"kind":"pod","namespace":"shop"}`)},
				{Name: "prometheus_alerts", Arguments: json.RawMessage(`{}`)},
			},
			usage: Usage{InputTokens: 1200, OutputTokens: 140, CachedInputTokens: 1024}, stop: StopToolCalls, model: "gemini-2.5-pro"},
		{name: "streamed function calls", file: "gemini/stream_tools.sse", stream: true, text: "Let me look at both.",
			calls: []ToolCall{
				{Name: "kubernetes_logs", Arguments: json.RawMessage(`{"pod":"api-7d9"}`)},
				{Name: "kubernetes_events", Arguments: json.RawMessage(`{"namespace":"shop"}`)},
			},
			usage: Usage{InputTokens: 300, OutputTokens: 30, CachedInputTokens: 128}, stop: StopToolCalls, model: "gemini-2.5-flash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeVendor(t, reply{file: tc.file})
			p := newTestGemini(t, f)
			var deltas []string
			var onDelta func(string)
			if tc.stream {
				onDelta = func(s string) { deltas = append(deltas, s) }
			}
			resp, err := p.Chat(testCtx(t), Request{Model: "gemini-2.5-flash", Messages: []Message{{Role: RoleUser, Content: "x"}}}, onDelta)
			if err != nil {
				t.Fatal(err)
			}
			// Gemini sends no call ids: they are made up, unique, and
			// marked so that they are not sent back.
			ids := map[string]bool{}
			for i := range resp.Message.ToolCalls {
				id := resp.Message.ToolCalls[i].ID
				if !strings.HasPrefix(id, generatedIDPrefix) || ids[id] {
					t.Errorf("call id %q", id)
				}
				ids[id] = true
				tc.calls[i].ID = id
			}
			checkResponse(t, resp, tc.text, tc.calls, tc.usage, tc.stop, tc.model)
			if tc.stream {
				if strings.Join(deltas, "") != tc.text || len(deltas) != 2 {
					t.Errorf("deltas %q", deltas)
				}
				if r := f.requests()[0]; !strings.HasSuffix(r.path, ":streamGenerateContent") || !strings.Contains(r.query, "alt=sse") {
					t.Errorf("stream request %s?%s", r.path, r.query)
				}
			}
			if tc.name == "parallel function calls" && string(resp.Message.ToolCalls[0].Signature) != "signature-a" {
				t.Errorf("thought signature %q not kept", resp.Message.ToolCalls[0].Signature)
			}
		})
	}
}

func TestGeminiErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		file       string
		kind       ErrorKind
		msg        string
		retryAfter time.Duration
	}{
		{"bad key", 400, "gemini/error_400_key.json", ErrAuth, "API key not valid. Please pass a valid API key. (check GOOGLE_AI_API_KEY)", 0},
		{"forbidden", 403, "gemini/error_403.json", ErrAuth, "(check GOOGLE_AI_API_KEY)", 0},
		{"unknown model", 404, "gemini/error_404.json", ErrUnknownModel, "gemini-9-pro is not found", 0},
		{"rate limit", 429, "gemini/error_429.json", ErrRateLimit, "exceeded your current quota", 37 * time.Second},
		{"server", 500, "gemini/error_500.json", ErrServer, "internal error", 0},
		{"overloaded", 503, "gemini/error_503.json", ErrServer, "overloaded", 0},
		{"context length", 400, "gemini/error_400_context.json", ErrBadRequest, "exceeds the maximum number of tokens", 0},
	}
	for _, tc := range tests {
		for _, stream := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				f := newFakeVendor(t, reply{status: tc.status, file: tc.file})
				var onDelta func(string)
				if stream {
					onDelta = func(string) {}
				}
				_, err := newTestGemini(t, f).Chat(testCtx(t), Request{Model: "m", Messages: []Message{{Role: RoleUser, Content: "x"}}}, onDelta)
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v is not *llm.Error", err)
				}
				if e.Kind != tc.kind || e.Status != tc.status || !strings.Contains(e.Error(), tc.msg) || e.RetryAfter != tc.retryAfter {
					t.Errorf("got %v (kind %s, retry after %v), want kind %s containing %q", e, e.Kind, e.RetryAfter, tc.kind, tc.msg)
				}
				if len(f.requests()) != 1 {
					t.Errorf("%d requests: the SDK must not retry by itself", len(f.requests()))
				}
			})
		}
	}
}
