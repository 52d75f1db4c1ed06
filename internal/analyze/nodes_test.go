package analyze

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func nodeItem(t *testing.T, id int, tool, file string, args map[string]any) Item {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "nodes", file))
	if err != nil {
		t.Fatal(err)
	}
	return Item{ID: id, Tool: tool, Args: args, Output: string(b)}
}

func TestNodeFindings(t *testing.T) {
	describe := func(name string) map[string]any { return map[string]any{"kind": "node", "name": name} }
	tests := []struct {
		name     string
		items    func(t *testing.T) []Item
		want     []Finding
		contains []string
	}{
		{
			name: "NotReady, kubelet stopped posting status",
			items: func(t *testing.T) []Item {
				return []Item{nodeItem(t, 3, "kubernetes.describe", "describe_notready.txt", describe("worker-3"))}
			},
			want:     []Finding{{Category: CategoryNode, Object: "node/worker-3", Culprit: "Ready=Unknown", Evidence: []int{3}, Direct: true, Score: 0.9}},
			contains: []string{"Kubelet stopped posting node status.", "NodeStatusUnknown", "node.kubernetes.io/unreachable:NoExecute"},
		},
		{
			name: "PLEG not healthy and disk pressure",
			items: func(t *testing.T) []Item {
				return []Item{nodeItem(t, 5, "kubernetes.describe", "describe_pleg_diskpressure.txt", describe("worker-5"))}
			},
			want: []Finding{
				{Category: CategoryNode, Object: "node/worker-5", Culprit: "Ready=False", Evidence: []int{5}, Direct: true, Score: 0.9},
				{Category: CategoryNode, Object: "node/worker-5", Culprit: "DiskPressure=True", Evidence: []int{5}, Direct: true, Score: 0.8},
			},
			contains: []string{"PLEG is not healthy", "kubelet has disk pressure"},
		},
		{
			name: "memory pressure from JSON",
			items: func(t *testing.T) []Item {
				return []Item{nodeItem(t, 7, "kubernetes.get", "node_memorypressure.json", describe("worker-7"))}
			},
			want:     []Finding{{Category: CategoryNode, Object: "node/worker-7", Culprit: "MemoryPressure=True", Evidence: []int{7}, Direct: true, Score: 0.8}},
			contains: []string{"KubeletHasInsufficientMemory"},
		},
		{
			name: "get nodes table: NotReady and cordoned",
			items: func(t *testing.T) []Item {
				return []Item{nodeItem(t, 1, "kubernetes.get", "get_nodes.txt", map[string]any{"kind": "nodes"})}
			},
			want: []Finding{
				{Category: CategoryNode, Object: "node/worker-3", Culprit: "STATUS=NotReady", Evidence: []int{1}, Direct: true, Score: 0.75},
				{Category: CategoryNode, Object: "node/worker-2", Culprit: "SchedulingDisabled", Evidence: []int{1}, Score: 0.4},
			},
		},
		{
			name: "table and describe of the same node merge into one finding",
			items: func(t *testing.T) []Item {
				return []Item{
					nodeItem(t, 1, "kubernetes.get", "get_nodes.txt", map[string]any{"kind": "nodes"}),
					nodeItem(t, 2, "kubernetes.describe", "describe_notready.txt", describe("worker-3")),
				}
			},
			want: []Finding{
				{Category: CategoryNode, Object: "node/worker-3", Culprit: "Ready=Unknown", Evidence: []int{2}, Direct: true, Score: 0.9},
				{Category: CategoryNode, Object: "node/worker-2", Culprit: "SchedulingDisabled", Evidence: []int{1}, Score: 0.4},
			},
		},
		{
			name: "too many pods: node at capacity and FailedScheduling",
			items: func(t *testing.T) []Item {
				return []Item{
					nodeItem(t, 4, "kubernetes.describe", "pod_pending_describe.txt", map[string]any{"kind": "pod", "name": "cart-api-6f7c9d8b4-zz9kq", "namespace": "shop"}),
					nodeItem(t, 6, "kubernetes.describe", "describe_full.txt", describe("worker-1")),
					nodeItem(t, 8, "kubernetes.describe", "describe_healthy.txt", describe("worker-2")),
				}
			},
			want: []Finding{
				{Category: CategoryNode, Object: "node/worker-1", Culprit: "pods 17/17", Evidence: []int{6}, Direct: true, Score: 0.75},
				{Category: CategoryNode, Object: "pod/shop/cart-api-6f7c9d8b4-zz9kq", Culprit: "Too many pods", Evidence: []int{4, 6}, Direct: true, Score: 0.7, Related: []string{"node/worker-1"}},
			},
			contains: []string{"17 non-terminated pods for a capacity of 17", "2 Too many pods"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := nodesAnalyzer{}.Analyze(&Input{Items: tc.items(t)})
			if len(got) != len(tc.want) {
				for _, g := range got {
					t.Logf("got %+v", g)
				}
				t.Fatalf("got %d findings, want %d", len(got), len(tc.want))
			}
			all := ""
			for i, w := range tc.want {
				g := got[i]
				all += g.Summary + "\n"
				if g.Analyzer != "nodes" || g.Category != w.Category || g.Object != w.Object || g.Culprit != w.Culprit ||
					!reflect.DeepEqual(g.Evidence, w.Evidence) || g.Direct != w.Direct || g.Score != w.Score || !reflect.DeepEqual(g.Related, w.Related) {
					t.Errorf("finding %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
			for _, c := range tc.contains {
				if !strings.Contains(all, c) {
					t.Errorf("summaries lack %q:\n%s", c, all)
				}
			}
		})
	}
}

func TestNodeHealthyProducesNothing(t *testing.T) {
	items := []Item{
		nodeItem(t, 1, "kubernetes.describe", "describe_healthy.txt", map[string]any{"kind": "node", "name": "worker-2"}),
		{ID: 2, Tool: "kubernetes.get", Args: map[string]any{"kind": "nodes"}, Output: "NAME       STATUS   ROLES           AGE   VERSION\ncp-1       Ready    control-plane   25d   v1.30.4\nworker-1   Ready    <none>          25d   v1.30.4\n"},
		// Not a node: a pod's conditions table must not be read as a node's.
		nodeItem(t, 3, "kubernetes.describe", "pod_pending_describe.txt", map[string]any{"kind": "pod", "name": "x", "namespace": "shop"}),
	}
	items[2].Output = strings.ReplaceAll(items[2].Output, "Too many pods", "Insufficient cpu")
	if got := (nodesAnalyzer{}).Analyze(&Input{Items: items}); len(got) != 0 {
		t.Errorf("unexpected findings %+v", got)
	}
	if a := NodeAnalyzers(); len(a) != 1 || a[0].Name() != "nodes" {
		t.Errorf("NodeAnalyzers = %v", a)
	}
}
