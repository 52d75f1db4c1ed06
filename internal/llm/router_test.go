package llm

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/config"
)

// resolved is one purpose's expected routing: provider, model name sent,
// and source.
type resolved struct {
	provider, model, source string
}

func TestRouterResolution(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		mode    string
		chat    resolved
		rca     resolved
		summary resolved
		err     string // substring of the start-up error
	}{
		{name: "nothing configured stays deterministic", cfg: Config{}, mode: "none"},
		{name: "OpenAI key alone uses its default model", cfg: Config{OpenAIAPIKey: "sk-x"}, mode: "openai",
			chat:    resolved{"openai", "gpt-4.1", "default"},
			rca:     resolved{"openai", "gpt-4.1", "MAIN_MODEL (RCA_MODEL unset)"},
			summary: resolved{"openai", "gpt-4.1", "MAIN_MODEL (SUMMARIZATION_MODEL unset)"}},
		{name: "Ollama base URL alone", cfg: Config{OllamaBaseURL: "http://gpu:11434"}, mode: "ollama",
			chat: resolved{"ollama", "llama3.1", "default"}, rca: resolved{"ollama", "llama3.1", ""}, summary: resolved{"ollama", "llama3.1", ""}},
		{name: "vLLM base URL and a model", cfg: Config{OpenAIBaseURL: "http://vllm:8000/v1", MainModel: "Qwen/Qwen2.5-72B-Instruct"}, mode: "openai",
			chat: resolved{"openai", "Qwen/Qwen2.5-72B-Instruct", "MAIN_MODEL"}, rca: resolved{"openai", "Qwen/Qwen2.5-72B-Instruct", ""}, summary: resolved{"openai", "Qwen/Qwen2.5-72B-Instruct", ""}},
		{name: "base URL without a model name", cfg: Config{OpenAIBaseURL: "http://vllm:8000/v1"}, err: "MAIN_MODEL is not set: name the model the server at OPENAI_BASE_URL serves"},
		{name: "custom server with only RCA_MODEL (main falls back to it)", cfg: Config{OpenAIAPIKey: "sk-test", OpenAIBaseURL: "http://127.0.0.1:9999/v1", RCAModel: "gpt-e2e"}, mode: "openai",
			chat: resolved{"openai", "gpt-e2e", "RCA_MODEL (MAIN_MODEL unset)"}, rca: resolved{"openai", "gpt-e2e", "RCA_MODEL"}, summary: resolved{"openai", "gpt-e2e", "MAIN_MODEL (SUMMARIZATION_MODEL unset)"}},
		{name: "custom server with only SUMMARIZATION_MODEL", cfg: Config{OpenAIBaseURL: "http://vllm:8000/v1", SummarizationModel: "small"}, mode: "openai",
			chat: resolved{"openai", "small", "SUMMARIZATION_MODEL (MAIN_MODEL unset)"}, rca: resolved{"openai", "small", "MAIN_MODEL (RCA_MODEL unset)"}, summary: resolved{"openai", "small", "SUMMARIZATION_MODEL"}},
		{name: "only a prefixed Ollama RCA model", cfg: Config{RCAModel: "ollama/qwen3"}, mode: "direct",
			chat: resolved{"ollama", "qwen3", "RCA_MODEL (MAIN_MODEL unset)"}, rca: resolved{"ollama", "qwen3", "RCA_MODEL"}, summary: resolved{"ollama", "qwen3", ""}},
		{name: "base URL and key without a model name", cfg: Config{OpenAIAPIKey: "token", OpenAIBaseURL: "http://vllm:8000/v1"}, err: "MAIN_MODEL is not set: name the model the server at OPENAI_BASE_URL serves"},
		{name: "OpenAI's own base URL keeps the default model", cfg: Config{OpenAIAPIKey: "sk", OpenAIBaseURL: "https://api.openai.com/v1"}, mode: "openai",
			chat: resolved{"openai", "gpt-4.1", "default"}, rca: resolved{"openai", "gpt-4.1", ""}, summary: resolved{"openai", "gpt-4.1", ""}},
		{name: "prefixes route directly", cfg: Config{AnthropicAPIKey: "a", OpenAIAPIKey: "o", MainModel: "anthropic/claude-sonnet-4.6", RCAModel: "openai/gpt-4.1", SummarizationModel: "google/gemini-2.5-flash", GoogleAPIKey: "g"}, mode: "direct",
			chat: resolved{"anthropic", "claude-sonnet-4.6", "MAIN_MODEL"}, rca: resolved{"openai", "gpt-4.1", "RCA_MODEL"}, summary: resolved{"gemini", "gemini-2.5-flash", "SUMMARIZATION_MODEL"}},
		{name: "direct prefix without its key", cfg: Config{OpenAIAPIKey: "o", MainModel: "anthropic/claude-sonnet-4.6"}, err: `MAIN_MODEL "anthropic/claude-sonnet-4.6" needs ANTHROPIC_API_KEY`},
		{name: "direct unprefixed name goes to the default provider", cfg: Config{Mode: "direct", AnthropicAPIKey: "a", MainModel: "claude-haiku-4-5", RCAModel: "ollama/qwen3"}, mode: "direct",
			chat: resolved{"anthropic", "claude-haiku-4-5", "MAIN_MODEL"}, rca: resolved{"ollama", "qwen3", "RCA_MODEL"}, summary: resolved{"anthropic", "claude-haiku-4-5", ""}},
		{name: "direct name without provider or key", cfg: Config{Mode: "direct", MainModel: "gpt-4.1"}, err: `MAIN_MODEL "gpt-4.1" names no provider`},
		{name: "models named but no key at all", cfg: Config{MainModel: "gpt-4.1"}, err: `MAIN_MODEL "gpt-4.1" names no provider`},
		{name: "openrouter takes the whole name", cfg: Config{Mode: "openrouter", OpenRouterAPIKey: "r", MainModel: "anthropic/claude-sonnet-4.5", RCAModel: "openrouter/meta-llama/llama-3.3-70b-instruct"}, mode: "openrouter",
			chat: resolved{"openrouter", "anthropic/claude-sonnet-4.5", "MAIN_MODEL"}, rca: resolved{"openrouter", "meta-llama/llama-3.3-70b-instruct", "RCA_MODEL"}, summary: resolved{"openrouter", "anthropic/claude-sonnet-4.5", ""}},
		{name: "openrouter mode without its key", cfg: Config{Mode: "openrouter", OpenAIAPIKey: "o"}, err: "LLM_PROVIDER_MODE=openrouter needs OPENROUTER_API_KEY"},
		{name: "openrouter key alone", cfg: Config{OpenRouterAPIKey: "r"}, mode: "openrouter",
			chat: resolved{"openrouter", "anthropic/claude-sonnet-4.5", "default"}, rca: resolved{"openrouter", "anthropic/claude-sonnet-4.5", ""}, summary: resolved{"openrouter", "anthropic/claude-sonnet-4.5", ""}},
		{name: "single provider strips its own prefix", cfg: Config{Mode: "Anthropic", AnthropicAPIKey: "a", MainModel: "anthropic/claude-opus-4-5"}, mode: "anthropic",
			chat: resolved{"anthropic", "claude-opus-4-5", "MAIN_MODEL"}, rca: resolved{"anthropic", "claude-opus-4-5", ""}, summary: resolved{"anthropic", "claude-opus-4-5", ""}},
		{name: "single provider keeps other prefixes (a proxy routes by them)", cfg: Config{Mode: "openai", OpenAIAPIKey: "o", OpenAIBaseURL: "http://litellm:4000", MainModel: "anthropic/claude-sonnet-4-5"}, mode: "openai",
			chat: resolved{"openai", "anthropic/claude-sonnet-4-5", "MAIN_MODEL"}, rca: resolved{"openai", "anthropic/claude-sonnet-4-5", ""}, summary: resolved{"openai", "anthropic/claude-sonnet-4-5", ""}},
		{name: "gemini mode without its key", cfg: Config{Mode: "gemini", OpenAIAPIKey: "o"}, err: "LLM_PROVIDER_MODE=gemini needs GOOGLE_AI_API_KEY"},
		{name: "gemini key alone", cfg: Config{GoogleAPIKey: "g"}, mode: "gemini",
			chat: resolved{"gemini", "gemini-2.5-pro", "default"}, rca: resolved{"gemini", "gemini-2.5-pro", ""}, summary: resolved{"gemini", "gemini-2.5-pro", ""}},
		{name: "ollama mode needs no URL", cfg: Config{Mode: "ollama", MainModel: "ollama/qwen3:8b"}, mode: "ollama",
			chat: resolved{"ollama", "qwen3:8b", "MAIN_MODEL"}, rca: resolved{"ollama", "qwen3:8b", ""}, summary: resolved{"ollama", "qwen3:8b", ""}},
		{name: "unknown mode", cfg: Config{Mode: "bedrock", OpenAIAPIKey: "o"}, err: `LLM_PROVIDER_MODE "bedrock": must be auto, direct, openrouter, openai, ollama, anthropic or gemini`},
		{name: "empty name after prefix", cfg: Config{AnthropicAPIKey: "a", MainModel: "anthropic/"}, err: `MAIN_MODEL "anthropic/": the model name after the provider is empty`},
		{name: "first configured provider wins without prefixes", cfg: Config{AnthropicAPIKey: "a", OpenAIAPIKey: "o", MainModel: "gpt-4o"}, mode: "openai",
			chat: resolved{"openai", "gpt-4o", "MAIN_MODEL"}, rca: resolved{"openai", "gpt-4o", ""}, summary: resolved{"openai", "gpt-4o", ""}},
		{name: "main unset with a prefixed RCA model", cfg: Config{AnthropicAPIKey: "a", RCAModel: "anthropic/claude-opus-4-5"}, mode: "direct",
			chat: resolved{"anthropic", "claude-sonnet-4-5", "default"}, rca: resolved{"anthropic", "claude-opus-4-5", "RCA_MODEL"}, summary: resolved{"anthropic", "claude-sonnet-4-5", ""}},
		{name: "optimize costs picks the cheaper configured tier", cfg: Config{OpenAIAPIKey: "o", MainModel: "gpt-4.1", SummarizationModel: "gpt-4.1-mini", OptimizeCosts: true}, mode: "openai",
			chat:    resolved{"openai", "gpt-4.1", "MAIN_MODEL"},
			rca:     resolved{"openai", "gpt-4.1-mini", "SUMMARIZATION_MODEL (RCA_OPTIMIZE_COSTS: cheapest configured)"},
			summary: resolved{"openai", "gpt-4.1-mini", "SUMMARIZATION_MODEL"}},
		{name: "optimize costs keeps main when it is cheaper", cfg: Config{OpenAIAPIKey: "o", MainModel: "gpt-4.1-mini", SummarizationModel: "gpt-4.1", OptimizeCosts: true}, mode: "openai",
			chat: resolved{"openai", "gpt-4.1-mini", ""}, rca: resolved{"openai", "gpt-4.1-mini", "MAIN_MODEL (RCA_OPTIMIZE_COSTS: cheapest configured)"}, summary: resolved{"openai", "gpt-4.1", ""}},
		{name: "optimize costs never overrides RCA_MODEL", cfg: Config{OpenAIAPIKey: "o", MainModel: "gpt-4.1", RCAModel: "o3", SummarizationModel: "gpt-4.1-nano", OptimizeCosts: true}, mode: "openai",
			chat: resolved{"openai", "gpt-4.1", ""}, rca: resolved{"openai", "o3", "RCA_MODEL"}, summary: resolved{"openai", "gpt-4.1-nano", ""}},
		{name: "without optimize RCA falls back to main", cfg: Config{OpenAIAPIKey: "o", MainModel: "gpt-4.1", SummarizationModel: "gpt-4.1-mini"}, mode: "openai",
			chat: resolved{"openai", "gpt-4.1", ""}, rca: resolved{"openai", "gpt-4.1", "MAIN_MODEL (RCA_MODEL unset)"}, summary: resolved{"openai", "gpt-4.1-mini", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := NewRouter(tc.cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Mode() != tc.mode {
				t.Errorf("mode %q, want %q", r.Mode(), tc.mode)
			}
			for p, want := range map[Purpose]resolved{PurposeChat: tc.chat, PurposeRCA: tc.rca, PurposeSummary: tc.summary} {
				m, ok := r.Model(p)
				if want.provider == "" {
					if ok {
						t.Errorf("%s: got %s/%s, want no model", p, m.Provider.Name(), m.Name)
					}
					continue
				}
				if !ok {
					t.Fatalf("%s: no model, want %v", p, want)
				}
				if m.Provider.Name() != want.provider || m.Name != want.model {
					t.Errorf("%s: got %s %q, want %s %q", p, m.Provider.Name(), m.Name, want.provider, want.model)
				}
				var info ModelInfo
				for _, i := range r.Describe() {
					if i.Purpose == p {
						info = i
					}
				}
				if info.Provider != want.provider || info.Model != want.model || (want.source != "" && info.Source != want.source) {
					t.Errorf("%s: described as %+v, want %v", p, info, want)
				}
			}
			if tc.mode == "none" && len(r.Describe()) != 0 {
				t.Errorf("describe %+v", r.Describe())
			}
		})
	}
}

func TestRouterDescribeShowsNoSecrets(t *testing.T) {
	t.Parallel()
	r, err := NewRouter(Config{OpenAIAPIKey: "sk-secret-123", OpenAIBaseURL: "https://user:pw@proxy.example/v1?key=abc", MainModel: "gpt-4.1"})
	if err != nil {
		t.Fatal(err)
	}
	info := r.Describe()
	if len(info) != 3 || info[0].BaseURL != "https://proxy.example/v1" {
		t.Fatalf("describe %+v", info)
	}
	for _, i := range info {
		s := strings.Join([]string{i.BaseURL, i.Ref, i.Model, i.Source}, " ")
		if strings.Contains(s, "secret") || strings.Contains(s, "pw") || strings.Contains(s, "abc") {
			t.Errorf("secret in %+v", i)
		}
	}
	if !info[0].PriceKnown || info[0].Price.InputPerMTok != 2 {
		t.Errorf("price %+v", info[0])
	}
}

func TestRouterPrices(t *testing.T) {
	t.Parallel()
	r, err := NewRouter(Config{Mode: "openrouter", OpenRouterAPIKey: "r", MainModel: "anthropic/claude-sonnet-4.5", RCAModel: "acme/house-model", SummarizationModel: "openai/gpt-4o-mini",
		Prices: map[string]Price{"acme/house-model": {InputPerMTok: 0.5, OutputPerMTok: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	chat, _ := r.Model(PurposeChat)
	rca, _ := r.Model(PurposeRCA)
	sum, _ := r.Model(PurposeSummary)
	if chat.Price.InputPerMTok != 3 || chat.Price.OutputPerMTok != 15 || rca.Price.InputPerMTok != 0.5 || sum.Price.OutputPerMTok != 0.60 {
		t.Errorf("prices chat %+v rca %+v summary %+v", chat.Price, rca.Price, sum.Price)
	}
	r, err = NewRouter(Config{OllamaBaseURL: "http://localhost:11434", MainModel: "gpt-oss:20b"})
	if err != nil {
		t.Fatal(err)
	}
	if info := r.Describe()[0]; !info.PriceKnown || info.Price != (Price{}) {
		t.Errorf("ollama models are free: %+v", info)
	}
}

func TestConfigFrom(t *testing.T) {
	t.Parallel()
	c, err := config.Load(config.MapLookup(map[string]string{
		"LLM_PROVIDER_MODE": "direct", "MAIN_MODEL": "anthropic/claude-sonnet-4.6", "ANTHROPIC_API_KEY": "sk-ant-x",
		"LLM_PRICES": `{"claude-sonnet-4.6":{"input_per_mtok":3,"output_per_mtok":15}}`, "LLM_TIMEOUT": "45s", "RCA_OPTIMIZE_COSTS": "true",
	}))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ConfigFrom(c.LLM)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mode != "direct" || cfg.AnthropicAPIKey != "sk-ant-x" || cfg.Timeout.Seconds() != 45 || !cfg.OptimizeCosts || cfg.Prices["claude-sonnet-4.6"].OutputPerMTok != 15 {
		t.Fatalf("config %+v", cfg)
	}
	r, err := NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := r.Model(PurposeRCA); !ok || m.Price.InputPerMTok != 3 || m.Name != "claude-sonnet-4.6" {
		t.Errorf("rca %+v", m)
	}

	if s := cfg.Secrets(); len(s) != 1 || s[0] != "sk-ant-x" {
		t.Errorf("secrets %v", s)
	}

	c.LLM.Prices = `{"x": {"input": 1}}`
	if _, err := ConfigFrom(c.LLM); err == nil || !strings.Contains(err.Error(), "LLM_PRICES") {
		t.Errorf("bad prices: %v", err)
	}
}

// redirect sends every request to the fake server, so the router's real
// provider URLs (api.openai.com, openrouter.ai, …) are exercised offline.
type redirect struct{ to *url.URL }

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("X-Original-Host", req.URL.Host)
	req.URL.Scheme, req.URL.Host = r.to.Scheme, r.to.Host
	return http.DefaultTransport.RoundTrip(req)
}

func redirectClient(t *testing.T, f *fakeVendor) *http.Client {
	u, err := url.Parse(f.URL())
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: redirect{u}}
}

func TestRouterCallsEachProvider(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, host, path, file string
		cfg                    Config
		header, value          string
	}{
		{"openai", "api.openai.com", "/v1/chat/completions", "openai/chat_text.json", Config{OpenAIAPIKey: "sk-o"}, "Authorization", "Bearer sk-o"},
		{"openrouter", "openrouter.ai", "/api/v1/chat/completions", "openai/chat_text.json", Config{OpenRouterAPIKey: "sk-or"}, "X-Title", "Aurora"},
		{"ollama", "gpu:11434", "/v1/chat/completions", "openai/chat_text.json", Config{OllamaBaseURL: "http://gpu:11434"}, "Authorization", ""},
		{"anthropic", "api.anthropic.com", "/v1/messages", "anthropic/message_text.json", Config{AnthropicAPIKey: "sk-ant"}, "Anthropic-Version", ""},
		{"gemini", "generativelanguage.googleapis.com", "/v1beta/models/gemini-2.5-pro:generateContent", "gemini/generate_text.json", Config{GoogleAPIKey: "AIza"}, "X-Goog-Api-Key", "AIza"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeVendor(t, reply{file: tc.file})
			tc.cfg.HTTPClient = redirectClient(t, f)
			r, err := NewRouter(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			m, ok := r.Model(PurposeRCA)
			if !ok {
				t.Fatal("no model")
			}
			resp, err := m.Chat(testCtx(t), Request{Messages: []Message{{Role: RoleUser, Content: "hi"}}}, nil)
			if err != nil || resp.Message.Content == "" {
				t.Fatalf("chat: %v %+v", err, resp)
			}
			rq := f.requests()[0]
			if rq.header.Get("X-Original-Host") != tc.host || rq.path != tc.path {
				t.Errorf("request to %s%s, want %s%s", rq.header.Get("X-Original-Host"), rq.path, tc.host, tc.path)
			}
			if got := rq.header.Get(tc.header); (tc.value == "" && tc.name == "ollama" && got != "") || (tc.value != "" && got != tc.value) || (tc.value == "" && tc.name != "ollama" && got == "") {
				t.Errorf("%s: %q", tc.header, got)
			}
		})
	}
}

func TestRouterTest(t *testing.T) {
	t.Parallel()
	good := newFakeVendor(t, reply{file: "openai/chat_text.json"})
	bad := newFakeVendor(t, reply{status: 401, file: "anthropic/error_401.json"})
	r, err := NewRouter(Config{
		OpenAIAPIKey: "o", OpenAIBaseURL: good.URL(), AnthropicAPIKey: "a", AnthropicBaseURL: bad.URL(),
		MainModel: "openai/gpt-4.1", RCAModel: "anthropic/claude-sonnet-4-5",
	})
	if err != nil {
		t.Fatal(err)
	}
	res := r.Test(testCtx(t))
	if len(res) != 2 {
		t.Fatalf("results %+v", res)
	}
	if !res[0].OK || res[0].Ref != "openai/gpt-4.1" || len(res[0].Purposes) != 2 || res[0].Purposes[1] != PurposeSummary {
		t.Errorf("openai result %+v", res[0])
	}
	if res[1].OK || res[1].Kind != string(ErrAuth) || !strings.Contains(res[1].Message, "invalid x-api-key") || res[1].Purposes[0] != PurposeRCA {
		t.Errorf("anthropic result %+v", res[1])
	}
	// A bad key is not retried by the connection test.
	if n := len(bad.requests()); n != 1 {
		t.Errorf("%d requests to the failing provider", n)
	}
	if !strings.Contains(good.requests()[0].body, `"max_tokens":32`) {
		t.Errorf("test request %s", good.requests()[0].body)
	}
}
