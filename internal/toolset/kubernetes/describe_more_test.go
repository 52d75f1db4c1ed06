package kubernetes

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/analyze"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestDescribeKindsGolden describes each kind kubectl has its own layout
// for and compares with testdata/golden (go test -update rewrites them),
// then checks the analyzers understand the text: each object's problem is
// found from its description alone.
func TestDescribeKindsGolden(t *testing.T) {
	t.Parallel()
	tools, _ := newTestTools(t)
	for _, c := range []struct {
		kind, name, ns string
		category       string // the analyzers' finding on this description alone ("" = none expected)
		object         string
		culprit        string
	}{
		{"hpa", "web", "ops", analyze.CategoryAutoscaling, "horizontalpodautoscaler/ops/web", "maxReplicas 10"},
		{"job", "nightly-export-28594200", "ops", analyze.CategoryJobFailure, "job/ops/nightly-export-28594200", "BackoffLimitExceeded"},
		{"cronjob", "nightly-export", "ops", "", "", ""},
		{"statefulset", "cart-ledger", "payments", "", "", ""},
		{"daemonset", "log-agent", "ops", "", "", ""},
		{"pvc", "data-cart-ledger-0", "payments", analyze.CategoryStorage, "persistentvolumeclaim/payments/data-cart-ledger-0", "fast-ssd"},
		{"ingress", "shop-web", "shop", analyze.CategoryServiceRouting, "ingress/shop/shop-web", "checkout"},
		{"networkpolicy", "deny-cart-ingress", "shop", "", "", ""},
		{"netpol", "allow-frontend", "shop", "", "", ""},
	} {
		t.Run(c.kind+"/"+c.name, func(t *testing.T) {
			args := map[string]any{"kind": c.kind, "name": c.name, "namespace": c.ns}
			out := call(t, tools, "kubernetes.describe", args)
			golden := filepath.Join("testdata", "golden", "describe-"+c.kind+"-"+c.name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if out != string(want) {
				t.Errorf("describe %s/%s:\n%s\nwant (%s):\n%s", c.kind, c.name, out, golden, want)
			}
			if strings.Contains(out, "Kind:               ") {
				t.Errorf("described by the generic describer:\n%s", out)
			}
			docs := analyze.ParseDescribe(out)
			if len(docs) != 1 || docs[0].Name() != c.name {
				t.Fatalf("analyze.ParseDescribe: %d docs", len(docs))
			}
			in := &analyze.Input{Items: []analyze.Item{{ID: 1, Tool: "kubernetes.describe", Args: args, Output: out}}}
			var found *analyze.Finding
			for _, a := range analyze.All() {
				for _, f := range a.Analyze(in) {
					if f.Category == c.category && f.Object == c.object {
						found = &f
					}
				}
			}
			if c.category == "" {
				return
			}
			if found == nil || !strings.Contains(found.Culprit+" "+found.Summary, c.culprit) {
				t.Errorf("analyzers on the description: want %s on %s naming %q, got %+v", c.category, c.object, c.culprit, found)
			}
		})
	}
}
