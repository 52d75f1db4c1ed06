package analyze

import (
	"strings"
	"testing"
)

func TestWorkloadAnalyzers(t *testing.T) {
	item := func(id int, tool, fixture string, args ...string) func(*testing.T) Item {
		return func(t *testing.T) Item { return kubeItem(t, id, tool, fixture, args...) }
	}
	cases := []struct {
		name     string
		analyzer Analyzer
		items    []func(*testing.T) Item
		want     []wantFinding
		summary  []string
	}{
		{
			name: "rollout stuck describe", analyzer: rolloutAnalyzer{},
			items:   []func(*testing.T) Item{item(3, describe, "deploy-stuck.describe.txt", "kind", "deployment")},
			want:    []wantFinding{{CategoryRollout, "deployment/shop/checkout", "replicaset/checkout-84f6c9d5b7", false, []int{3}}},
			summary: []string{"ProgressDeadlineExceeded", "3 desired, 1 updated, 3 available, 1 unavailable", `"checkout-84f6c9d5b7"`},
		},
		{
			name: "rollout stuck json", analyzer: rolloutAnalyzer{},
			items:   []func(*testing.T) Item{item(4, get, "deploy-stuck.json", "kind", "deploy", "output", "json")},
			want:    []wantFinding{{CategoryRollout, "deployment/shop/checkout", "replicaset/checkout-84f6c9d5b7", false, []int{4}}},
			summary: []string{`has timed out progressing`},
		},
		{
			name: "healthy deployment", analyzer: rolloutAnalyzer{},
			items: []func(*testing.T) Item{item(1, get, "deploy-healthy.json", "kind", "deployment")},
		},
		{
			name: "deployment table short of replicas", analyzer: rolloutAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return Item{ID: 2, Tool: get, Args: map[string]any{"kind": "deployments", "namespace": "shop"},
					Output: "NAME       READY   UP-TO-DATE   AVAILABLE   AGE\ncart       2/2     2            2           20d\ncheckout   1/3     1            1           20d\n"}
			}},
			want: []wantFinding{{CategoryRollout, "deployment/shop/checkout", "", false, []int{2}}},
		},
		{
			name: "replicaset quota describe", analyzer: replicaSetAnalyzer{},
			items:   []func(*testing.T) Item{item(5, describe, "rs-quota.describe.txt", "kind", "replicaset")},
			want:    []wantFinding{{CategoryQuota, "replicaset/shop/cart-9f8e7d", "resourcequota/shop-compute", true, []int{5}}},
			summary: []string{`ResourceQuota "shop-compute" is exceeded (requested limits.memory=512Mi)`},
		},
		{
			name: "replicaset quota describe and events merge", analyzer: replicaSetAnalyzer{},
			items: []func(*testing.T) Item{
				item(5, describe, "rs-quota.describe.txt", "kind", "replicaset"), item(6, events, "events-all.txt"),
			},
			want: []wantFinding{{CategoryQuota, "replicaset/shop/cart-9f8e7d", "resourcequota/shop-compute", true, []int{5, 6}}},
		},
		{
			name: "deployment ReplicaFailure condition json", analyzer: replicaSetAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return Item{ID: 7, Tool: get, Args: map[string]any{"kind": "deployment"}, Output: `{"kind":"Deployment",
				"metadata":{"name":"cart","namespace":"shop"},"spec":{"replicas":3},
				"status":{"replicas":2,"conditions":[{"type":"ReplicaFailure","status":"True","reason":"FailedCreate",
				"message":"pods \"cart-9f8e7d-abcde\" is forbidden: error looking up service account shop/cart-sa: serviceaccount \"cart-sa\" not found"}]}}`}
			}},
			want: []wantFinding{{CategoryMissingConfig, "deployment/shop/cart", "serviceaccount/cart-sa", true, []int{7}}},
		},
		{
			name: "job backoff describe", analyzer: jobAnalyzer{},
			items:   []func(*testing.T) Item{item(2, describe, "job-backoff.describe.txt", "kind", "job")},
			want:    []wantFinding{{CategoryJobFailure, "job/shop/db-migrate-20240603", "BackoffLimitExceeded", false, []int{2}}},
			summary: []string{"reached its backoff limit", "5 failed pods", "backoffLimit 4"},
		},
		{
			name: "job backoff json and describe merge", analyzer: jobAnalyzer{},
			items: []func(*testing.T) Item{
				item(3, get, "job-backoff.json", "kind", "job", "output", "json"),
				item(2, describe, "job-backoff.describe.txt", "kind", "job"),
			},
			// The JSON shows the Job's Failed condition: direct.
			want: []wantFinding{{CategoryJobFailure, "job/shop/db-migrate-20240603", "BackoffLimitExceeded", true, []int{2, 3}}},
		},
		{
			name: "job backoff yaml", analyzer: jobAnalyzer{},
			items:   []func(*testing.T) Item{item(4, get, "job-backoff.yaml", "kind", "job", "output", "yaml")},
			want:    []wantFinding{{CategoryJobFailure, "job/shop/db-migrate-20240603", "BackoffLimitExceeded", true, []int{4}}},
			summary: []string{`"Job has reached the specified backoff limit"`, "5 failed pods", "backoffLimit 4"},
		},
		{
			name: "job backoff from events only", analyzer: jobAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return Item{ID: 5, Tool: events, Args: map[string]any{"namespace": "shop"}, Output: "LAST SEEN   TYPE      REASON                 OBJECT                    MESSAGE\n" +
					"32m         Warning   BackoffLimitExceeded   job/db-migrate-20240603   Job has reached the specified backoff limit\n"}
			}},
			want: []wantFinding{{CategoryJobFailure, "job/shop/db-migrate-20240603", "BackoffLimitExceeded", false, []int{5}}},
		},
		{
			name: "completed job", analyzer: jobAnalyzer{},
			items: []func(*testing.T) Item{item(1, get, "job-complete.json", "kind", "job")},
		},
		{
			name: "hpa at max describe", analyzer: hpaAnalyzer{},
			items: []func(*testing.T) Item{item(4, describe, "hpa-max.describe.txt", "kind", "hpa")},
			// ScalingLimited True TooManyReplicas at the maximum: direct.
			want:    []wantFinding{{CategoryAutoscaling, "horizontalpodautoscaler/shop/cart", "maxReplicas 10", true, []int{4}}},
			summary: []string{"at its maximum of 10 replicas", "TooManyReplicas"},
		},
		{
			name: "hpa cannot read metrics json", analyzer: hpaAnalyzer{},
			items: []func(*testing.T) Item{item(5, get, "hpa-metrics.json", "kind", "hpa", "output", "json")},
			want: []wantFinding{{CategoryAutoscaling, "horizontalpodautoscaler/search/search",
				"unable to get metrics for resource cpu", true, []int{5}}},
			summary: []string{"FailedGetResourceMetric"},
		},
		{
			name: "hpa table", analyzer: hpaAnalyzer{},
			items: []func(*testing.T) Item{item(6, get, "hpa.txt", "kind", "hpa", "namespace", "shop")},
			want: []wantFinding{
				{CategoryAutoscaling, "horizontalpodautoscaler/shop/search", "TARGETS cpu: <unknown>/60%", false, []int{6}},
				{CategoryAutoscaling, "horizontalpodautoscaler/shop/cart", "maxReplicas 10", false, []int{6}},
			},
		},
		{
			// A metric failure only events show is not direct, and one a
			// later rescale followed is history.
			name: "hpa metric failures from events only", analyzer: hpaAnalyzer{},
			items:   []func(*testing.T) Item{item(7, events, "events-hpa-recovered.txt", "namespace", "web")},
			want:    []wantFinding{{CategoryAutoscaling, "horizontalpodautoscaler/web/api", "unable to get metrics for resource memory", false, []int{7}}},
			summary: []string{"only events show it"},
		},
		{
			name: "full quota describe names the controllers it refuses", analyzer: quotaAnalyzer{},
			items: []func(*testing.T) Item{item(2, describe, "quota-full.describe.txt", "kind", "resourcequota"),
				item(5, describe, "rs-quota.describe.txt", "kind", "replicaset")},
			want:    []wantFinding{{CategoryQuota, "resourcequota/shop/shop-compute", "limits.memory", true, []int{2, 5}}},
			summary: []string{"limits.memory 4Gi of 4Gi", "refuses the pods of replicaset cart-9f8e7d"},
		},
		{
			name: "full quota json", analyzer: quotaAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return Item{ID: 3, Tool: get, Args: map[string]any{"kind": "quota", "output": "json"},
					Output: `{"kind":"ResourceQuota","metadata":{"name":"team-a","namespace":"a"},"spec":{"hard":{"pods":"10"}},"status":{"hard":{"pods":"10","requests.cpu":"4"},"used":{"pods":"10","requests.cpu":"1500m"}}}`}
			}},
			want: []wantFinding{{CategoryQuota, "resourcequota/a/team-a", "pods", true, []int{3}}},
		},
		{
			name: "quota table: only the full one", analyzer: quotaAnalyzer{},
			items: []func(*testing.T) Item{item(4, get, "quota-table.txt", "kind", "resourcequota", "namespace", "shop")},
			want:  []wantFinding{{CategoryQuota, "resourcequota/shop/shop-compute", "limits.memory", true, []int{4}}},
		},
		{
			name: "pods are not workloads", analyzer: rolloutAnalyzer{},
			items: []func(*testing.T) Item{item(1, describe, "pod-oom.describe.txt", "kind", "pod")},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var items []Item
			for _, mk := range tc.items {
				items = append(items, mk(t))
			}
			got := runKube(tc.analyzer, items...)
			checkFindings(t, got, tc.want)
			for _, s := range tc.summary {
				if len(got) == 0 || !strings.Contains(got[0].Summary, s) {
					t.Errorf("summary lacks %q: %v", s, got)
				}
			}
		})
	}
}

// A controller that cannot create pods leads to the ResourceQuota it
// names; when the evidence shows that quota full, the quota is the cause.
func TestQuotaChain(t *testing.T) {
	rs := kubeItem(t, 5, describe, "rs-quota.describe.txt", "kind", "replicaset")
	quota := kubeItem(t, 2, describe, "quota-full.describe.txt", "kind", "resourcequota")
	focus := Focus{Namespace: "shop", Names: []string{"cart"}}
	c := Run(All(), &Input{Items: []Item{rs, quota}}, focus)
	if c.Root == nil || c.Root.Object != "resourcequota/shop/shop-compute" || c.Verdict != VerdictConfirmed {
		t.Fatalf("with the quota shown: root = %+v, verdict %s", c.Root, c.Verdict)
	}
	c = Run(All(), &Input{Items: []Item{rs}}, focus)
	if c.Root == nil || c.Root.Object != "replicaset/shop/cart-9f8e7d" || c.Root.Category != CategoryQuota || c.Verdict != VerdictConfirmed {
		t.Fatalf("without the quota: root = %+v, verdict %s", c.Root, c.Verdict)
	}
}
