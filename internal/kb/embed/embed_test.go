package embed

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aurora-oss/aurora/internal/kb"
)

func TestDataChecksum(t *testing.T) {
	t.Parallel()
	if got := dataSHA256(); got != GloveSHA256 {
		t.Fatalf("data/glove-6b-100d-50k.bin sha256 = %s, want %s: re-run the converter deliberately and update GloveSHA256", got, GloveSHA256)
	}
	if len(gloveData) > 10<<20 {
		t.Fatalf("data file is %d bytes, over the 10 MB budget", len(gloveData))
	}
}

func cos(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return d / math.Sqrt(na*nb)
}

func TestBuiltin(t *testing.T) {
	t.Parallel()
	b, err := NewBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	if b.Name() != "builtin/glove-sif-split-bag156-stem-256d" || b.Dimensions() != 256 {
		t.Fatalf("name/dims = %s/%d", b.Name(), b.Dimensions())
	}
	if len(b.index) != 50000 {
		t.Fatalf("vocabulary = %d words, want 50000", len(b.index))
	}
	ctx := context.Background()
	texts := []string{
		"the database ran out of connections",    // 0
		"postgres connection pool exhausted",     // 1
		"the cat sat on the mat",                 // 2
		"pod oomkilled by the kernel",            // 3
		"OOMKilled pod, memory limit",            // 4
		"",                                       // 5
		"zzqxvy-unknownword",                     // 6
		"zzqxvy unknownword appears again",       // 7
		"The Database ran out of CONNECTIONS!!!", // 8
	}
	vs, err := b.Embed(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if len(v) != 256 {
			t.Fatalf("vector %d has %d dims", i, len(v))
		}
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if i == 5 {
			if n != 0 {
				t.Fatalf("empty text: norm² %v, want the zero vector", n)
			}
			continue
		}
		if math.Abs(n-1) > 1e-4 {
			t.Fatalf("vector %d: norm² %v, want unit length", i, n)
		}
	}
	if c01, c02 := cos(vs[0], vs[1]), cos(vs[0], vs[2]); c01 <= c02+0.1 {
		t.Errorf("related texts %.3f not clearly closer than unrelated %.3f", c01, c02)
	}
	if c := cos(vs[0], vs[8]); c < 0.9999 {
		t.Errorf("case and punctuation changed the vector: cos %.5f", c)
	}
	// Unknown words are hashed, so they match each other.
	if c67, c62 := cos(vs[6], vs[7]), cos(vs[6], vs[2]); c67 <= c62+0.2 {
		t.Errorf("shared unknown words: cos %.3f, unrelated %.3f", c67, c62)
	}
	// Deterministic: the same text embeds to the same vector.
	again, _ := b.Embed(ctx, texts[6:7])
	if cos(again[0], vs[6]) < 0.999999 {
		t.Error("hashing is not deterministic")
	}
	// Variants have their own names (never mixed with the default space).
	names := map[string]bool{b.Name(): true}
	for _, o := range []BuiltinOptions{{Weighting: WeightMean}, {NoHashing: true}, {KeepCommon: true}, {NoBag: true}, {Weighting: WeightMean, NoHashing: true, NoBag: true}} {
		v, err := NewBuiltinWith(o)
		if err != nil {
			t.Fatal(err)
		}
		if names[v.Name()] {
			t.Fatalf("variant %+v reuses the name %s", o, v.Name())
		}
		names[v.Name()] = true
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Embed(cctx, texts); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled embed: %v", err)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"OOMKilled: exit-code 137", "oomkilled exit code 137"},
		{"  ", ""},
		{"café 5xx_errors", "café 5xx errors"},
	} {
		if got := strings.Join(Tokens(tc.in), " "); got != tc.want {
			t.Errorf("Tokens(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Test servers speak the published wire formats:
//   - t2v-transformers: POST /vectors {"text"} → {"text","vector","dim"}
//     (github.com/weaviate/t2v-transformers-models app.py)
//   - OpenAI: POST /v1/embeddings {"model","input":[…]} →
//     {"object":"list","data":[{"object":"embedding","index","embedding"}],"model","usage"}
//   - Ollama: POST /api/embed {"model","input":[…]} → {"model","embeddings":[[…]]}
func fakeVector(text string, dims int) []float32 {
	v := make([]float32, dims)
	for i, r := range text {
		v[i%dims] += float32(r)
	}
	return v
}

type fake struct {
	dims     atomic.Int64
	requests atomic.Int64
	auth     atomic.Value
}

func newFake(t *testing.T, dims int) (*fake, *httptest.Server) {
	f := &fake{}
	f.dims.Store(int64(dims))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /vectors", func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		var in struct {
			Text string `json:"text"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		v := fakeVector(in.Text, int(f.dims.Load()))
		json.NewEncoder(w).Encode(map[string]any{"text": in.Text, "vector": v, "dim": len(v)})
	})
	mux.HandleFunc("POST /v1/embeddings", func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		f.auth.Store(r.Header.Get("Authorization"))
		var in struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Model == "" {
			w.WriteHeader(400)
			w.Write([]byte(`{"error":{"message":"bad request","type":"invalid_request_error"}}`))
			return
		}
		if in.Model == "missing" {
			w.WriteHeader(404)
			w.Write([]byte(`{"error":{"message":"The model missing does not exist","type":"invalid_request_error"}}`))
			return
		}
		var data []map[string]any
		// Answer out of order: clients must use index.
		for i := len(in.Input) - 1; i >= 0; i-- {
			data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": fakeVector(in.Input[i], int(f.dims.Load()))})
		}
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": in.Model, "usage": map[string]int{"prompt_tokens": 1, "total_tokens": 1}})
	})
	mux.HandleFunc("POST /api/embed", func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		var in struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, `{"error":"bad"}`, 400)
			return
		}
		var out [][]float32
		for _, s := range in.Input {
			out = append(out, fakeVector(s, int(f.dims.Load())))
		}
		json.NewEncoder(w).Encode(map[string]any{"model": in.Model, "embeddings": out})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func TestRemoteEmbedders(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		cfg      func(url string) Config
		wantName string
		perText  bool // one request per text
	}{
		{"t2v", func(u string) Config { return Config{Provider: "t2v-transformers", URL: u, Model: "minilm"} }, "t2v-transformers/minilm", true},
		{"openai", func(u string) Config {
			return Config{Provider: "openai", URL: u, Model: "my-embedder", APIKey: "sk-test"}
		}, "openai/my-embedder", false},
		{"openai base ending in v1", func(u string) Config { return Config{Provider: "openai", URL: u + "/v1/", Model: "my-embedder"} }, "openai/my-embedder", false},
		{"ollama", func(u string) Config { return Config{Provider: "ollama", URL: u, Model: "custom-embed"} }, "ollama/custom-embed", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFake(t, 8)
			e, err := New(tc.cfg(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			if e.Name() != tc.wantName {
				t.Fatalf("name %q, want %q", e.Name(), tc.wantName)
			}
			if e.Dimensions() != 0 {
				t.Fatalf("dims before probe = %d, want 0 (unknown model)", e.Dimensions())
			}
			ctx := context.Background()
			texts := []string{"alpha", "beta gamma", "delta"}
			vs, err := e.Embed(ctx, texts)
			if err != nil {
				t.Fatal(err)
			}
			if e.Dimensions() != 8 {
				t.Fatalf("dims after first answer = %d, want 8", e.Dimensions())
			}
			for i, v := range vs {
				if cos(v, fakeVector(texts[i], 8)) < 0.99999 {
					t.Fatalf("vector %d is not text %d's (order lost)", i, i)
				}
			}
			if n := f.requests.Load(); tc.perText && n != 3 || !tc.perText && n != 1 {
				t.Fatalf("%d requests", n)
			}
			if tc.name == "openai" && f.auth.Load() != "Bearer sk-test" {
				t.Fatalf("Authorization %q", f.auth.Load())
			}
			// The service's model changes behind the same name: the
			// dimension check refuses to mix spaces.
			f.dims.Store(16)
			if _, err := e.Embed(ctx, []string{"x"}); !errors.Is(err, ErrDimensions) {
				t.Fatalf("16-d answer in an 8-d space: %v, want ErrDimensions", err)
			}
			if vs, err := e.Embed(ctx, nil); err != nil || len(vs) != 0 {
				t.Fatalf("empty input: %v %v", vs, err)
			}
		})
	}
}

func TestRemoteErrors(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t, 4)
	e, err := New(Config{Provider: "openai", URL: srv.URL, Model: "missing", APIKey: "sk-secret-key"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Embed(context.Background(), []string{"x"})
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("error %v, want the 404 and the service's message", err)
	}
	if strings.Contains(err.Error(), "sk-secret-key") {
		t.Fatal("the API key leaked into the error")
	}
	// A wrong URL fails loudly; it never falls back to something else.
	e, _ = New(Config{Provider: "ollama", URL: "http://127.0.0.1:1", Model: "m"})
	if _, err := e.Embed(context.Background(), []string{"x"}); err == nil {
		t.Fatal("unreachable service: no error")
	}
	// An answer with fewer vectors than texts.
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/embed", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"model":"m","embeddings":[[1,2]]}`))
	})
	short := httptest.NewServer(mux)
	defer short.Close()
	e, _ = New(Config{Provider: "ollama", URL: short.URL, Model: "m"})
	if _, err := e.Embed(context.Background(), []string{"a", "b"}); !errors.Is(err, ErrDimensions) {
		t.Fatalf("1 vector for 2 texts: %v", err)
	}
}

func TestNewConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg     Config
		name    string
		dims    int
		wantErr string
	}{
		{Config{}, "builtin/glove-sif-split-bag156-stem-256d", 256, ""},
		{Config{Provider: "BuiltIn"}, "builtin/glove-sif-split-bag156-stem-256d", 256, ""},
		{Config{Provider: "builtin", Model: "other"}, "", 0, "one model"},
		{Config{Provider: "openai", Model: "text-embedding-3-small"}, "", 0, "EMBEDDING_URL"},
		{Config{Provider: "openai", URL: "http://x"}, "", 0, "EMBEDDING_MODEL"},
		{Config{Provider: "ollama", URL: "http://x"}, "", 0, "EMBEDDING_MODEL"},
		{Config{Provider: "openai", URL: "http://x", Model: "text-embedding-3-small"}, "openai/text-embedding-3-small", 1536, ""},
		{Config{Provider: "ollama", URL: "http://x", Model: "nomic-embed-text"}, "ollama/nomic-embed-text", 768, ""},
		{Config{Provider: "t2v-transformers", URL: "http://x"}, "t2v-transformers/default", 0, ""},
		{Config{Provider: "cohere", URL: "http://x"}, "", 0, "want builtin"},
	} {
		e, err := New(tc.cfg)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("New(%+v) error %v, want %q", tc.cfg, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("New(%+v): %v", tc.cfg, err)
			continue
		}
		if e.Name() != tc.name || e.Dimensions() != tc.dims {
			t.Errorf("New(%+v) = %s/%d, want %s/%d", tc.cfg, e.Name(), e.Dimensions(), tc.name, tc.dims)
		}
	}
}

// spaceStore records Space/Reset; EnsureSpace only uses those two.
type spaceStore struct {
	kb.Store
	name   string
	dims   int
	resets int
	err    error
}

func (s *spaceStore) Space(context.Context) (string, int, error) { return s.name, s.dims, s.err }
func (s *spaceStore) Reset(_ context.Context, name string, dims int) error {
	s.resets++
	s.name, s.dims = name, dims
	return nil
}

func TestEnsureSpace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, err := NewBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		stored      string
		dims        int
		wantReindex bool
	}{
		{"empty store", "", 0, true},
		{"same space", "builtin/glove-sif-split-bag156-stem-256d", 256, false},
		{"other embedder", "openai/text-embedding-3-small", 1536, true},
		{"same name other dims", "builtin/glove-sif-split-bag156-stem-256d", 100, true},
		{"variant of the builtin", "builtin/glove-sif-100d", 100, true},
	} {
		s := &spaceStore{name: tc.stored, dims: tc.dims}
		got, err := EnsureSpace(ctx, s, b)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.wantReindex || (s.resets == 1) != tc.wantReindex {
			t.Errorf("%s: reindex %v after %d resets, want %v", tc.name, got, s.resets, tc.wantReindex)
		}
		if s.name != b.Name() || s.dims != 256 {
			t.Errorf("%s: store left in %s/%d", tc.name, s.name, s.dims)
		}
		// Idempotent: a second start-up finds the space and does nothing.
		if again, _ := EnsureSpace(ctx, s, b); again {
			t.Errorf("%s: second EnsureSpace asked for another re-index", tc.name)
		}
	}
	// A remote embedder of unknown dimensions is probed first.
	_, srv := newFake(t, 12)
	e, _ := New(Config{Provider: "ollama", URL: srv.URL, Model: "m"})
	s := &spaceStore{name: "builtin/glove-sif-100d", dims: 100}
	if re, err := EnsureSpace(ctx, s, e); err != nil || !re || s.dims != 12 || s.name != "ollama/m" {
		t.Fatalf("probe: reindex %v err %v space %s/%d", re, err, s.name, s.dims)
	}
	// An unreachable embedder never resets the store.
	e, _ = New(Config{Provider: "ollama", URL: "http://127.0.0.1:1", Model: "m"})
	s = &spaceStore{name: "builtin/glove-sif-100d", dims: 100}
	if _, err := EnsureSpace(ctx, s, e); err == nil || s.resets != 0 {
		t.Fatalf("unreachable embedder: err %v resets %d", err, s.resets)
	}
	s = &spaceStore{err: errors.New("db down")}
	if _, err := EnsureSpace(ctx, s, b); err == nil || s.resets != 0 {
		t.Fatalf("store error: err %v resets %d", err, s.resets)
	}
}

func BenchmarkBuiltinEmbed(b *testing.B) {
	e, err := NewBuiltin()
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat("The payments service exhausted its database connection pool after release 4.12. ", 18) // ~1,500 chars
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := e.Embed(context.Background(), []string{text}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewBuiltin(b *testing.B) {
	for b.Loop() {
		if _, err := NewBuiltin(); err != nil {
			b.Fatal(err)
		}
	}
}

// Texts come from uploaded documents and queries: any input embeds to a
// unit (or zero) vector of the right length, without panicking.
func FuzzBuiltinEmbed(f *testing.F) {
	b, err := NewBuiltin()
	if err != nil {
		f.Fatal(err)
	}
	f.Add("the database ran out of connections")
	f.Add("\xff\xfe OOMKilled 137 ßtraße 日本語")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		vs, err := b.Embed(context.Background(), []string{text})
		if err != nil || len(vs) != 1 || len(vs[0]) != b.Dimensions() {
			t.Fatalf("embed %q: %v %d", text, err, len(vs))
		}
		var n float64
		for _, x := range vs[0] {
			if math.IsNaN(float64(x)) {
				t.Fatalf("NaN for %q", text)
			}
			n += float64(x) * float64(x)
		}
		if n != 0 && math.Abs(n-1) > 1e-4 {
			t.Fatalf("norm² %v for %q", n, text)
		}
	})
}
