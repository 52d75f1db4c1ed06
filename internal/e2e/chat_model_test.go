package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// fakeOpenAI is an OpenAI-compatible chat-completions server (the LLM
// vendor is the one thing that cannot run here): it streams the answer the
// way the API reference's streaming example does, and records requests.
type fakeOpenAI struct {
	mu   sync.Mutex
	reqs []string
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, r.URL.Path+" "+string(b))
	f.mu.Unlock()
	if !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		http.Error(w, `{"error":{"message":"not found"}}`, 404)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	chunk := func(delta, finish string) {
		fin := "null"
		if finish != "" {
			fin = `"` + finish + `"`
		}
		fmt.Fprintf(w, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":%s,\"logprobs\":null,\"finish_reason\":%s}]}\n\n", delta, fin)
		w.(http.Flusher).Flush()
	}
	chunk(`{"role":"assistant","content":""}`, "")
	for _, part := range []string{"The checkout ", "service looks ", "healthy."} {
		chunk(fmt.Sprintf(`{"content":%q}`, part), "")
		time.Sleep(20 * time.Millisecond)
	}
	chunk(`{}`, "stop")
	fmt.Fprint(w, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":900,\"completion_tokens\":12,\"total_tokens\":912}}\n\ndata: [DONE]\n\n")
}

// TestChatWithModel: with a chat model configured, the language-model agent
// answers through the real OpenAI client: its text streams as deltas, the
// turn reports the tokens used, and the answer is the model's (no
// "no model" note).
func TestChatWithModel(t *testing.T) {
	t.Parallel()
	fake := &fakeOpenAI{}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p, _ := startAll(t, embedded, testenv.Env{"OPENAI_API_KEY": "sk-test-not-a-key", "OPENAI_BASE_URL": srv.URL + "/v1", "MAIN_MODEL": "gpt-4o-mini"})
	c := connect(t, "client", p.URL, testenv.AdminToken)
	_, turn := c.ask(map[string]any{"text": "is checkout healthy?"}, 60*time.Second)
	checkSeqs(t, "model turn", turn, 1)
	var deltas []string
	for _, f := range turn {
		if f.typ() == "delta" {
			deltas = append(deltas, f.str("text"))
		}
	}
	if strings.Join(deltas, "") != "The checkout service looks healthy." || len(deltas) < 3 {
		t.Errorf("deltas %q", deltas)
	}
	if text := assistantText(t, turn); text != "The checkout service looks healthy." {
		t.Errorf("answer %q", text)
	}
	if u := findFrame(turn, isType("usage")); u == nil || u["tokens"].(float64) != 912 {
		t.Errorf("usage: %v", u)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if len(fake.reqs) != 1 || !strings.Contains(fake.reqs[0], "is checkout healthy?") || !strings.Contains(fake.reqs[0], `"gpt-4o-mini"`) {
		t.Errorf("model requests: %q", fake.reqs)
	}
}
