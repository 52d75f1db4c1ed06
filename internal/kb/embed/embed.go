// Package embed holds the knowledge base's embedders: the built-in offline
// one (SIF-weighted GloVe word vectors, no download at run time) and clients
// of t2v-transformers, OpenAI-compatible /v1/embeddings and Ollama. New picks
// one from the configuration; EnsureSpace tells the caller when stored
// vectors came from another embedder and must be re-indexed.
package embed

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aurora-oss/aurora/internal/kb"
)

// Providers accepted in EMBEDDING_PROVIDER.
const (
	ProviderBuiltin = "builtin"
	ProviderT2V     = "t2v-transformers"
	ProviderOpenAI  = "openai"
	ProviderOllama  = "ollama"
)

// Config chooses and reaches an embedder (EMBEDDING_* variables).
type Config struct {
	// Provider is one of the Provider* constants; "" means builtin.
	Provider string
	// Model is the provider's model name (required for openai and ollama;
	// for t2v-transformers it only names the vector space, since the
	// container serves one model).
	Model string
	// URL is the service's base URL (required for every remote provider:
	// never guessed).
	URL string
	// APIKey is sent as a bearer token (OpenAI-compatible services).
	APIKey string
	// HTTPClient defaults to one with a 60 s timeout.
	HTTPClient *http.Client
}

// ErrDimensions is returned when a service answers vectors of another
// length than the embedder's space, or a different number of them.
var ErrDimensions = errors.New("embedding dimensions do not match")

// New returns the embedder cfg asks for. Remote embedders learn their
// dimensions from the service on first use (EnsureSpace probes them at
// start-up) unless the model is a well-known one.
func New(cfg Config) (kb.Embedder, error) {
	provider := strings.ToLower(strings.TrimSpace(cfg.Provider))
	if provider == "" || provider == ProviderBuiltin {
		if cfg.Model != "" && cfg.Model != builtinModel {
			return nil, fmt.Errorf("EMBEDDING_MODEL %q: the builtin embedder has one model, %q", cfg.Model, builtinModel)
		}
		return NewBuiltin()
	}
	if cfg.URL == "" {
		return nil, fmt.Errorf("EMBEDDING_PROVIDER=%s needs EMBEDDING_URL (the service's base URL)", provider)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	base := strings.TrimRight(cfg.URL, "/")
	switch provider {
	case ProviderT2V, "t2v", "text2vec-transformers":
		model := cfg.Model
		if model == "" {
			model = "default"
		}
		return newRemote(ProviderT2V+"/"+model, 0, &t2v{base: base, hc: hc}), nil
	case ProviderOpenAI:
		if cfg.Model == "" {
			return nil, errors.New("EMBEDDING_PROVIDER=openai needs EMBEDDING_MODEL (e.g. text-embedding-3-small)")
		}
		return newRemote(ProviderOpenAI+"/"+cfg.Model, knownDims[cfg.Model], &openAI{base: base, model: cfg.Model, key: cfg.APIKey, hc: hc}), nil
	case ProviderOllama:
		if cfg.Model == "" {
			return nil, errors.New("EMBEDDING_PROVIDER=ollama needs EMBEDDING_MODEL (e.g. nomic-embed-text)")
		}
		return newRemote(ProviderOllama+"/"+cfg.Model, knownDims[cfg.Model], &ollama{base: base, model: cfg.Model, hc: hc}), nil
	}
	return nil, fmt.Errorf("EMBEDDING_PROVIDER %q: want builtin, t2v-transformers, openai or ollama", cfg.Provider)
}

// knownDims saves a probe for common models. A model missing here is
// probed; a wrong entry would be caught by the dimension check.
var knownDims = map[string]int{
	"text-embedding-3-small": 1536,
	"text-embedding-3-large": 3072,
	"text-embedding-ada-002": 1536,
	"nomic-embed-text":       768,
	"mxbai-embed-large":      1024,
	"all-minilm":             384,
}

// Prober is implemented by embedders whose dimensions are learned from
// the service; Probe embeds one short text to learn them.
type Prober interface {
	Probe(ctx context.Context) error
}

// EnsureSpace compares the vector space the store was indexed in with the
// embedder's. When they differ (another embedder, model or dimension, or a
// store that never recorded one) it resets the store to the embedder's
// space and returns true: the caller must then re-index every document and
// helpful incident. Vectors of two spaces are never mixed: after Reset
// the store holds none of the old ones.
func EnsureSpace(ctx context.Context, store kb.Store, e kb.Embedder) (reindex bool, err error) {
	if p, ok := e.(Prober); ok && e.Dimensions() == 0 {
		if err := p.Probe(ctx); err != nil {
			return false, fmt.Errorf("probe embedder %s: %w", e.Name(), err)
		}
	}
	name, dims, err := store.Space(ctx)
	if err != nil {
		return false, fmt.Errorf("read vector space: %w", err)
	}
	if name == e.Name() && dims == e.Dimensions() {
		return false, nil
	}
	if err := store.Reset(ctx, e.Name(), e.Dimensions()); err != nil {
		return false, fmt.Errorf("reset vector space %s/%d to %s/%d: %w", name, dims, e.Name(), e.Dimensions(), err)
	}
	return true, nil
}
