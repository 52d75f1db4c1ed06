package llm

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// TestLiveOpenAICompatible runs a real OpenAI-compatible endpoint (OpenAI,
// Ollama's /v1, vLLM, llama.cpp, LM Studio, a proxy) through a tool call
// and its answer, streamed and not. Opt-in: it is skipped unless
// AURORA_TEST_LLM_BASE_URL is set, e.g.
//
//	AURORA_TEST_LLM_BASE_URL=http://localhost:11434/v1 AURORA_TEST_LLM_MODEL=qwen3:8b \
//	  go test -run TestLiveOpenAICompatible -v ./internal/llm/
//
// AURORA_TEST_LLM_API_KEY is sent when set.
func TestLiveOpenAICompatible(t *testing.T) {
	base := os.Getenv("AURORA_TEST_LLM_BASE_URL")
	if base == "" {
		t.Skip("AURORA_TEST_LLM_BASE_URL is not set: no live model to test")
	}
	model := os.Getenv("AURORA_TEST_LLM_MODEL")
	if model == "" {
		t.Fatal("AURORA_TEST_LLM_MODEL must name the model to use at AURORA_TEST_LLM_BASE_URL")
	}
	r, err := NewRouter(Config{Mode: ProviderOpenAI, OpenAIBaseURL: base, OpenAIAPIKey: os.Getenv("AURORA_TEST_LLM_API_KEY"), MainModel: model, Timeout: 3 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := r.Model(PurposeChat)
	tool := ToolDef{
		Name:        "pod_status",
		Description: "Returns the status of a Kubernetes pod.",
		Parameters:  json.RawMessage(`{"type":"object","properties":{"namespace":{"type":"string"},"pod":{"type":"string"}},"required":["namespace","pod"]}`),
	}
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "whole", true: "streamed"}[stream], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			var deltas strings.Builder
			var onDelta func(string)
			if stream {
				onDelta = func(s string) { deltas.WriteString(s) }
			}
			req := Request{
				System:     "You answer questions about a Kubernetes cluster using the tools you are given.",
				Messages:   []Message{{Role: RoleUser, Content: "What is the status of pod api-7d9 in namespace shop?"}},
				Tools:      []ToolDef{tool},
				ToolChoice: ToolRequired,
				MaxTokens:  1024,
			}
			resp, err := m.Chat(ctx, req, onDelta)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Message.ToolCalls) == 0 || resp.StopReason != StopToolCalls {
				t.Fatalf("want a tool call, got %+v", resp)
			}
			call := resp.Message.ToolCalls[0]
			var args struct{ Namespace, Pod string }
			if call.Name != tool.Name || json.Unmarshal(call.Arguments, &args) != nil || args.Pod == "" {
				t.Fatalf("call %s %s", call.Name, call.Arguments)
			}
			if resp.Usage.InputTokens == 0 || resp.Usage.OutputTokens == 0 {
				t.Errorf("no usage: %+v", resp.Usage)
			}
			req.Messages = append(req.Messages, resp.Message, Message{Role: RoleTool, ToolCallID: call.ID, Name: call.Name,
				Content: `{"phase":"Running","ready":false,"reason":"CrashLoopBackOff","restarts":12}`})
			req.ToolChoice = ToolNone
			deltas.Reset()
			resp, err = m.Chat(ctx, req, onDelta)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.ToLower(resp.Message.Content), "crash") {
				t.Errorf("answer does not use the tool result: %q", resp.Message.Content)
			}
			if stream && deltas.String() != resp.Message.Content {
				t.Errorf("streamed %q, answer %q", deltas.String(), resp.Message.Content)
			}
			t.Logf("%s: %q (usage %+v, stop %s)", resp.Model, resp.Message.Content, resp.Usage, resp.StopReason)
		})
	}
}
