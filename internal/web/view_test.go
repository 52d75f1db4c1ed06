package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCite(t *testing.T) {
	t.Parallel()
	cites := map[int]citation{1: {N: 1, StepSeq: 3, Tool: "kubernetes.logs"}, 2: {N: 2, StepSeq: 5, Tool: "prometheus.query"}}
	tests := []struct {
		name  string
		text  string
		extra []int
		want  string // segments rendered as text, citations as {n→seq}
	}{
		{"plain", "no citations here", nil, "no citations here"},
		{"inline", "OOM killed [1] after deploy [2].", nil, "OOM killed {1→3} after deploy {2→5}."},
		{"unknown number stays text", "see [9] and [1]", nil, "see [9] and {1→3}"},
		{"leading zero stays text", "[01] and [0] and [2]", nil, "[01] and [0] and {2→5}"},
		{"adjacent", "[1][2]", nil, "{1→3}{2→5}"},
		{"extra appended once", "crash loop [1]", []int{1, 2}, "crash loop {1→3} {2→5}"},
		{"extra unknown ignored", "x", []int{7}, "x"},
		{"markup is just text", "<b>[1]</b>", nil, "<b>{1→3}</b>"},
		{"empty", "", []int{2}, " {2→5}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := render(cite(tt.text, tt.extra, cites)); got != tt.want {
				t.Errorf("cite(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func render(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.N != 0 {
			b.WriteString("{" + strconv.Itoa(s.N) + "→" + strconv.Itoa(s.StepSeq) + "}")
			continue
		}
		b.WriteString(s.Text)
	}
	return b.String()
}

// FuzzCite checks that splitting report text (written from attacker-
// influenced alert fields) at citations never loses or reorders text.
func FuzzCite(f *testing.F) {
	for _, s := range []string{"a [1] b", "[1][2][3]", "[", "[12345]", "x]y[1", "<script>[1]</script>"} {
		f.Add(s)
	}
	cites := map[int]citation{1: {N: 1, StepSeq: 1}, 2: {N: 2, StepSeq: 2}, 3: {N: 3, StepSeq: 3}}
	f.Fuzz(func(t *testing.T, text string) {
		var b strings.Builder
		for _, s := range cite(text, nil, cites) {
			if s.N != 0 {
				b.WriteString("[" + strconv.Itoa(s.N) + "]")
				continue
			}
			b.WriteString(s.Text)
		}
		if b.String() != text {
			t.Fatalf("cite(%q) rebuilt as %q", text, b.String())
		}
	})
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                     "/",
		"/":                    "/",
		"/incidents/abc?x=1":   "/incidents/abc?x=1",
		"//evil.example":       "/",
		"https://evil.example": "/",
		"/\\evil.example":      "/",
		"incidents":            "/",
		"/a\r\nSet-Cookie: x":  "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAge(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		-time.Second:                     "0s",
		42 * time.Second:                 "42s",
		5*time.Minute + 10*time.Second:   "5m",
		3*time.Hour + 12*time.Minute:     "3h 12m",
		(4*24+2)*time.Hour + time.Minute: "4d 2h",
	} {
		if got := age(d); got != want {
			t.Errorf("age(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestVendoredHTMX keeps the vendored file and the checksum its README
// states in step.
func TestVendoredHTMX(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("static/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("static/README.md")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if !strings.Contains(string(readme), hex.EncodeToString(sum[:])) {
		t.Fatalf("static/README.md does not state the sha256 of htmx.min.js (%x)", sum)
	}
}

func TestStepText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`{"text":"line 1\nline 2"}`, "line 1\nline 2"},
		{`{"text":"partial","error":"timeout"}`, "error: timeout\npartial"},
		{`{"title":"\u003cscript\u003e","n":1.50}`, "{\n  \"n\": 1.50,\n  \"title\": \"<script>\"\n}"},
		{`not json`, "not json"},
		{``, ""},
	}
	for _, tt := range tests {
		if got := stepText([]byte(tt.in)); got != tt.want {
			t.Errorf("stepText(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStaticAssets(t *testing.T) {
	t.Parallel()
	h, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("static/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	get := func(header map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", h.asset("htmx.min.js"), nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	plain := get(nil)
	if plain.Code != 200 || !bytes.Equal(plain.Body.Bytes(), want) || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("plain: %d, %d bytes, encoding %q", plain.Code, plain.Body.Len(), plain.Header().Get("Content-Encoding"))
	}
	if cc := plain.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Fatalf("hashed asset URL not cached for good: %q", cc)
	}
	gz := get(map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	if gz.Header().Get("Content-Encoding") != "gzip" || !strings.HasPrefix(gz.Header().Get("Content-Type"), "text/javascript") {
		t.Fatalf("gzip: encoding %q, type %q", gz.Header().Get("Content-Encoding"), gz.Header().Get("Content-Type"))
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("gzipped body does not decompress to the file (err %v)", err)
	}
	t.Logf("htmx.min.js: %d bytes, %d gzipped", len(want), len(h.gzipped["htmx.min.js"]))
	if r := get(map[string]string{"Accept-Encoding": "gzip", "If-None-Match": gz.Header().Get("ETag")}); r.Code != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d, want 304", r.Code)
	}
	if r := get(map[string]string{"Accept-Encoding": "gzip;q=0"}); r.Header().Get("Content-Encoding") != "" {
		t.Fatal("gzip sent to a client that refuses it")
	}
	req := httptest.NewRequest("GET", "/static/../web.go", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code == 200 {
		t.Fatal("a path outside static/ was served")
	}
}
