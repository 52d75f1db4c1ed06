package investigate

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/toolset"
)

type planTool string

func (p planTool) Name() string                { return string(p) }
func (p planTool) Description() string         { return "planning only" }
func (p planTool) Parameters() json.RawMessage { return json.RawMessage(`{"type":"object"}`) }
func (p planTool) ReadOnly() bool              { return true }
func (p planTool) Timeout() time.Duration      { return time.Second }
func (p planTool) Call(context.Context, map[string]any) (toolset.Result, error) {
	return toolset.Result{}, nil
}

// The plan describes the workloads kube-state-metrics labels name, and
// never reads a Prometheus scrape job ("job") as a Kubernetes Job.
func TestEvidencePlanWorkloadLabels(t *testing.T) {
	t.Parallel()
	tools, err := toolset.NewRegistry(planTool("kubernetes.describe"), planTool("kubernetes.get"), planTool("kubernetes.events"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   []string // kind/name described
	}{
		{"scrape job only", map[string]string{"namespace": "data", "job": "kube-state-metrics"}, nil},
		{"kubernetes job", map[string]string{"namespace": "data", "job": "kube-state-metrics", "job_name": "nightly-export-1"}, []string{"job/nightly-export-1"}},
		{"deployment and hpa", map[string]string{"namespace": "web", "deployment": "api", "horizontalpodautoscaler": "api"},
			[]string{"deployment/api", "horizontalpodautoscaler/api"}},
		{"cronjob", map[string]string{"namespace": "data", "cronjob": "backup"}, []string{"cronjob/backup"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			events := false
			for _, c := range evidencePlan([]storage.Alert{{Labels: tt.labels}}, tools) {
				switch c.tool {
				case "kubernetes.describe":
					got = append(got, c.args["kind"].(string)+"/"+c.args["name"].(string))
				case "kubernetes.events":
					events = true
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("described %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("described %v, want %v", got, tt.want)
				}
			}
			if events != (len(tt.want) > 0) {
				t.Errorf("namespace events planned: %v, want %v", events, len(tt.want) > 0)
			}
		})
	}
}
