package kubernetes

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/bundle"
	"github.com/aurora-oss/aurora/internal/investigate"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// A snapshot of a live cluster (the replaying API server) is a bundle that
// `aurora investigate --bundle` reads and finds the cause in.
func TestSnapshotInvestigates(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		target   SnapshotTarget
		question string
		files    []string // some of the files it must write
		category string
		object   string
		finding  string // a finding the report must also hold
	}{
		{"pod", SnapshotTarget{Namespace: "shop", Kind: "pod", Name: "cart-7d9f-x2"}, "what is wrong with pod/cart-7d9f-x2 in namespace shop?",
			[]string{"001-describe-pod-cart-7d9f-x2-shop.txt", "logs-cart-7d9f-x2-shop-previous.txt", "describe-node-worker-3.txt"},
			// worker-3, where the OOM-killed pod runs, reports MemoryPressure: the analyzers rank the node first and keep the OOM kill as a finding.
			"node", "node/worker-3", "OOMKilled"},
		{"deployment", SnapshotTarget{Namespace: "shop", Kind: "deployment", Name: "cart"}, "what is wrong with deployment/cart in namespace shop?",
			[]string{"001-describe-deployment-cart-shop.txt", "rollout_history-deployment-cart-shop.txt", "describe-pod-cart-7d9f-x2-shop.txt"}, "node", "node/worker-3", "OOMKilled"},
		{"namespace", SnapshotTarget{Namespace: "shop"}, "what is wrong in namespace shop?",
			[]string{"001-get-pods-shop.txt", "002-events-shop.txt", "describe-pod-cart-7d9f-x2-shop.txt", "describe-deployment-cart-shop.txt"}, "node", "node/worker-3", "OOMKilled"},
		{"pvc", SnapshotTarget{Namespace: "payments", Kind: "pvc", Name: "data-cart-ledger-0"}, "what is wrong with pvc/data-cart-ledger-0 in namespace payments?",
			[]string{"001-describe-pvc-data-cart-ledger-0-payments.txt"}, "storage", "persistentvolumeclaim/payments/data-cart-ledger-0", "fast-ssd"},
		{"job", SnapshotTarget{Namespace: "ops", Kind: "job", Name: "nightly-export-28594200"}, "what is wrong with job/nightly-export-28594200 in namespace ops?",
			[]string{"001-describe-job-nightly-export-28594200-ops.txt"}, "job_failure", "job/ops/nightly-export-28594200", "BackoffLimitExceeded"},
		{"hpa", SnapshotTarget{Namespace: "ops", Kind: "hpa", Name: "web"}, "what is wrong with hpa/web in namespace ops?",
			[]string{"001-describe-hpa-web-ops.txt", "describe-deployment-web-ops.txt"}, "autoscaling", "horizontalpodautoscaler/ops/web", "maximum of 10"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tools, api := newTestTools(t)
			list := make([]toolset.Tool, 0, len(tools))
			for _, tl := range tools {
				list = append(list, tl)
			}
			reg, _ := toolset.NewRegistry(list...)
			dir := t.TempDir()
			res, err := Snapshot(context.Background(), reg, c.target, dir)
			if err != nil {
				t.Fatal(err)
			}
			joined := strings.Join(res.Files, "\n")
			for _, f := range c.files {
				if !strings.Contains(joined, f) {
					t.Errorf("files lack %s:\n%s", f, joined)
				}
			}
			q, _ := os.ReadFile(filepath.Join(dir, "question.txt"))
			if strings.TrimSpace(string(q)) != c.question {
				t.Errorf("question.txt %q", q)
			}
			// Secret values never reach the bundle, and nothing was changed.
			for _, f := range res.Files {
				b, _ := os.ReadFile(filepath.Join(dir, "evidence", f))
				for _, secret := range []string{"aHVudGVyMg==", "Y2FydA==", "s3cr3t-token", "hunter2"} {
					if strings.Contains(string(b), secret) {
						t.Errorf("%s leaks %q", f, secret)
					}
				}
			}
			for _, r := range api.requests {
				if !strings.HasPrefix(r, "GET ") {
					t.Errorf("snapshot sent %s", r)
				}
			}
			b, err := bundle.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Items) != len(res.Files) {
				t.Errorf("bundle has %d items, snapshot wrote %d files", len(b.Items), len(res.Files))
			}
			rep := investigate.Bundle(b)
			if rep.RootCause == nil || rep.RootCause.Category != c.category || rep.RootCause.Object != c.object {
				t.Errorf("investigate --bundle: %s %+v\nfiles:\n%s\nfailed: %v", rep.Verdict, rep.RootCause, joined, res.Failed)
			}
			var texts []string
			for _, f := range rep.Findings {
				texts = append(texts, f.Text)
			}
			if !strings.Contains(strings.Join(texts, "\n")+rep.RootCause.Summary, c.finding) {
				t.Errorf("report lacks %q: %v", c.finding, texts)
			}
		})
	}
	if _, err := Snapshot(context.Background(), nil, SnapshotTarget{Kind: "pod"}, t.TempDir()); err == nil {
		t.Error("kind without name: no error")
	}
}
