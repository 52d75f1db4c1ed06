package llm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// defaultPrices are the vendors' published list prices in US dollars per
// million tokens (standard tier, prompts under any long-context
// threshold), as of the date in docs/llm.md. LLM_PRICES overrides or
// extends them; a model missing here costs 0 and is flagged by Describe.
var defaultPrices = map[string]Price{
	// OpenAI
	"gpt-5":        {InputPerMTok: 1.25, CachedInputPerMTok: 0.125, OutputPerMTok: 10},
	"gpt-5.1":      {InputPerMTok: 1.25, CachedInputPerMTok: 0.125, OutputPerMTok: 10},
	"gpt-5-mini":   {InputPerMTok: 0.25, CachedInputPerMTok: 0.025, OutputPerMTok: 2},
	"gpt-5-nano":   {InputPerMTok: 0.05, CachedInputPerMTok: 0.005, OutputPerMTok: 0.40},
	"gpt-4.1":      {InputPerMTok: 2, CachedInputPerMTok: 0.50, OutputPerMTok: 8},
	"gpt-4.1-mini": {InputPerMTok: 0.40, CachedInputPerMTok: 0.10, OutputPerMTok: 1.60},
	"gpt-4.1-nano": {InputPerMTok: 0.10, CachedInputPerMTok: 0.025, OutputPerMTok: 0.40},
	"gpt-4o":       {InputPerMTok: 2.50, CachedInputPerMTok: 1.25, OutputPerMTok: 10},
	"gpt-4o-mini":  {InputPerMTok: 0.15, CachedInputPerMTok: 0.075, OutputPerMTok: 0.60},
	"o1":           {InputPerMTok: 15, CachedInputPerMTok: 7.50, OutputPerMTok: 60},
	"o3":           {InputPerMTok: 2, CachedInputPerMTok: 0.50, OutputPerMTok: 8},
	"o3-mini":      {InputPerMTok: 1.10, CachedInputPerMTok: 0.55, OutputPerMTok: 4.40},
	"o4-mini":      {InputPerMTok: 1.10, CachedInputPerMTok: 0.275, OutputPerMTok: 4.40},
	// Anthropic (cached = cache reads; cache writes are billed as input)
	"claude-opus-4":     {InputPerMTok: 15, CachedInputPerMTok: 1.50, OutputPerMTok: 75},
	"claude-opus-4-1":   {InputPerMTok: 15, CachedInputPerMTok: 1.50, OutputPerMTok: 75},
	"claude-opus-4-5":   {InputPerMTok: 5, CachedInputPerMTok: 0.50, OutputPerMTok: 25},
	"claude-sonnet-4":   {InputPerMTok: 3, CachedInputPerMTok: 0.30, OutputPerMTok: 15},
	"claude-sonnet-4-5": {InputPerMTok: 3, CachedInputPerMTok: 0.30, OutputPerMTok: 15},
	"claude-haiku-4-5":  {InputPerMTok: 1, CachedInputPerMTok: 0.10, OutputPerMTok: 5},
	"claude-3-5-haiku":  {InputPerMTok: 0.80, CachedInputPerMTok: 0.08, OutputPerMTok: 4},
	// Google Gemini (prompts up to 200k tokens for the Pro models)
	"gemini-3-pro-preview":  {InputPerMTok: 2, CachedInputPerMTok: 0.20, OutputPerMTok: 12},
	"gemini-2.5-pro":        {InputPerMTok: 1.25, CachedInputPerMTok: 0.31, OutputPerMTok: 10},
	"gemini-2.5-flash":      {InputPerMTok: 0.30, CachedInputPerMTok: 0.075, OutputPerMTok: 2.50},
	"gemini-2.5-flash-lite": {InputPerMTok: 0.10, CachedInputPerMTok: 0.025, OutputPerMTok: 0.40},
	"gemini-2.0-flash":      {InputPerMTok: 0.10, CachedInputPerMTok: 0.025, OutputPerMTok: 0.40},
	"gemini-2.0-flash-lite": {InputPerMTok: 0.075, OutputPerMTok: 0.30},
}

// DefaultPrices returns a copy of the built-in price table.
func DefaultPrices() map[string]Price {
	out := make(map[string]Price, len(defaultPrices))
	for k, v := range defaultPrices {
		out[k] = v
	}
	return out
}

// Prices looks up model prices: overrides (LLM_PRICES) first, then the
// built-in table.
type Prices struct {
	overrides map[string]Price
}

// NewPrices returns a table with overrides keyed by model reference or
// name (normalised the same way as lookups).
func NewPrices(overrides map[string]Price) Prices {
	m := make(map[string]Price, len(overrides))
	for k, v := range overrides {
		m[normalizeModel(k)] = v
	}
	return Prices{overrides: m}
}

// Lookup finds the price of a model given as configured ("provider/model",
// an OpenRouter id, or a bare name). It tries the whole reference, then
// without each routing prefix, then without a date suffix
// ("claude-sonnet-4-5-20250929", "gpt-4.1-2025-04-14"). Models served by
// Ollama are free. ok is false when the price is unknown.
func (t Prices) Lookup(ref string) (Price, bool) {
	for _, c := range priceCandidates(ref) {
		if p, ok := t.overrides[c]; ok {
			return p, true
		}
	}
	if provider, _, ok := strings.Cut(strings.ToLower(ref), "/"); ok && provider == "ollama" {
		return Price{}, true
	}
	for _, c := range priceCandidates(ref) {
		if p, ok := defaultPrices[c]; ok {
			return p, true
		}
	}
	return Price{}, false
}

var dateSuffix = regexp.MustCompile(`-(\d{4}-\d{2}-\d{2}|\d{8})$`)

// priceCandidates lists the keys to try for ref, most specific first.
func priceCandidates(ref string) []string {
	n := normalizeModel(ref)
	out := []string{n}
	for {
		_, rest, ok := strings.Cut(n, "/")
		if !ok {
			break
		}
		n = rest
		out = append(out, n)
	}
	if d := dateSuffix.ReplaceAllString(n, ""); d != n {
		out = append(out, d)
	}
	// OpenRouter ids may carry a variant (":free", ":thinking").
	if base, _, ok := strings.Cut(n, ":"); ok {
		out = append(out, base)
	}
	return out
}

// claudeDots matches the dotted version OpenRouter uses
// ("claude-sonnet-4.5") where Anthropic writes "claude-sonnet-4-5".
var claudeDots = regexp.MustCompile(`(claude-[a-z]+-\d+)\.(\d+)`)

func normalizeModel(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return claudeDots.ReplaceAllString(s, "$1-$2")
}

// ParsePrices reads LLM_PRICES: a JSON object of model → price, e.g.
// {"gpt-4.1":{"input_per_mtok":2,"output_per_mtok":8,"cached_input_per_mtok":0.5}}.
// Unknown fields and negative prices are refused.
func ParsePrices(s string) (map[string]Price, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	var m map[string]Price
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf(`must be a JSON object such as {"model":{"input_per_mtok":1,"output_per_mtok":2}}: %w`, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("must be one JSON object")
	}
	for k, p := range m {
		if strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("a model name is empty")
		}
		if p.InputPerMTok < 0 || p.OutputPerMTok < 0 || p.CachedInputPerMTok < 0 {
			return nil, fmt.Errorf("%s: prices must not be negative", k)
		}
	}
	return m, nil
}

// cheaperThan reports whether a costs less than b for a typical agent
// step, which reads far more than it writes: 10,000 input and 1,000
// output tokens.
func cheaperThan(a, b Price) bool {
	step := Usage{InputTokens: 10000, OutputTokens: 1000}
	return a.Cost(step) < b.Cost(step)
}
