package llm

import (
	"math"
	"strings"
	"testing"
)

func TestPriceLookup(t *testing.T) {
	t.Parallel()
	table := NewPrices(map[string]Price{
		"gpt-4.1":           {InputPerMTok: 1, OutputPerMTok: 4},
		"Acme/House-Model":  {InputPerMTok: 0.2, OutputPerMTok: 0.4},
		"claude-sonnet-4.6": {InputPerMTok: 3, OutputPerMTok: 15},
	})
	tests := []struct {
		ref   string
		in    float64
		known bool
	}{
		{"gpt-4.1", 1, true},            // override wins over the table
		{"openai/gpt-4.1", 1, true},     // with prefix
		{"gpt-4.1-2025-04-14", 1, true}, // dated snapshot
		{"gpt-4o-mini", 0.15, true},     // built in
		{"openrouter/openai/gpt-4o-mini", 0.15, true},
		{"claude-sonnet-4-5-20250929", 3, true},  // Anthropic's dated id
		{"anthropic/claude-sonnet-4.5", 3, true}, // OpenRouter's dotted id
		{"anthropic/claude-sonnet-4-6", 3, true}, // override keyed dotted, looked up dashed
		{"claude-haiku-4-5", 1, true},
		{"google/gemini-2.5-flash", 0.30, true},
		{"gemini/gemini-2.5-pro", 1.25, true},
		{"meta-llama/llama-3.3-70b-instruct:free", 0, false},
		{"acme/house-model", 0.2, true},
		{"ollama/llama3.1", 0, true}, // local: free
		{"my-finetune", 0, false},
	}
	for _, tc := range tests {
		p, ok := table.Lookup(tc.ref)
		if ok != tc.known || math.Abs(p.InputPerMTok-tc.in) > 1e-9 {
			t.Errorf("Lookup(%q) = %+v, %v; want input %v, known %v", tc.ref, p, ok, tc.in, tc.known)
		}
	}
}

func TestDefaultPricesAreSane(t *testing.T) {
	t.Parallel()
	for name, p := range DefaultPrices() {
		if p.InputPerMTok <= 0 || p.OutputPerMTok < p.InputPerMTok || p.CachedInputPerMTok > p.InputPerMTok {
			t.Errorf("%s: %+v", name, p)
		}
	}
	// A copy: changing it changes nothing.
	d := DefaultPrices()
	d["gpt-4.1"] = Price{}
	if p, _ := NewPrices(nil).Lookup("gpt-4.1"); p.InputPerMTok != 2 {
		t.Errorf("built-in table changed: %+v", p)
	}
}

func TestParsePrices(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, err string
		n       int
	}{
		{in: "", n: 0},
		{in: `{"m":{"input_per_mtok":1,"output_per_mtok":2,"cached_input_per_mtok":0.5}}`, n: 1},
		{in: `{"a":{"input_per_mtok":1},"b":{"output_per_mtok":0}}`, n: 2},
		{in: `{"m":{"input":1}}`, err: `unknown field "input"`},
		{in: `{"m":{"input_per_mtok":-1}}`, err: "must not be negative"},
		{in: `[1]`, err: "must be a JSON object"},
		{in: `{"m":{}} {}`, err: "one JSON object"},
		{in: `{" ":{}}`, err: "empty"},
		{in: `{"m":`, err: "must be a JSON object"},
	}
	for _, tc := range tests {
		m, err := ParsePrices(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePrices(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || len(m) != tc.n {
			t.Errorf("ParsePrices(%q) = %v, %v", tc.in, m, err)
		}
	}
}

func TestCheaperThan(t *testing.T) {
	t.Parallel()
	mini, _ := NewPrices(nil).Lookup("gpt-4.1-mini")
	full, _ := NewPrices(nil).Lookup("gpt-4.1")
	if !cheaperThan(mini, full) || cheaperThan(full, mini) || cheaperThan(full, full) {
		t.Error("cheaperThan")
	}
	// Input-heavy steps: cheap input beats cheap output.
	if !cheaperThan(Price{InputPerMTok: 1, OutputPerMTok: 20}, Price{InputPerMTok: 3, OutputPerMTok: 1}) {
		t.Error("a step reads 10x what it writes")
	}
}

// LLM_PRICES comes from the environment: no input may panic, and what is
// accepted is a usable table.
func FuzzParsePrices(f *testing.F) {
	f.Add(`{"m":{"input_per_mtok":1,"output_per_mtok":2,"cached_input_per_mtok":0.5}}`)
	f.Add(`{"m":{"input_per_mtok":-1}}`)
	f.Add(`{"anthropic/claude-sonnet-4.6":{}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParsePrices(s)
		if err != nil {
			return
		}
		table := NewPrices(m)
		for k, p := range m {
			if p.InputPerMTok < 0 || p.OutputPerMTok < 0 || p.CachedInputPerMTok < 0 {
				t.Fatalf("negative price accepted: %q %+v", k, p)
			}
			if got, ok := table.Lookup(k); !ok || (got != p && normalizeModel(k) == strings.ToLower(strings.TrimSpace(k))) {
				t.Fatalf("Lookup(%q) = %+v, %v; want %+v", k, got, ok, p)
			}
		}
	})
}
