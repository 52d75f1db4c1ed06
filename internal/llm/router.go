package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aurora-oss/aurora/internal/config"
)

// Purpose is what a model is used for; each has its own setting.
type Purpose string

// Purposes.
const (
	PurposeChat    Purpose = "chat"    // MAIN_MODEL
	PurposeRCA     Purpose = "rca"     // RCA_MODEL
	PurposeSummary Purpose = "summary" // SUMMARIZATION_MODEL
)

// Purposes lists every purpose in display order.
var purposes = []Purpose{PurposeChat, PurposeRCA, PurposeSummary}

// Provider routing names.
const (
	ProviderOpenAI     = "openai"
	ProviderOpenRouter = "openrouter"
	ProviderOllama     = "ollama"
	ProviderAnthropic  = "anthropic"
	ProviderGemini     = "gemini"
)

// Modes of LLM_PROVIDER_MODE besides a provider name.
const (
	ModeAuto   = "auto"
	ModeDirect = "direct"
)

// providerOrder is the order in which the default provider is chosen
// when nothing names one: the first with a key or base URL set.
var providerOrder = []string{ProviderOpenAI, ProviderAnthropic, ProviderGemini, ProviderOpenRouter, ProviderOllama}

// prefixes maps the "provider/" prefixes of model names to providers;
// "google/" is how OpenRouter users write Gemini models.
var prefixes = map[string]string{
	"openai": ProviderOpenAI, "openrouter": ProviderOpenRouter, "ollama": ProviderOllama,
	"anthropic": ProviderAnthropic, "gemini": ProviderGemini, "google": ProviderGemini,
}

// defaultModels are used when a provider is configured but MAIN_MODEL is
// not: capable tool-calling models with known prices (docs/llm.md).
var defaultModels = map[string]string{
	ProviderOpenAI:     "gpt-4.1",
	ProviderAnthropic:  "claude-sonnet-4-5",
	ProviderGemini:     "gemini-2.5-pro",
	ProviderOpenRouter: "anthropic/claude-sonnet-4.5",
	ProviderOllama:     "llama3.1",
}

// Provider endpoints.
const (
	openAIURL     = "https://api.openai.com/v1"
	openRouterURL = "https://openrouter.ai/api/v1"
	ollamaURL     = "http://localhost:11434"
)

// Config is what the router needs; ConfigFrom builds it from the
// environment's config.LLM.
type Config struct {
	// Mode is LLM_PROVIDER_MODE: auto (or empty), direct, openrouter,
	// openai, ollama, anthropic or gemini.
	Mode                                          string
	MainModel, RCAModel, SummarizationModel       string
	OptimizeCosts                                 bool
	OpenAIAPIKey, OpenAIBaseURL                   string
	AnthropicAPIKey, AnthropicBaseURL             string
	GoogleAPIKey, OpenRouterAPIKey, OllamaBaseURL string
	// Prices override the built-in table (LLM_PRICES).
	Prices map[string]Price
	// HTTPClient carries every provider's requests (nil: a default one).
	HTTPClient *http.Client
	// Timeout bounds one attempt of a call (0: DefaultTimeout).
	Timeout time.Duration
	// MaxRetries is how often a failed call is retried (0:
	// DefaultMaxRetries; negative: never).
	MaxRetries int
}

// ConfigFrom builds the router's Config from the LLM settings. The error
// names LLM_PRICES when it is not valid.
func ConfigFrom(c config.LLM) (Config, error) {
	prices, err := ParsePrices(c.Prices)
	if err != nil {
		return Config{}, fmt.Errorf("LLM_PRICES %w", err)
	}
	return Config{
		Mode: c.ProviderMode, MainModel: c.MainModel, RCAModel: c.RCAModel, SummarizationModel: c.SummarizationModel,
		OptimizeCosts: c.RCAOptimizeCosts,
		OpenAIAPIKey:  c.OpenAIAPIKey, OpenAIBaseURL: c.OpenAIBaseURL,
		AnthropicAPIKey: c.AnthropicAPIKey, AnthropicBaseURL: c.AnthropicBaseURL,
		GoogleAPIKey: c.GoogleAIAPIKey, OpenRouterAPIKey: c.OpenRouterAPIKey, OllamaBaseURL: c.OllamaBaseURL,
		Prices: prices, Timeout: c.Timeout,
	}, nil
}

// Secrets lists the configured keys, for a redact.Redactor that removes
// them from any text (they are also caught by pattern, but a proxy's key
// may have no recognisable shape).
func (c Config) Secrets() []string {
	var out []string
	for _, k := range []string{c.OpenAIAPIKey, c.AnthropicAPIKey, c.GoogleAPIKey, c.OpenRouterAPIKey} {
		if k != "" {
			out = append(out, k)
		}
	}
	return out
}

// ModelInfo describes the model of one purpose, without any key: for
// /api/v1/llm, the UI and start-up logs.
type ModelInfo struct {
	Purpose  Purpose `json:"purpose"`
	Provider string  `json:"provider"`
	// Model is the name sent to the provider; Ref the model as
	// configured (prices and metrics are keyed by it).
	Model string `json:"model"`
	Ref   string `json:"ref"`
	// Source says where the choice came from: the variable, "default"
	// (no model named), or a fallback.
	Source     string `json:"source"`
	Price      Price  `json:"price"`
	PriceKnown bool   `json:"price_known"`
	// BaseURL is shown for self-hosted endpoints (credentials removed).
	BaseURL string `json:"base_url,omitempty"`
}

type routed struct {
	model Model
	raw   Provider // without retries, for connection tests
	info  ModelInfo
}

// Router resolves the configured models per purpose.
type Router struct {
	mode   string
	models map[Purpose]routed
}

// NewRouter checks cfg and builds the providers. No model configured (no
// key, no base URL, no model name) is not an error: Model then reports
// false and investigations stay deterministic. The error names the
// setting to fix.
func NewRouter(cfg Config) (*Router, error) {
	b := &builder{cfg: cfg, providers: map[string]routedProvider{}, prices: NewPrices(cfg.Prices)}
	if b.cfg.HTTPClient == nil {
		b.cfg.HTTPClient = &http.Client{}
	}
	return b.build()
}

type routedProvider struct {
	p, raw  Provider
	baseURL string
}

type builder struct {
	cfg       Config
	prices    Prices
	providers map[string]routedProvider
}

type setting struct {
	env, value string
}

func (b *builder) available(name string) bool {
	c := b.cfg
	switch name {
	case ProviderOpenAI:
		return c.OpenAIAPIKey != "" || c.OpenAIBaseURL != ""
	case ProviderAnthropic:
		return c.AnthropicAPIKey != ""
	case ProviderGemini:
		return c.GoogleAPIKey != ""
	case ProviderOpenRouter:
		return c.OpenRouterAPIKey != ""
	case ProviderOllama:
		return c.OllamaBaseURL != ""
	}
	return false
}

// needs names what a provider needs, for error messages.
var needs = map[string]string{
	ProviderOpenAI:     "OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server)",
	ProviderAnthropic:  "ANTHROPIC_API_KEY",
	ProviderGemini:     "GOOGLE_AI_API_KEY",
	ProviderOpenRouter: "OPENROUTER_API_KEY",
}

func (b *builder) build() (*Router, error) {
	mode := strings.ToLower(strings.TrimSpace(b.cfg.Mode))
	if mode == "" {
		mode = ModeAuto
	}
	if mode != ModeAuto && mode != ModeDirect && !slices.Contains(providerOrder, mode) {
		return nil, fmt.Errorf("LLM_PROVIDER_MODE %q: must be auto, direct, openrouter, openai, ollama, anthropic or gemini", b.cfg.Mode)
	}
	named := []setting{
		{"MAIN_MODEL", strings.TrimSpace(b.cfg.MainModel)},
		{"RCA_MODEL", strings.TrimSpace(b.cfg.RCAModel)},
		{"SUMMARIZATION_MODEL", strings.TrimSpace(b.cfg.SummarizationModel)},
	}
	var def string // the default provider
	for _, p := range providerOrder {
		if b.available(p) {
			def = p
			break
		}
	}
	if mode == ModeAuto {
		mode = ModeDirect
		prefixed := false
		for _, s := range named {
			if _, _, ok := b.prefix(s.value); ok {
				prefixed = true
			}
		}
		if !prefixed && def != "" {
			mode = def
		}
	}
	r := &Router{mode: mode, models: map[Purpose]routed{}}
	anyNamed := named[0].value != "" || named[1].value != "" || named[2].value != ""
	if mode == ModeDirect && def == "" && !anyNamed {
		return r, nil // nothing configured: deterministic
	}
	if mode != ModeDirect {
		def = mode
		if mode != ProviderOllama && !b.available(mode) {
			return nil, fmt.Errorf("LLM_PROVIDER_MODE=%s needs %s", mode, needs[mode])
		}
	}

	resolved := map[string]routed{}
	for _, s := range named {
		if s.value == "" {
			continue
		}
		m, err := b.resolve(mode, def, s)
		if err != nil {
			return nil, err
		}
		resolved[s.env] = m
	}
	main, ok := resolved["MAIN_MODEL"]
	if !ok {
		// A custom OpenAI-compatible server's models cannot be guessed.
		custom := def == ProviderOpenAI && b.cfg.OpenAIBaseURL != "" && !isOpenAIHost(b.cfg.OpenAIBaseURL)
		rca, rcaOK := resolved["RCA_MODEL"]
		sum, sumOK := resolved["SUMMARIZATION_MODEL"]
		switch {
		case def != "" && !custom:
			var err error
			main, err = b.resolve(def, def, setting{"MAIN_MODEL", defaultModels[def]})
			if err != nil {
				return nil, err
			}
			main.info.Source = "default"
		case rcaOK:
			main = rca
			main.info.Source = "RCA_MODEL (MAIN_MODEL unset)"
		case sumOK:
			main = sum
			main.info.Source = "SUMMARIZATION_MODEL (MAIN_MODEL unset)"
		case custom:
			return nil, fmt.Errorf("MAIN_MODEL is not set: name the model the server at OPENAI_BASE_URL serves")
		default:
			return nil, fmt.Errorf("MAIN_MODEL is not set and no provider is configured: set MAIN_MODEL with a provider prefix and its key, or one of OPENAI_API_KEY, OPENAI_BASE_URL, ANTHROPIC_API_KEY, GOOGLE_AI_API_KEY, OPENROUTER_API_KEY, OLLAMA_BASE_URL")
		}
	}
	r.models[PurposeChat] = with(main, PurposeChat)

	rca, ok := resolved["RCA_MODEL"]
	switch {
	case ok:
	case b.cfg.OptimizeCosts:
		rca = main
		rca.info.Source = "MAIN_MODEL (RCA_OPTIMIZE_COSTS: cheapest configured)"
		if s, ok := resolved["SUMMARIZATION_MODEL"]; ok && s.info.PriceKnown && main.info.PriceKnown && cheaperThan(s.info.Price, main.info.Price) {
			rca = s
			rca.info.Source = "SUMMARIZATION_MODEL (RCA_OPTIMIZE_COSTS: cheapest configured)"
		}
	default:
		rca = main
		rca.info.Source = "MAIN_MODEL (RCA_MODEL unset)"
	}
	r.models[PurposeRCA] = with(rca, PurposeRCA)

	sum, ok := resolved["SUMMARIZATION_MODEL"]
	if !ok {
		sum = main
		sum.info.Source = "MAIN_MODEL (SUMMARIZATION_MODEL unset)"
	}
	r.models[PurposeSummary] = with(sum, PurposeSummary)
	return r, nil
}

func with(m routed, p Purpose) routed {
	m.info.Purpose = p
	return m
}

// prefix splits "provider/model" when provider is a known prefix.
func (b *builder) prefix(ref string) (provider, rest string, ok bool) {
	head, rest, found := strings.Cut(ref, "/")
	if !found {
		return "", ref, false
	}
	provider, ok = prefixes[strings.ToLower(head)]
	return provider, rest, ok
}

// resolve turns one configured model name into a provider and the name
// sent to it, following the mode's rules (docs/llm.md).
func (b *builder) resolve(mode, def string, s setting) (routed, error) {
	provider, name := def, s.value
	switch mode {
	case ProviderOpenRouter:
		// OpenRouter's ids are "vendor/model": the whole reference.
		if p, rest, ok := b.prefix(s.value); ok && p == ProviderOpenRouter {
			name = rest
		}
	case ModeDirect:
		if p, rest, ok := b.prefix(s.value); ok {
			provider, name = p, rest
		} else if def == "" {
			return routed{}, fmt.Errorf("%s %q names no provider and none is configured: write it as provider/model (openai, anthropic, gemini, openrouter, ollama) or set that provider's key", s.env, s.value)
		}
	default:
		// One provider for all; a prefix naming it is dropped, any other
		// prefix is part of the name (a proxy may route by it).
		if p, rest, ok := b.prefix(s.value); ok && p == mode {
			name = rest
		}
	}
	if name == "" {
		return routed{}, fmt.Errorf("%s %q: the model name after the provider is empty", s.env, s.value)
	}
	if provider != ProviderOllama && !b.available(provider) {
		return routed{}, fmt.Errorf("%s %q needs %s", s.env, s.value, needs[provider])
	}
	rp, err := b.provider(provider)
	if err != nil {
		return routed{}, err
	}
	price, known := b.prices.Lookup(provider + "/" + name)
	if provider == ProviderOllama {
		price, known = Price{}, true // local models cost nothing
	}
	ref := s.value
	m := Model{Provider: rp.p, Name: name, Ref: ref, Price: price}
	return routed{model: m, raw: rp.raw, info: ModelInfo{
		Provider: provider, Model: name, Ref: ref, Source: s.env, Price: price, PriceKnown: known, BaseURL: rp.baseURL,
	}}, nil
}

// provider builds (once) the provider of a routing name.
func (b *builder) provider(name string) (routedProvider, error) {
	if rp, ok := b.providers[name]; ok {
		return rp, nil
	}
	c := b.cfg
	var raw Provider
	var shown string
	switch name {
	case ProviderOpenAI:
		base := c.OpenAIBaseURL
		if base == "" {
			base = openAIURL
		} else {
			shown = safeURL(base)
		}
		raw = NewOpenAI(OpenAIOptions{Name: name, BaseURL: base, APIKey: c.OpenAIAPIKey, HTTPClient: c.HTTPClient,
			// Only OpenAI's own API needs max_completion_tokens (its
			// reasoning models refuse max_tokens); compatible servers
			// may not know it.
			MaxCompletionTokens: isOpenAIHost(base)})
	case ProviderOpenRouter:
		raw = NewOpenAI(OpenAIOptions{Name: name, BaseURL: openRouterURL, APIKey: c.OpenRouterAPIKey, HTTPClient: c.HTTPClient,
			Headers: map[string]string{"HTTP-Referer": "https://github.com/aurora-oss/aurora", "X-Title": "Aurora"}})
	case ProviderOllama:
		base := c.OllamaBaseURL
		if base == "" {
			base = ollamaURL
		}
		shown = safeURL(base)
		raw = NewOpenAI(OpenAIOptions{Name: name, BaseURL: ollamaV1(base), HTTPClient: c.HTTPClient})
	case ProviderAnthropic:
		if c.AnthropicBaseURL != "" {
			shown = safeURL(c.AnthropicBaseURL)
		}
		raw = NewAnthropic(AnthropicOptions{APIKey: c.AnthropicAPIKey, BaseURL: c.AnthropicBaseURL, HTTPClient: c.HTTPClient})
	case ProviderGemini:
		g, err := NewGemini(context.Background(), GeminiOptions{APIKey: c.GoogleAPIKey, HTTPClient: c.HTTPClient})
		if err != nil {
			return routedProvider{}, fmt.Errorf("GOOGLE_AI_API_KEY: %w", err)
		}
		raw = g
	default:
		return routedProvider{}, fmt.Errorf("unknown provider %q", name)
	}
	pol := RetryPolicy{MaxRetries: c.MaxRetries, Timeout: c.Timeout}
	if pol.MaxRetries == 0 {
		pol.MaxRetries = DefaultMaxRetries
	} else if pol.MaxRetries < 0 {
		pol.MaxRetries = 0
	}
	if pol.Timeout <= 0 {
		pol.Timeout = DefaultTimeout
	}
	rp := routedProvider{p: WithRetry(raw, pol), raw: raw, baseURL: shown}
	b.providers[name] = rp
	return rp, nil
}

// ollamaV1 is the OpenAI-compatible endpoint of an Ollama server, whose
// base URL users give without the /v1 (as Ollama's own clients take it).
func ollamaV1(base string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasSuffix(base, "/v1") {
		return base
	}
	return base + "/v1"
}

func isOpenAIHost(base string) bool {
	u, err := url.Parse(base)
	return err == nil && u.Hostname() == "api.openai.com"
}

// safeURL drops credentials from a URL before it is shown.
func safeURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// Model returns the model for a purpose; false when no model is
// configured (investigations then stay deterministic).
func (r *Router) Model(p Purpose) (Model, bool) {
	if r == nil {
		return Model{}, false
	}
	m, ok := r.models[p]
	return m.model, ok
}

// Mode is the effective LLM_PROVIDER_MODE (auto resolved).
func (r *Router) Mode() string {
	if r == nil || len(r.models) == 0 {
		return "none"
	}
	return r.mode
}

// Describe lists what is configured per purpose, without keys.
func (r *Router) Describe() []ModelInfo {
	if r == nil {
		return nil
	}
	var out []ModelInfo
	for _, p := range purposes {
		if m, ok := r.models[p]; ok {
			out = append(out, m.info)
		}
	}
	return out
}

// TestResult is the outcome of a connection test of one model.
type TestResult struct {
	Ref      string    `json:"ref"`
	Provider string    `json:"provider"`
	Model    string    `json:"model"`
	Purposes []Purpose `json:"purposes"`
	OK       bool      `json:"ok"`
	// Kind and Message describe a failure (Kind is an ErrorKind).
	Kind      string `json:"kind,omitempty"`
	Message   string `json:"message,omitempty"`
	LatencyMS int64  `json:"latency_ms"`
}

// testTimeout bounds each connection test.
const testTimeout = 30 * time.Second

// Test sends a tiny request to each distinct configured model, at once,
// without retries, and reports per model whether it answered.
func (r *Router) Test(ctx context.Context) []TestResult {
	if r == nil {
		return nil
	}
	type target struct {
		res TestResult
		m   routed
	}
	var targets []*target
	byRef := map[string]*target{}
	for _, p := range purposes {
		m, ok := r.models[p]
		if !ok {
			continue
		}
		key := m.info.Provider + "\x00" + m.info.Model
		if t, ok := byRef[key]; ok {
			t.res.Purposes = append(t.res.Purposes, p)
			continue
		}
		t := &target{res: TestResult{Ref: m.info.Ref, Provider: m.info.Provider, Model: m.info.Model, Purposes: []Purpose{p}}, m: m}
		byRef[key] = t
		targets = append(targets, t)
	}
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, testTimeout)
			defer cancel()
			start := time.Now()
			_, err := t.m.raw.Chat(cctx, Request{
				Model:     t.m.model.Name,
				Messages:  []Message{{Role: RoleUser, Content: "Reply with the single word OK."}},
				MaxTokens: 32,
			}, nil)
			t.res.LatencyMS = time.Since(start).Milliseconds()
			if err == nil {
				t.res.OK = true
				return
			}
			var e *Error
			if errors.As(err, &e) {
				t.res.Kind, t.res.Message = string(e.Kind), e.Message
			} else {
				t.res.Kind, t.res.Message = string(ErrNetwork), err.Error()
			}
		})
	}
	wg.Wait()
	out := make([]TestResult, len(targets))
	for i, t := range targets {
		out[i] = t.res
	}
	return out
}
