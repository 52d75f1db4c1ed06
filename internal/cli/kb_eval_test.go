package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/config"
)

func TestKBEval(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := kbEvalMain(context.Background(), cfg, []string{"--dir", "../../testdata/kb", "--json", "--variants=false"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got struct {
		Documents, Queries int
		Default            string
		Results            []struct {
			Embedder  string
			Mode      string
			RecallAt5 float64 `json:"recall_at_5"`
			MRR       float64 `json:"mrr"`
		}
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if got.Documents < 20 || got.Queries < 40 || got.Default != "builtin/glove-sif-split-bag156-stem-256d" {
		t.Fatalf("header %+v", got)
	}
	var modes []string
	for _, r := range got.Results {
		modes = append(modes, r.Mode)
		if r.RecallAt5 <= 0 || r.RecallAt5 > 1 || r.MRR <= 0 || r.MRR > 1 {
			t.Errorf("%s %s: recall@5 %v MRR %v out of range", r.Mode, r.Embedder, r.RecallAt5, r.MRR)
		}
	}
	if strings.Join(modes, ",") != "lexical,vector,hybrid,hybrid,hybrid" {
		t.Fatalf("modes %v, want lexical, vector, then hybrid with the default fusion, with RRF and cross-validated (one embedder)", modes)
	}
	// A remote provider without its URL is a usage error, not a fall-back.
	cfg.Embedding.Provider = "ollama"
	errb.Reset()
	if code := kbEvalMain(context.Background(), cfg, []string{"--dir", "../../testdata/kb"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "EMBEDDING_URL") {
		t.Fatalf("ollama without URL: exit %d, %q", code, errb.String())
	}
	if code := kbEvalMain(context.Background(), cfg, []string{"--dir", t.TempDir()}, &out, &errb); code != 1 {
		t.Fatalf("empty set dir: exit %d", code)
	}
}
