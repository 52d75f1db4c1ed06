package investigate_test

import (
	"reflect"
	"testing"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/analyze"
	"github.com/aurora-oss/aurora/internal/investigate"
)

func TestFocusOf(t *testing.T) {
	cases := []struct {
		name string
		a    *alert.Alert
		want analyze.Focus
	}{
		{"no alert", nil, analyze.Focus{}},
		{"kube-state-metrics labels name the exporter, not the workload",
			&alert.Alert{Namespace: "shop", Service: "kube-state-metrics", Labels: map[string]string{
				"pod": "api-6f7d8c9b5-k2v7q", "container": "api", "job": "kube-state-metrics", "service": "kube-state-metrics"}},
			analyze.Focus{Namespace: "shop", Names: []string{"api-6f7d8c9b5-k2v7q"}}},
		{"object labels first",
			&alert.Alert{Namespace: "data", Labels: map[string]string{"job_name": "nightly-export-1", "job": "kube-state-metrics", "container": "kube-rbac-proxy-main"}},
			analyze.Focus{Namespace: "data", Names: []string{"nightly-export-1"}}},
		{"service label when nothing names an object",
			&alert.Alert{Namespace: "billing", Service: "billing-api", Labels: map[string]string{"service": "billing-api", "grafana_folder": "Billing"}},
			analyze.Focus{Namespace: "billing", Names: []string{"billing-api"}}},
		{"node alert from kubelet",
			&alert.Alert{Service: "kubelet", Labels: map[string]string{"node": "worker-3", "service": "kubelet", "job": "node-exporter"}},
			analyze.Focus{Names: []string{"worker-3"}}},
		{"datadog kubernetes tags name the object",
			&alert.Alert{Namespace: "edge", Service: "edge-proxy", Labels: map[string]string{
				"kube_namespace": "edge", "kube_deployment": "edge-proxy", "service": "edge-proxy", "env": "prod"}},
			analyze.Focus{Namespace: "edge", Names: []string{"edge-proxy"}}},
		{"only exporter labels",
			&alert.Alert{Namespace: "web", Labels: map[string]string{"job": "kube-state-metrics", "container": "kube-rbac-proxy-main"}},
			analyze.Focus{Namespace: "web"}},
	}
	for _, tc := range cases {
		if got := investigate.FocusOf(tc.a); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: FocusOf = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
