package toolset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Web search bounds: a question to a search engine needs few results, and
// a slow instance must not hold an investigation up.
const (
	WebSearchDefaultLimit = 5
	WebSearchMaxLimit     = 20
	webSearchTimeout      = 15 * time.Second
	webSearchMaxBody      = 4 << 20
	webSearchMaxQuery     = 400
	webSearchMaxSnippet   = 500
)

// SearXNG is the web.search tool over a SearXNG instance's JSON API
// (GET /search?q=…&format=json; the instance must list json under
// search.formats in its settings.yml).
type SearXNG struct {
	base   *url.URL
	client *http.Client
}

// NewSearXNG returns the tool for the instance at rawURL (SEARXNG_URL).
func NewSearXNG(rawURL string, client *http.Client) (*SearXNG, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("searxng: %q is not an http(s) URL", rawURL)
	}
	if client == nil {
		client = &http.Client{}
	}
	return &SearXNG{base: u, client: client}, nil
}

// Name implements Tool.
func (s *SearXNG) Name() string { return "web.search" }

// Description implements Tool.
func (s *SearXNG) Description() string {
	return "Search the public web (through the configured SearXNG instance) for an error message, a vendor status page or documentation; returns titles, URLs and snippets."
}

// Parameters implements Tool.
func (s *SearXNG) Parameters() json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"object","properties":{"query":{"type":"string","description":"what to search for"},"limit":{"type":"integer","minimum":1,"maximum":%d,"description":"most results (default %d)"}},"required":["query"],"additionalProperties":false}`, WebSearchMaxLimit, WebSearchDefaultLimit))
}

// ReadOnly implements Tool.
func (s *SearXNG) ReadOnly() bool { return true }

// Timeout implements Tool.
func (s *SearXNG) Timeout() time.Duration { return webSearchTimeout }

type searxngAnswer struct {
	Results []struct {
		URL           string   `json:"url"`
		Title         string   `json:"title"`
		Content       string   `json:"content"`
		Engine        string   `json:"engine"`
		Engines       []string `json:"engines"`
		PublishedDate *string  `json:"publishedDate"`
	} `json:"results"`
	Answers             []any   `json:"answers"`
	UnresponsiveEngines [][]any `json:"unresponsive_engines"`
}

// Call implements Tool.
func (s *SearXNG) Call(ctx context.Context, args map[string]any) (Result, error) {
	q, _ := args["query"].(string)
	q = strings.TrimSpace(q)
	if q == "" {
		return Result{}, errors.New("query: required, a non-empty string")
	}
	if len(q) > webSearchMaxQuery {
		return Result{}, fmt.Errorf("query: at most %d bytes", webSearchMaxQuery)
	}
	limit := WebSearchDefaultLimit
	if v, ok := args["limit"]; ok && v != nil {
		f, ok := v.(float64)
		if n, isInt := v.(int); isInt {
			f, ok = float64(n), true
		}
		if !ok || f != float64(int(f)) || f < 1 || f > WebSearchMaxLimit {
			return Result{}, fmt.Errorf("limit: an integer from 1 to %d", WebSearchMaxLimit)
		}
		limit = int(f)
	}
	ctx, cancel := context.WithTimeout(ctx, webSearchTimeout)
	defer cancel()
	u := s.base.JoinPath("search")
	u.RawQuery = url.Values{"q": {q}, "format": {"json"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Result{}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("web search: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, webSearchMaxBody+1))
	if err != nil {
		return Result{}, fmt.Errorf("web search: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusForbidden:
		return Result{}, errors.New("web search: SearXNG refused the JSON format (add json to search.formats in its settings.yml)")
	case resp.StatusCode == http.StatusTooManyRequests:
		return Result{}, errors.New("web search: SearXNG is rate-limiting this client (429)")
	case resp.StatusCode != http.StatusOK:
		return Result{}, fmt.Errorf("web search: SearXNG answered %s", resp.Status)
	case len(body) > webSearchMaxBody:
		return Result{}, fmt.Errorf("web search: answer larger than %d bytes", webSearchMaxBody)
	}
	var a searxngAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return Result{}, fmt.Errorf("web search: not a SearXNG JSON answer: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "web search %q:", q)
	n := 0
	for _, r := range a.Results {
		if n == limit {
			break
		}
		if r.URL == "" {
			continue
		}
		n++
		fmt.Fprintf(&b, "\n%d. %s\n   %s", n, flatCut(r.Title, 200), r.URL)
		if c := flatCut(r.Content, webSearchMaxSnippet); c != "" {
			fmt.Fprintf(&b, "\n   %s", c)
		}
	}
	if n == 0 {
		b.WriteString(" no results")
		if len(a.UnresponsiveEngines) > 0 {
			fmt.Fprintf(&b, " (%d engines did not answer)", len(a.UnresponsiveEngines))
		}
	}
	b.WriteString("\n")
	return CapOutput(b.String(), 0), nil
}

// flatCut flattens whitespace and cuts s to at most max bytes on a rune
// boundary.
func flatCut(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
