package toolset

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// searxngServer answers GET /search?q=…&format=json as SearXNG's JSON
// output format does (https://docs.searxng.org/dev/search_api.html):
// results with url, title, content and engines, plus answers,
// suggestions and unresponsive_engines.
func searxngServer(t *testing.T, n int, status int, delay time.Duration) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/searx/search" || r.URL.Query().Get("format") != "json" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if status != http.StatusOK {
			http.Error(w, http.StatusText(status), status)
			return
		}
		q := r.URL.Query().Get("q")
		var results []map[string]any
		for i := range n {
			results = append(results, map[string]any{
				"url": fmt.Sprintf("https://example.com/%d", i), "title": fmt.Sprintf("Result %d for %s", i, q),
				"content": "line one\n  line two " + strings.Repeat("é", 400), "engine": "duckduckgo", "engines": []string{"duckduckgo"}, "score": 1.0, "category": "general", "publishedDate": nil,
			})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"query": q, "number_of_results": 0, "results": results,
			"answers": []any{}, "corrections": []any{}, "infoboxes": []any{}, "suggestions": []any{}, "unresponsive_engines": [][]any{{"google", "timeout"}}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSearXNG(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		results int
		status  int
		args    map[string]any
		want    []string
		notWant []string
		err     string
	}{
		{name: "default limit", results: 30, status: 200, args: map[string]any{"query": "OOMKilled exit 137"},
			want: []string{`web search "OOMKilled exit 137":`, "5. Result 4 for OOMKilled exit 137", "https://example.com/4", "line one line two"}, notWant: []string{"6. ", "\n  line two"}},
		{name: "limit", results: 30, status: 200, args: map[string]any{"query": "x", "limit": float64(2)}, want: []string{"2. Result 1"}, notWant: []string{"3. "}},
		{name: "cap", results: 30, status: 200, args: map[string]any{"query": "x", "limit": float64(21)}, err: "limit: an integer from 1 to 20"},
		{name: "fraction", results: 1, status: 200, args: map[string]any{"query": "x", "limit": 1.5}, err: "limit"},
		{name: "no query", results: 1, status: 200, args: map[string]any{"query": "  "}, err: "query: required"},
		{name: "long query", results: 1, status: 200, args: map[string]any{"query": strings.Repeat("a", 401)}, err: "query: at most 400"},
		{name: "none", results: 0, status: 200, args: map[string]any{"query": "zzz"}, want: []string{"no results (1 engines did not answer)"}},
		{name: "json disabled", results: 1, status: 403, args: map[string]any{"query": "x"}, err: "search.formats"},
		{name: "rate limited", results: 1, status: 429, args: map[string]any{"query": "x"}, err: "429"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := searxngServer(t, tc.results, tc.status, 0)
			tool, err := NewSearXNG(srv.URL+"/searx/", nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := tool.Call(context.Background(), tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Output, w) {
					t.Errorf("output lacks %q:\n%s", w, res.Output)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(res.Output, w) {
					t.Errorf("output has %q:\n%s", w, res.Output)
				}
			}
			for _, line := range strings.Split(res.Output, "\n") {
				if len(line) > webSearchMaxSnippet+16 {
					t.Errorf("line of %d bytes not capped", len(line))
				}
			}
		})
	}
}

func TestSearXNGTimeoutAndRegistry(t *testing.T) {
	t.Parallel()
	srv := searxngServer(t, 1, 200, 5*time.Second)
	tool, err := NewSearXNG(srv.URL+"/searx", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := tool.Call(ctx, map[string]any{"query": "slow"}); err == nil {
		t.Fatal("slow instance: no error")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("call took %v past its deadline", d)
	}
	reg, err := NewRegistry(tool)
	if err != nil || reg.Names()[0] != "web.search" || !tool.ReadOnly() || tool.Timeout() > time.Minute {
		t.Fatalf("registry: %v %v", reg.Names(), err)
	}
	var schema map[string]any
	if err := json.Unmarshal(tool.Parameters(), &schema); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSearXNG("ftp://x", nil); err == nil {
		t.Error("ftp URL accepted")
	}
}
