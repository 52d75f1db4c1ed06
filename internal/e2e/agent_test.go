package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// chatCompletions is an OpenAI-compatible server written from the Chat
// Completions wire format (POST {base}/chat/completions, non-streamed
// answer with choices[0].message.tool_calls and usage). It answers each
// request with the next of replies, a function of the request.
type chatCompletions struct {
	mu      sync.Mutex
	t       *testing.T
	replies []func(req map[string]any) map[string]any
	seen    []map[string]any
}

func (c *chatCompletions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-test-e2e" {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"message":"not found","type":"invalid_request_error"}}`))
		return
	}
	var req map[string]any
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	n := len(c.seen)
	c.seen = append(c.seen, req)
	c.mu.Unlock()
	if n >= len(c.replies) {
		c.t.Errorf("unexpected model call %d", n+1)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":{"message":"script exhausted","type":"invalid_request_error"}}`))
		return
	}
	msg := c.replies[n](req)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": fmt.Sprintf("chatcmpl-%d", n), "object": "chat.completion", "created": time.Now().Unix(), "model": "gpt-e2e",
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": "tool_calls", "logprobs": nil}},
		"usage":   map[string]any{"prompt_tokens": 1200, "completion_tokens": 80, "total_tokens": 1280},
	})
}

func (c *chatCompletions) requests() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]map[string]any(nil), c.seen...)
}

func submitCall(id string, report map[string]any) map[string]any {
	args, _ := json.Marshal(report)
	return map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
		"id": id, "type": "function", "function": map[string]any{"name": "submit_report", "arguments": string(args)}}}}
}

// TestAgentInvestigationOpenAICompatible: with OPENAI_BASE_URL, OPENAI_API_KEY
// and RCA_MODEL set, a webhook alert's investigation runs the agent against
// the model's API and stores its cited report; a claim citing no step is
// sent back and then corrected.
func TestAgentInvestigationOpenAICompatible(t *testing.T) {
	t.Parallel()
	report := func(cite int) map[string]any {
		return map[string]any{"verdict": "LIKELY", "summary": "Checkout latency is high [1].", "confidence": 0.4,
			"root_cause": map[string]any{"category": "latency", "object": "service/checkout", "summary": "checkout answers slowly"},
			"findings":   []any{map[string]any{"text": "HighLatency fires for checkout", "citations": []int{cite}}},
			"next_steps": []any{map[string]any{"title": "Look at checkout's latency dashboard", "risk": "safe"}}}
	}
	model := &chatCompletions{t: t, replies: []func(map[string]any) map[string]any{
		func(map[string]any) map[string]any { return submitCall("call_1", report(42)) },
		func(map[string]any) map[string]any { return submitCall("call_2", report(1)) },
	}}
	srv := httptest.NewServer(model)
	defer srv.Close()
	p, _ := startAll(t, embedded, testenv.Env{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "sk-test-e2e", "RCA_MODEL": "gpt-e2e",
		"LLM_PROVIDER_MODE": "openai"})
	res := postAlerts(t, p.URL, testenv.AdminToken, "generic", genericAlert("Checkout latency high", "HighLatency", "checkout"))
	invID := investigationOf(t, p, res.IncidentIDs[0]).ID

	var got struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Report struct {
			Verdict   string `json:"verdict"`
			Model     string `json:"model"`
			RootCause *struct {
				Category string `json:"category"`
			} `json:"root_cause"`
			Findings []struct {
				Text      string `json:"text"`
				Citations []int  `json:"citations"`
			} `json:"findings"`
			Evidence []struct {
				StepSeq int `json:"step_seq"`
			} `json:"evidence"`
			LLM struct {
				Status string `json:"status"`
				Calls  int    `json:"calls"`
			} `json:"llm"`
		} `json:"report"`
		LLMUsage *struct {
			Calls       int `json:"calls"`
			InputTokens int `json:"input_tokens"`
		} `json:"llm_usage"`
		Steps []step `json:"steps"`
	}
	testenv.Eventually(t, 60*time.Second, "the investigation to complete", func() bool {
		get(t, p, "/api/v1/investigations/"+invID, &got)
		if got.Status == "failed" {
			t.Fatalf("investigation failed: %s\n%s", got.Error, p.Output())
		}
		return got.Status == "completed"
	})
	r := got.Report
	if r.LLM.Status != "completed" || r.Model != "gpt-e2e" || r.Verdict != "LIKELY" || r.RootCause == nil || r.RootCause.Category != "latency" {
		t.Fatalf("report: %+v", r)
	}
	if len(r.Findings) == 0 || r.Findings[0].Citations[0] != 1 || len(r.Evidence) == 0 || r.Evidence[0].StepSeq != 1 {
		t.Fatalf("findings %+v evidence %+v", r.Findings, r.Evidence)
	}
	if got.LLMUsage == nil || got.LLMUsage.Calls != 2 || got.LLMUsage.InputTokens != 2400 {
		t.Fatalf("llm_usage: %+v", got.LLMUsage)
	}
	// The incident view carries the same totals on its latest investigation.
	var inc struct {
		Latest struct {
			LLMUsage *struct {
				Calls int `json:"calls"`
			} `json:"llm_usage"`
		} `json:"latest_investigation"`
	}
	get(t, p, "/api/v1/incidents/"+res.IncidentIDs[0], &inc)
	if inc.Latest.LLMUsage == nil || inc.Latest.LLMUsage.Calls != 2 {
		t.Fatalf("incident view llm_usage: %+v", inc.Latest.LLMUsage)
	}
	kinds := []string{}
	for _, s := range got.Steps {
		kinds = append(kinds, s.Kind)
	}
	// The deterministic plan searches the knowledge base (two evidence
	// steps) before the agent's two model calls.
	if strings.Join(kinds, ",") != "context,evidence,evidence,llm,llm,report" {
		t.Fatalf("steps: %v", kinds)
	}
	reqs := model.requests()
	if len(reqs) != 2 {
		t.Fatalf("model called %d times", len(reqs))
	}
	// The rejection of the uncited claim went back as the tool's answer.
	msgs, _ := reqs[1]["messages"].([]any)
	last, _ := msgs[len(msgs)-1].(map[string]any)
	if last["role"] != "tool" || last["tool_call_id"] != "call_1" || !strings.Contains(fmt.Sprint(last["content"]), "[42]") {
		t.Fatalf("second request's last message: %v", last)
	}
	if tools, _ := reqs[0]["tools"].([]any); len(tools) == 0 {
		t.Fatalf("no tools offered: %v", reqs[0])
	}
	// The API shows the configured model (the process's router), no key.
	var conf struct {
		Configured bool `json:"configured"`
		Models     []struct {
			Purpose string `json:"purpose"`
			Model   string `json:"model"`
		} `json:"models"`
	}
	raw := get(t, p, "/api/v1/llm", &conf)
	if !conf.Configured || !strings.Contains(fmt.Sprint(conf.Models), "rca gpt-e2e") || strings.Contains(string(raw), "sk-test-e2e") {
		t.Fatalf("GET /api/v1/llm: %s", raw)
	}
}

// TestAgentWorkerKillResumes kills a worker (kill -9) while the agent waits
// for the model; a new worker resumes the conversation from the stored
// steps: the model is not asked again for the answer it already gave.
func TestAgentWorkerKillResumes(t *testing.T) {
	t.Parallel()
	bad := map[string]any{"verdict": "INCONCLUSIVE", "summary": "s", "confidence": 0.1,
		"findings": []any{map[string]any{"text": "HighLatency fires", "citations": []int{42}}}}
	good := map[string]any{"verdict": "INCONCLUSIVE", "summary": "s", "confidence": 0.1,
		"findings": []any{map[string]any{"text": "HighLatency fires", "citations": []int{1}}}}
	blocked, stop := make(chan struct{}), make(chan struct{})
	model := &chatCompletions{t: t}
	model.replies = []func(map[string]any) map[string]any{
		func(map[string]any) map[string]any { return submitCall("call_1", bad) },
		nil, // held until the worker dies
		func(map[string]any) map[string]any { return submitCall("call_2", good) },
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(model.requests()) == 1 { // this is the second call
			model.mu.Lock()
			model.seen = append(model.seen, nil)
			model.mu.Unlock()
			close(blocked)
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		model.ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer close(stop) // before Close, which waits for the held handler
	c := startCluster(t, testenv.Env{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "sk-test-e2e", "RCA_MODEL": "gpt-e2e",
		"LLM_PROVIDER_MODE": "openai", "AURORA_JOB_TIMEOUT": "20s", "AURORA_JOB_RESCUE_AFTER": "25s"}, 1, 1, 0)
	server, worker := c.servers[0], c.workers[0]
	res := postAlerts(t, server.URL, testenv.AdminToken, "generic", genericAlert("Checkout latency high", "HighLatency", "checkout"))
	invID := investigationOf(t, server, res.IncidentIDs[0]).ID
	select {
	case <-blocked:
	case <-time.After(120 * time.Second):
		t.Fatalf("the agent never made its second model call (calls: %d)\n%s", len(model.requests()), worker.Output())
	}
	worker.Kill()
	worker2 := testenv.Start(t, "worker2", merge(c.env, testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(t)}), "worker")
	var got struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Report struct {
			LLM struct {
				Status string `json:"status"`
				Calls  int    `json:"calls"`
			} `json:"llm"`
		} `json:"report"`
		Steps []step `json:"steps"`
	}
	testenv.Eventually(t, 150*time.Second, "the new worker to complete the investigation", func() bool {
		if worker2.Exited() {
			t.Fatalf("worker2 exited:\n%s", worker2.Output())
		}
		get(t, server, "/api/v1/investigations/"+invID, &got)
		if got.Status == "failed" {
			t.Fatalf("investigation failed: %s", got.Error)
		}
		return got.Status == "completed"
	})
	if got.Report.LLM.Status != "completed" || got.Report.LLM.Calls != 2 {
		t.Fatalf("llm: %+v", got.Report.LLM)
	}
	reqs := model.requests()
	if len(reqs) != 3 {
		t.Fatalf("model called %d times, want 3 (the first answer was asked again?)", len(reqs))
	}
	// The retried call carries the stored first answer and its rejection.
	msgs, _ := reqs[2]["messages"].([]any)
	var sawCall, sawRejection bool
	for _, m := range msgs {
		mm, _ := m.(map[string]any)
		if calls, _ := mm["tool_calls"].([]any); len(calls) == 1 && fmt.Sprint(calls[0].(map[string]any)["id"]) == "call_1" {
			sawCall = true
		}
		if mm["role"] == "tool" && mm["tool_call_id"] == "call_1" && strings.Contains(fmt.Sprint(mm["content"]), "[42]") {
			sawRejection = true
		}
	}
	if !sawCall || !sawRejection {
		t.Fatalf("resumed conversation lacks the stored answer (%v) or its rejection (%v): %v", sawCall, sawRejection, msgs)
	}
	kinds := []string{}
	for _, s := range got.Steps {
		kinds = append(kinds, s.Kind+":"+s.Status)
	}
	if strings.Join(kinds, ",") != "context:completed,evidence:completed,evidence:completed,llm:completed,llm:completed,report:completed" {
		t.Fatalf("steps: %v", kinds)
	}
}
