package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// backend calls one embedding API; remote adds the dimension check.
type backend interface {
	embed(ctx context.Context, texts []string) ([][]float32, error)
}

// remote is an Embedder over a service. Its dimensions are fixed by the
// first answer (or a known model) and every later answer is checked
// against them, so a model swapped behind the same name fails loudly
// instead of mixing spaces.
type remote struct {
	name string
	dims atomic.Int64
	b    backend
}

func newRemote(name string, dims int, b backend) *remote {
	r := &remote{name: name, b: b}
	r.dims.Store(int64(dims))
	return r
}

func (r *remote) Name() string    { return r.name }
func (r *remote) Dimensions() int { return int(r.dims.Load()) }

func (r *remote) Probe(ctx context.Context) error {
	_, err := r.Embed(ctx, []string{"dimension probe"})
	return err
}

func (r *remote) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	vs, err := r.b.embed(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("embed with %s: %w", r.name, err)
	}
	if len(vs) != len(texts) {
		return nil, fmt.Errorf("embed with %s: %d vectors for %d texts: %w", r.name, len(vs), len(texts), ErrDimensions)
	}
	want := r.dims.Load()
	for i, v := range vs {
		if len(v) == 0 {
			return nil, fmt.Errorf("embed with %s: empty vector for text %d: %w", r.name, i, ErrDimensions)
		}
		if want == 0 {
			r.dims.CompareAndSwap(0, int64(len(v)))
			want = r.dims.Load()
		}
		if int64(len(v)) != want {
			return nil, fmt.Errorf("embed with %s: vector %d has %d dimensions, the space has %d: %w", r.name, i, len(v), want, ErrDimensions)
		}
	}
	return vs, nil
}

// postJSON posts in as JSON to url and decodes the answer into out; a
// non-2xx answer becomes an error quoting the start of its body (never the
// request, which may hold the key).
func postJSON(ctx context.Context, hc *http.Client, url, key string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("read answer of %s: %w", url, err)
	}
	if resp.StatusCode/100 != 2 {
		snippet := data
		if len(snippet) > 300 {
			snippet = snippet[:300]
		}
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, bytes.TrimSpace(snippet))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode answer of %s: %w", url, err)
	}
	return nil
}

// t2v speaks the t2v-transformers container's API: POST /vectors
// {"text": …} → {"text", "vector", "dim"}, one text per request.
type t2v struct {
	base string
	hc   *http.Client
}

// t2vParallel bounds concurrent requests to one container (it serves
// them from one model; more only queue).
const t2vParallel = 4

func (t *t2v) embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	errs := make([]error, len(texts))
	sem := make(chan struct{}, t2vParallel)
	var wg sync.WaitGroup
	for i, text := range texts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var resp struct {
				Vector []float32 `json:"vector"`
			}
			errs[i] = postJSON(ctx, t.hc, t.base+"/vectors", "", map[string]string{"text": text}, &resp)
			out[i] = resp.Vector
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// openAI speaks POST /v1/embeddings {"model","input":[…]} →
// {"data":[{"index","embedding"}]}. The base URL may or may not end in /v1.
type openAI struct {
	base, model, key string
	hc               *http.Client
}

func (o *openAI) url() string {
	if len(o.base) >= 3 && o.base[len(o.base)-3:] == "/v1" {
		return o.base + "/embeddings"
	}
	return o.base + "/v1/embeddings"
}

// openAIBatch stays under the API's 2,048 inputs per request.
const openAIBatch = 256

func (o *openAI) embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += openAIBatch {
		batch := texts[start:min(start+openAIBatch, len(texts))]
		var resp struct {
			Data []struct {
				Index     int       `json:"index"`
				Embedding []float32 `json:"embedding"`
			} `json:"data"`
		}
		req := map[string]any{"model": o.model, "input": batch, "encoding_format": "float"}
		if err := postJSON(ctx, o.hc, o.url(), o.key, req, &resp); err != nil {
			return nil, err
		}
		vs := make([][]float32, len(batch))
		for _, d := range resp.Data {
			if d.Index < 0 || d.Index >= len(batch) || vs[d.Index] != nil {
				return nil, fmt.Errorf("POST %s: answer has a bad or repeated index %d", o.url(), d.Index)
			}
			vs[d.Index] = d.Embedding
		}
		out = append(out, vs...)
	}
	return out, nil
}

// ollama speaks POST /api/embed {"model","input":[…]} → {"embeddings":[…]}.
type ollama struct {
	base, model string
	hc          *http.Client
}

func (o *ollama) embed(ctx context.Context, texts []string) ([][]float32, error) {
	var resp struct {
		Embeddings [][]float32 `json:"embeddings"`
	}
	if err := postJSON(ctx, o.hc, o.base+"/api/embed", "", map[string]any{"model": o.model, "input": texts}, &resp); err != nil {
		return nil, err
	}
	return resp.Embeddings, nil
}
