package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/api"
	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/llm"
	"github.com/aurora-oss/aurora/internal/metric"
	"github.com/aurora-oss/aurora/internal/storage/storagetest"
)

// setupLLM serves the API with router (nil: no model) and returns the
// server's URL and a token per role.
func setupLLM(t *testing.T, router *llm.Router) (string, map[auth.Role]string) {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, org := storagetest.SQLite(t)
	srv := httptest.NewServer(api.New(api.Options{Store: store, Metrics: metric.New(store, nil), Log: log, LLM: router, Version: "test"}))
	t.Cleanup(srv.Close)
	tokens := map[auth.Role]string{}
	for _, r := range []auth.Role{auth.Viewer, auth.Editor, auth.Admin} {
		tok := auth.NewToken(auth.APITokenPrefix)
		if _, err := store.CreateAPIToken(ctx, org.ID, string(r), string(r), auth.HashToken(tok)); err != nil {
			t.Fatal(err)
		}
		tokens[r] = tok
	}
	return srv.URL, tokens
}

func call(t *testing.T, method, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLLMEndpoints(t *testing.T) {
	t.Parallel()
	// An OpenAI-compatible server that knows one model.
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Model string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Content-Type", "application/json")
		if body.Model != "good-model" {
			w.WriteHeader(404)
			io.WriteString(w, `{"error":{"message":"The model `+"`"+body.Model+"`"+` does not exist (key sk-proj-abcdefghijklmnopqrstuvwxyz012345)","type":"invalid_request_error","code":"model_not_found"}}`)
			return
		}
		io.WriteString(w, `{"id":"c1","object":"chat.completion","created":1,"model":"good-model","choices":[{"index":0,"message":{"role":"assistant","content":"OK"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}`)
	}))
	t.Cleanup(vendor.Close)
	router, err := llm.NewRouter(llm.Config{OpenAIAPIKey: "sk-secret-key-0123456789", OpenAIBaseURL: vendor.URL + "/v1",
		MainModel: "good-model", RCAModel: "missing-model", Prices: map[string]llm.Price{"good-model": {InputPerMTok: 1, OutputPerMTok: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	url, tokens := setupLLM(t, router)

	code, body := call(t, "GET", url+"/api/v1/llm", tokens[auth.Viewer])
	if code != 200 {
		t.Fatalf("GET /api/v1/llm: %d %s", code, body)
	}
	var cfg struct {
		Configured bool
		Mode       string
		Models     []llm.ModelInfo
	}
	if err := json.Unmarshal([]byte(body), &cfg); err != nil {
		t.Fatal(err)
	}
	if !cfg.Configured || cfg.Mode != "openai" || len(cfg.Models) != 3 || cfg.Models[0].Model != "good-model" || cfg.Models[0].Price.OutputPerMTok != 2 ||
		cfg.Models[1].Purpose != llm.PurposeRCA || cfg.Models[1].Model != "missing-model" {
		t.Errorf("config %s", body)
	}
	if strings.Contains(body, "sk-secret") {
		t.Errorf("key in %s", body)
	}

	// Testing the connection is for admins.
	for _, r := range []auth.Role{auth.Viewer, auth.Editor} {
		if code, body := call(t, "POST", url+"/api/v1/llm/test", tokens[r]); code != 403 {
			t.Errorf("%s: %d %s", r, code, body)
		}
	}
	code, body = call(t, "POST", url+"/api/v1/llm/test", tokens[auth.Admin])
	if code != 200 {
		t.Fatalf("POST /api/v1/llm/test: %d %s", code, body)
	}
	var res struct {
		OK      bool
		Results []llm.TestResult
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if res.OK || len(res.Results) != 2 || !res.Results[0].OK || res.Results[1].OK || res.Results[1].Kind != "unknown_model" ||
		!strings.Contains(res.Results[1].Message, "missing-model") {
		t.Errorf("results %s", body)
	}
	if strings.Contains(body, "sk-proj-abcdefghijklmnopqrstuvwxyz012345") || !strings.Contains(body, "[REDACTED:api_key]") {
		t.Errorf("the vendor's message must be redacted: %s", body)
	}
}

func TestLLMEndpointsWithoutModel(t *testing.T) {
	t.Parallel()
	url, tokens := setupLLM(t, nil)
	code, body := call(t, "GET", url+"/api/v1/llm", tokens[auth.Viewer])
	if code != 200 || !strings.Contains(body, `"configured":false`) || !strings.Contains(body, `"models":[]`) || !strings.Contains(body, `"mode":"none"`) {
		t.Errorf("GET: %d %s", code, body)
	}
	code, body = call(t, "POST", url+"/api/v1/llm/test", tokens[auth.Admin])
	if code != 409 || !strings.Contains(body, "no language model is configured") {
		t.Errorf("POST: %d %s", code, body)
	}
	if code, _ := call(t, "GET", url+"/api/v1/llm", "aur_wrong"); code != 401 {
		t.Errorf("bad token: %d", code)
	}
}
