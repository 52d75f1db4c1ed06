package analyze

import (
	"reflect"
	"strings"
	"testing"
)

const (
	describe = toolKubeDescribe
	get      = toolKubeGet
	events   = toolKubeEvents
)

func TestPodAnalyzers(t *testing.T) {
	pod := func(id int, tool, fixture string) func(t *testing.T) Item {
		return func(t *testing.T) Item {
			args := []string{"kind", "pod"}
			if tool == events {
				args = nil
			}
			return kubeItem(t, id, tool, fixture, args...)
		}
	}
	cases := []struct {
		name     string
		analyzer Analyzer
		items    []func(*testing.T) Item
		want     []wantFinding
		summary  []string // substrings of the first finding's summary
		related  []string // the first finding's Related, when set
	}{
		{
			name: "oom describe", analyzer: oomAnalyzer{},
			items: []func(*testing.T) Item{pod(4, describe, "pod-oom.describe.txt")},
			want:  []wantFinding{{CategoryOOM, "pod/shop/cart-7d9f-x2", "api (memory limit 256Mi)", true, []int{4}}},
			summary: []string{`container "api" of pod shop/cart-7d9f-x2 was last OOMKilled (exit 137) at its 256Mi memory limit`,
				"CrashLoopBackOff", "restarted 12 times"},
		},
		{
			name: "oom json", analyzer: oomAnalyzer{},
			items: []func(*testing.T) Item{pod(2, get, "pod-oom.json")},
			want:  []wantFinding{{CategoryOOM, "pod/shop/cart-7d9f-x2", "api (memory limit 256Mi)", true, []int{2}}},
		},
		{
			name: "oom describe and json merge", analyzer: oomAnalyzer{},
			items: []func(*testing.T) Item{pod(2, get, "pod-oom.json"), pod(5, describe, "pod-oom.describe.txt")},
			want:  []wantFinding{{CategoryOOM, "pod/shop/cart-7d9f-x2", "api (memory limit 256Mi)", true, []int{2, 5}}},
		},
		{
			name: "oom is not reported as crashloop", analyzer: crashLoopAnalyzer{},
			items: []func(*testing.T) Item{pod(4, describe, "pod-oom.describe.txt"), pod(2, get, "pod-oom.json")},
			want:  nil,
		},
		{
			name: "crashloop exit 1 describe", analyzer: crashLoopAnalyzer{},
			items: []func(*testing.T) Item{pod(3, describe, "pod-crash-exit1.describe.txt")},
			want:  []wantFinding{{CategoryCrashloop, "pod/shop/orders-5c8b9d7f6-qwx4z", "orders", false, []int{3}}},
			summary: []string{`container "orders" of pod shop/orders-5c8b9d7f6-qwx4z keeps crashing (CrashLoopBackOff)`,
				"exit code 1", "restarted 7 times"},
		},
		{
			name: "crashloop exit 127 json list", analyzer: crashLoopAnalyzer{},
			items: []func(*testing.T) Item{pod(8, get, "pod-crash-127.json")},
			// A command not found is the image's or spec's fault: the loop is
			// its consequence.
			want:    []wantFinding{{CategoryApplicationErr, "pod/batch/worker-6b7c8d9e0f-abcde", "worker", true, []int{8}}},
			summary: []string{"command was not found (exit 127)", "restarted 5 times"},
		},
		{
			name: "StartError exec format error is an application error", analyzer: crashLoopAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return Item{ID: 2, Tool: describe, Args: map[string]any{"kind": "pod"}, Output: "Name:         app-1\nNamespace:    ns\nNode:         w1/10.0.0.1\nStatus:       Running\n" +
					"Containers:\n  app:\n    Image:          example.com/app:1\n    State:          Waiting\n      Reason:       CrashLoopBackOff\n" +
					"    Last State:     Terminated\n      Reason:       StartError\n      Message:      failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"/app/server\": exec format error: unknown\n      Exit Code:    128\n" +
					"    Ready:          False\n    Restart Count:  4\n"}
			}},
			want:    []wantFinding{{CategoryApplicationErr, "pod/ns/app-1", "app", true, []int{2}}},
			summary: []string{"exec format error"},
		},
		{
			name: "StartError for another reason stays a crash loop", analyzer: crashLoopAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return Item{ID: 2, Tool: describe, Args: map[string]any{"kind": "pod"}, Output: "Name:         app-1\nNamespace:    ns\nNode:         w1/10.0.0.1\nStatus:       Running\n" +
					"Containers:\n  app:\n    Image:          example.com/app:1\n    State:          Waiting\n      Reason:       CrashLoopBackOff\n" +
					"    Last State:     Terminated\n      Reason:       StartError\n      Message:      failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error setting cgroup config for procHooks process: unable to set memory limit to 4Mi (current usage: 5Mi, peak usage: 6Mi): unknown\n      Exit Code:    128\n" +
					"    Ready:          False\n    Restart Count:  4\n"}
			}},
			want: []wantFinding{{CategoryCrashloop, "pod/ns/app-1", "app", true, []int{2}}},
		},
		{
			name: "secret volume key missing", analyzer: configErrorAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return Item{ID: 3, Tool: events, Args: map[string]any{"namespace": "edge"}, Output: "LAST SEEN   TYPE      REASON        OBJECT            MESSAGE\n" +
					"2m          Warning   FailedMount   pod/gw-5c7d-x1    MountVolume.SetUp failed for volume \"tls\" : references non-existent secret key: tls.crt\n"}
			}},
			want:    []wantFinding{{CategoryMissingConfig, "pod/edge/gw-5c7d-x1", "secret key tls.crt", true, []int{3}}},
			summary: []string{`key "tls.crt" is missing from the secret of volume "tls"`},
		},
		{
			name: "crashloop from get pods table and events", analyzer: crashLoopAnalyzer{},
			items: []func(*testing.T) Item{
				func(t *testing.T) Item { return kubeItem(t, 1, get, "pods.txt", "kind", "pods", "namespace", "shop") },
				pod(2, events, "events-all.txt"),
			},
			want: []wantFinding{{CategoryCrashloop, "pod/shop/cart-7d9f-x2", "", false, []int{1, 2}}},
		},
		{
			name: "crashloop from events only", analyzer: crashLoopAnalyzer{},
			items: []func(*testing.T) Item{pod(2, events, "events-all.txt")},
			want:  []wantFinding{{CategoryCrashloop, "pod/shop/cart-7d9f-x2", "api", false, []int{2}}},
		},
		{
			name: "healthy pod with old warnings: no crashloop", analyzer: crashLoopAnalyzer{},
			items: []func(*testing.T) Item{pod(1, describe, "pod-healthy.describe.txt"), pod(2, get, "pod-healthy.json")},
		},
		{
			name: "healthy pod with old warnings: no probe claim", analyzer: probeAnalyzer{},
			items: []func(*testing.T) Item{pod(1, describe, "pod-healthy.describe.txt")},
		},
		{
			name: "image not found describe", analyzer: imagePullAnalyzer{},
			items: []func(*testing.T) Item{pod(6, describe, "pod-imagepull.describe.txt")},
			want: []wantFinding{{CategoryImagePull, "pod/shop/checkout-84f6c9d5b7-m2n8p",
				"registry.example.com/shop/checkout:3.2.0-rc1", true, []int{6}}},
			summary: []string{`cannot pull image "registry.example.com/shop/checkout:3.2.0-rc1" for container "checkout": the image was not found`},
		},
		{
			name: "image auth json", analyzer: imagePullAnalyzer{},
			items:   []func(*testing.T) Item{pod(2, get, "pod-imagepull-auth.json")},
			want:    []wantFinding{{CategoryImagePull, "pod/finance/billing-7f8e9d-kk2lm", "ghcr.io/acme-private/billing:5.1.0", true, []int{2}}},
			summary: []string{"the registry refused the credentials", "401 Unauthorized"},
		},
		{
			name: "registry unreachable from events only", analyzer: imagePullAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return kubeItem(t, 9, events, "events-imagepull-unreachable.txt", "namespace", "search")
			}},
			want: []wantFinding{{CategoryImagePull, "pod/search/search-5d6e7f8a9b-zz9yy",
				"registry.internal.example:5000/search/indexer:1.0.3", true, []int{9}}},
			summary: []string{"the registry is unreachable", "no such host"},
		},
		{
			name: "no image pull claim for a running pod", analyzer: imagePullAnalyzer{},
			items: []func(*testing.T) Item{pod(1, describe, "pod-oom.describe.txt"), pod(2, describe, "pod-healthy.describe.txt")},
		},
		{
			name: "missing configmap describe", analyzer: configErrorAnalyzer{},
			items:   []func(*testing.T) Item{pod(3, describe, "pod-configmap.describe.txt")},
			want:    []wantFinding{{CategoryMissingConfig, "pod/shop/profile-6c7d8e9f0a-r4t5y", "configmap/profile-config", true, []int{3}}},
			summary: []string{`configmap "profile-config" is not found`},
		},
		{
			name: "missing secret key json", analyzer: configErrorAnalyzer{},
			items:   []func(*testing.T) Item{pod(4, get, "pod-secretkey.json")},
			want:    []wantFinding{{CategoryMissingConfig, "pod/finance/ledger-0", "secret/ledger-db key password", true, []int{4}}},
			summary: []string{`key "password" is missing from Secret finance/ledger-db`},
		},
		{
			name: "insufficient gpu and taint describe", analyzer: schedulingAnalyzer{},
			items:   []func(*testing.T) Item{pod(2, describe, "pod-pending-cpu.describe.txt")},
			want:    []wantFinding{{CategoryScheduling, "pod/ml/trainer-0", "nvidia.com/gpu", true, []int{2}}},
			summary: []string{"5 Insufficient nvidia.com/gpu", "untolerated taint {node-role.kubernetes.io/control-plane: }"},
		},
		{
			name: "node selector json", analyzer: schedulingAnalyzer{},
			items: []func(*testing.T) Item{pod(3, get, "pod-pending-selector.json")},
			want: []wantFinding{{CategoryScheduling, "pod/analytics/reports-7788-abcde",
				"disktype=nvme,kubernetes.io/arch=arm64", true, []int{3}}},
		},
		{
			name: "unbound pvc and missing storage class", analyzer: schedulingAnalyzer{},
			items: []func(*testing.T) Item{pod(3, get, "pod-pending-pvc.json"), func(t *testing.T) Item {
				return kubeItem(t, 4, events, "events-pvc.txt", "namespace", "db")
			}},
			// The claim is the broken object; the pod waiting on it is named
			// in the summary, not reported on its own.
			want: []wantFinding{
				{CategoryStorage, "persistentvolumeclaim/db/data-postgres-0", "storageclass/fast-ssd", true, []int{3, 4}},
			},
			summary: []string{`StorageClass "fast-ssd" is not found`, "pod db/postgres-0 cannot be scheduled until it is bound"},
		},
		{
			name: "unbound pvc: FailedBinding is a Normal event", analyzer: schedulingAnalyzer{},
			items: []func(*testing.T) Item{
				func(t *testing.T) Item {
					return Item{ID: 1, Tool: describe, Args: map[string]any{"kind": "pod"}, Output: pendingPod("web-5f6d7c8b9-a1b2c", "cms",
						"0/4 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
						"<none>", "uploads")}
				},
				func(t *testing.T) Item { return kubeItem(t, 2, describe, "pvc-unbound.describe.txt", "kind", "pvc") },
			},
			want: []wantFinding{{CategoryStorage, "persistentvolumeclaim/cms/uploads",
				"no persistent volumes available for this claim and no storage class is set", true, []int{1, 2}}},
			summary: []string{`FailedBinding "no persistent volumes available for this claim`, "pod cms/web-5f6d7c8b9-a1b2c"},
		},
		{
			name: "bound pvc: old binding failures are history", analyzer: schedulingAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				it := kubeItem(t, 2, describe, "pvc-unbound.describe.txt", "kind", "pvc")
				it.Output = strings.Replace(it.Output, "Status:        Pending", "Status:        Bound", 1)
				return it
			}},
		},
		{
			name: "node selector describe is quoted", analyzer: schedulingAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return Item{ID: 2, Tool: describe, Args: map[string]any{"kind": "pod"}, Output: pendingPod("gpu-0", "ml",
					"0/7 nodes are available: 7 node(s) didn't match Pod's node affinity/selector. preemption: 0/7 nodes are available: 7 Preemption is not helpful for scheduling.",
					"nodepool=gpu-t4", "")}
			}},
			want:    []wantFinding{{CategoryScheduling, "pod/ml/gpu-0", "nodepool=gpu-t4", true, []int{2}}},
			summary: []string{"its node selector is nodepool=gpu-t4"},
		},
		{
			name: "memory-pressure taint relates the node that carries it", analyzer: schedulingAnalyzer{},
			items: []func(*testing.T) Item{
				func(t *testing.T) Item {
					return Item{ID: 1, Tool: describe, Args: map[string]any{"kind": "pod"}, Output: pendingPod("api-0", "shop",
						"0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/memory-pressure: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
						"<none>", "")}
				},
				func(t *testing.T) Item {
					return kubeItem(t, 2, describe, "node-memory-pressure.describe.txt", "kind", "node")
				},
				func(t *testing.T) Item {
					return Item{ID: 3, Tool: get, Args: map[string]any{"kind": "node"},
						Output: "NAME       STATUS   ROLES    AGE   VERSION\nworker-1   Ready    <none>   63d   v1.29.7\nworker-3   Ready    <none>   63d   v1.29.7\n"}
				},
			},
			want:    []wantFinding{{CategoryScheduling, "pod/shop/api-0", "cpu", true, []int{1, 2}}},
			related: []string{"node/worker-3"},
			summary: []string{"node worker-3 carries that taint (node.kubernetes.io/memory-pressure)"},
		},
		{
			name: "memory-pressure taint: nodes pods were evicted from", analyzer: schedulingAnalyzer{},
			items: []func(*testing.T) Item{
				func(t *testing.T) Item {
					return Item{ID: 1, Tool: get, Args: map[string]any{"kind": "pod", "namespace": "shop", "output": "wide"},
						Output: "NAME    READY   STATUS    RESTARTS   AGE   IP       NODE\napi-1   0/1     Evicted   0          6d    <none>   worker-5\n"}
				},
				func(t *testing.T) Item {
					return Item{ID: 2, Tool: describe, Args: map[string]any{"kind": "pod"}, Output: pendingPod("api-0", "shop",
						"0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/memory-pressure: }, 2 Insufficient cpu.",
						"<none>", "")}
				},
			},
			want:    []wantFinding{{CategoryScheduling, "pod/shop/api-0", "cpu", true, []int{1, 2}}},
			related: []string{"node/worker-5"},
		},
		{
			name: "an operator's taint relates no node", analyzer: schedulingAnalyzer{},
			items: []func(*testing.T) Item{
				func(t *testing.T) Item {
					return Item{ID: 1, Tool: describe, Args: map[string]any{"kind": "pod"}, Output: pendingPod("api-0", "shop",
						"0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: batch}.", "<none>", "")}
				},
				func(t *testing.T) Item {
					return kubeItem(t, 2, describe, "node-memory-pressure.describe.txt", "kind", "node")
				},
			},
			want: []wantFinding{{CategoryScheduling, "pod/shop/api-0", "{dedicated: batch}", true, []int{1}}},
		},
		{
			name: "scheduled pod: no scheduling claim", analyzer: schedulingAnalyzer{},
			items: []func(*testing.T) Item{pod(1, describe, "pod-healthy.describe.txt"), pod(2, get, "pod-oom.json")},
		},
		{
			name: "liveness and readiness probes describe", analyzer: probeAnalyzer{},
			items: []func(*testing.T) Item{pod(5, describe, "pod-liveness.describe.txt")},
			want: []wantFinding{
				// The kubelet quotes what the endpoints answered (HTTP 500, a
				// refused connection): the probes' failures are shown directly.
				{CategoryProbe, "pod/shop/inventory-58d9c7b6f5-h7j8k", "liveness probe http-get http://:8080/healthz", true, []int{5}},
				{CategoryProbe, "pod/shop/inventory-58d9c7b6f5-h7j8k", "readiness probe http-get http://:8080/ready", true, []int{5}},
			},
			summary: []string{`container "inventory"`, "HTTP 500", "18 failures", "restarted 6 times"},
		},
		{
			name: "liveness probe restarting a container that is Ready between kills", analyzer: probeAnalyzer{},
			items:   []func(*testing.T) Item{pod(3, describe, "pod-liveness-restarting.describe.txt")},
			want:    []wantFinding{{CategoryProbe, "pod/net/proxy-7b8c9d-q1w2e", "liveness probe http-get http://:8081/livez", true, []int{3}}},
			summary: []string{"connection refused on 10.244.1.7:8081", "27 failures", "restarted 9 times"},
		},
		{
			name: "ready pod with old liveness kills: no probe claim", analyzer: probeAnalyzer{},
			items: []func(*testing.T) Item{pod(3, describe, "pod-liveness-old.describe.txt")},
		},
		{
			name: "probe failures counted once across describe and event list", analyzer: probeAnalyzer{},
			items: []func(*testing.T) Item{pod(3, describe, "pod-liveness-restarting.describe.txt"), func(t *testing.T) Item {
				return Item{ID: 4, Tool: events, Args: map[string]any{"namespace": "net"}, Output: "LAST SEEN   TYPE      REASON      OBJECT                   MESSAGE\n" +
					"2m          Warning   Unhealthy   pod/proxy-7b8c9d-q1w2e   Liveness probe failed: Get \"http://10.244.1.7:8081/livez\": dial tcp 10.244.1.7:8081: connect: connection refused\n"}
			}},
			want:    []wantFinding{{CategoryProbe, "pod/net/proxy-7b8c9d-q1w2e", "liveness probe http-get http://:8081/livez", true, []int{3, 4}}},
			summary: []string{"27 failures"},
		},
		{
			name: "readiness probe from events only", analyzer: probeAnalyzer{},
			items:   []func(*testing.T) Item{pod(7, events, "events-all.txt")},
			want:    []wantFinding{{CategoryProbe, "pod/ops/gateway-6f5e4d3c2b-a1b2c", "readiness probe", false, []int{7}}},
			summary: []string{"HTTP 503"},
		},
		{
			name: "image pull rate limit from events only", analyzer: imagePullAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return kubeItem(t, 3, events, "events-imagepull-ratelimit.txt", "namespace", "web")
			}},
			want:    []wantFinding{{CategoryImagePull, "pod/web/web-6b9c7d8f5-tz4qm", "redis:7.2", true, []int{3}}},
			summary: []string{"rate-limiting pulls", "toomanyrequests"},
		},
		{
			name: "image without a build for the node's platform", analyzer: imagePullAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return Item{ID: 4, Tool: events, Args: map[string]any{"namespace": "ml"}, Output: "LAST SEEN   TYPE      REASON   OBJECT               MESSAGE\n" +
					"2m          Warning   Failed   pod/infer-7c9d-x2    Failed to pull image \"ghcr.io/acme/infer:2.1\": rpc error: code = NotFound desc = failed to pull and unpack image \"ghcr.io/acme/infer:2.1\": no match for platform in manifest: not found\n"}
			}},
			want:    []wantFinding{{CategoryImagePull, "pod/ml/infer-7c9d-x2", "ghcr.io/acme/infer:2.1", true, []int{4}}},
			summary: []string{"no build for the node's platform", "no match for platform in manifest"},
		},
		{
			name: "runAsNonRoot with a non-numeric image user json", analyzer: configErrorAnalyzer{},
			items:   []func(*testing.T) Item{pod(2, get, "pod-runasnonroot.json")},
			want:    []wantFinding{{CategoryMissingConfig, "pod/monitoring/exporter-7c9d8b6f5-4kq2m", "runAsNonRoot", true, []int{2}}},
			summary: []string{"runAsNonRoot", `non-numeric user "exporter"`, `"quay.io/acme/exporter:0.9.1"`},
		},
		{
			name: "runAsNonRoot with a root image from a Failed event", analyzer: configErrorAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return Item{ID: 5, Tool: describe, Args: map[string]any{"kind": "pod"}, Output: "Name:         app-1\nNamespace:    ns\nNode:         w1/10.0.0.1\nStatus:       Pending\n" +
					"Containers:\n  app:\n    Image:          example.com/app:1\n    State:          Waiting\n      Reason:       CreateContainerConfigError\n    Ready:          False\n" +
					"  sidecar:\n    Image:          example.com/side:1\n    State:          Running\n    Ready:          True\n" +
					"Events:\n  Type     Reason  Age                From     Message\n  ----     ------  ----               ----     -------\n" +
					"  Warning  Failed  10s (x9 over 2m)   kubelet  Error: container has runAsNonRoot and image will run as root (pod: \"app-1_ns(0f4b)\", container: app)\n"}
			}},
			want:    []wantFinding{{CategoryMissingConfig, "pod/ns/app-1", "runAsNonRoot", true, []int{5}}},
			summary: []string{`container "app" of pod ns/app-1`, "will run as root"},
		},
		{
			name: "CreateContainerConfigError with an unknown reason is not direct", analyzer: configErrorAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return Item{ID: 5, Tool: describe, Args: map[string]any{"kind": "pod"}, Output: "Name:         app-1\nNamespace:    ns\nNode:         w1/10.0.0.1\nStatus:       Pending\n" +
					"Containers:\n  app:\n    Image:          example.com/app:1\n    State:          Waiting\n      Reason:       CreateContainerConfigError\n    Ready:          False\n" +
					"Events:\n  Type     Reason  Age   From     Message\n  ----     ------  ----  ----     -------\n" +
					"  Warning  Failed  10s   kubelet  Error: failed to sync configmap cache: timed out waiting for the condition\n"}
			}},
			want:    []wantFinding{{CategoryMissingConfig, "pod/ns/app-1", "failed to sync configmap cache: timed out waiting for the condition", false, []int{5}}},
			summary: []string{"failed to sync configmap cache"},
		},
		{
			name: "init container crash loop quotes its last log line", analyzer: crashLoopAnalyzer{},
			items: []func(*testing.T) Item{pod(2, describe, "pod-init-crash.describe.txt"), func(t *testing.T) Item {
				return Item{ID: 3, Tool: "kubernetes.logs", Args: map[string]any{"pod": "api-7c5f8d9b6-vn8kt", "namespace": "orders", "container": "migrate", "previous": true},
					Output: "applying 0042_add_index.sql\nerror: Dirty database version 42. Fix and force version.\n"}
			}, func(t *testing.T) Item {
				// Another container's log is not this one's.
				return Item{ID: 4, Tool: "kubernetes.logs", Args: map[string]any{"pod": "api-7c5f8d9b6-vn8kt", "namespace": "orders", "container": "wait-config"},
					Output: "config present\n"}
			}},
			want:    []wantFinding{{CategoryCrashloop, "pod/orders/api-7c5f8d9b6-vn8kt", "migrate", true, []int{2, 3}}},
			summary: []string{`init container "migrate"`, "Init:CrashLoopBackOff", `last log line: "error: Dirty database version 42. Fix and force version."`},
		},
		{
			name: "crash loop whose last log line is not an error stays indirect", analyzer: crashLoopAnalyzer{},
			items: []func(*testing.T) Item{pod(3, describe, "pod-crash-exit1.describe.txt"), func(t *testing.T) Item {
				return Item{ID: 4, Tool: "kubernetes.logs", Args: map[string]any{"pod": "orders-5c8b9d7f6-qwx4z", "namespace": "shop", "container": "orders", "previous": true},
					Output: "listening on :8080\nshutting down\n"}
			}},
			want:    []wantFinding{{CategoryCrashloop, "pod/shop/orders-5c8b9d7f6-qwx4z", "orders", false, []int{3, 4}}},
			summary: []string{`last log line: "shutting down"`},
		},
		{
			name: "multi-attach names the claim and the pod holding the volume", analyzer: volumeAnalyzer{},
			items: []func(*testing.T) Item{pod(2, describe, "pod-multiattach.describe.txt"), func(t *testing.T) Item {
				return kubeItem(t, 3, describe, "pvc-bound.describe.txt", "kind", "pvc")
			}},
			want:    []wantFinding{{CategoryStorage, "pod/docs/wiki-7f6d9c8b5-w2x9t", "persistentvolumeclaim/wiki-data", true, []int{2}}},
			summary: []string{"Multi-Attach", "PersistentVolumeClaim wiki-data, access mode RWO", "in use by pod wiki-5c8b7d9f4-q7lzm"},
			related: []string{"node/worker-3", "pod/docs/wiki-5c8b7d9f4-q7lzm"},
		},
		{
			name: "nfs mount failure from events only", analyzer: volumeAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return kubeItem(t, 6, events, "events-mount-nfs.txt", "namespace", "web")
			}},
			want:    []wantFinding{{CategoryStorage, "pod/web/gallery-6d5f8c7b9-rk2np", "volume media", false, []int{6}}},
			summary: []string{"cannot be mounted", "mount.nfs: Connection timed out"},
		},
		{
			name: "a mount timeout caused by a missing secret is not a storage claim", analyzer: volumeAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return Item{ID: 3, Tool: events, Args: map[string]any{"namespace": "edge"}, Output: "LAST SEEN   TYPE      REASON        OBJECT            MESSAGE\n" +
					"3m          Warning   FailedMount   pod/gw-5c7d-x1    MountVolume.SetUp failed for volume \"tls\" : secret \"gw-tls\" not found\n" +
					"1m          Warning   FailedMount   pod/gw-5c7d-x1    Unable to attach or mount volumes: unmounted volumes=[tls], unattached volumes=[], failed to process volumes=[]: timed out waiting for the condition\n"}
			}},
		},
		{
			name: "no volume claim for a running pod", analyzer: volumeAnalyzer{},
			items: []func(*testing.T) Item{pod(2, describe, "pod-healthy.describe.txt"), pod(3, events, "events-all.txt")},
		},
		{
			name: "eviction over the pod's ephemeral-storage limit json", analyzer: evictionAnalyzer{},
			items:   []func(*testing.T) Item{pod(4, get, "pod-evicted-ephemeral.json")},
			want:    []wantFinding{{CategorySaturation, "pod/media/renderer-5d8f7c6b9-x2v4q", "pod ephemeral-storage limit 1280Mi", true, []int{4}}},
			summary: []string{"Evicted", "ephemeral-storage limit of 1280Mi"},
		},
		{
			name: "node-pressure eviction leads to the node", analyzer: evictionAnalyzer{},
			items: []func(*testing.T) Item{pod(2, describe, "pod-evicted-node.describe.txt")},
			want: []wantFinding{
				{CategoryNode, "node/worker-5", "memory", true, []int{2}},
				{CategoryNode, "pod/shop/cache-warmer-6f7d8c9b5-m4p2x", "node low on memory", false, []int{2}},
			},
			summary: []string{"MemoryPressure", `container "warmer" of pod shop/cache-warmer-6f7d8c9b5-m4p2x was using 3186044Ki (request 512Mi)`},
		},
		{
			name: "node-pressure eviction with the node in evidence blames only the pod's link", analyzer: evictionAnalyzer{},
			items: []func(*testing.T) Item{pod(2, describe, "pod-evicted-node.describe.txt"), func(t *testing.T) Item {
				return Item{ID: 3, Tool: get, Args: map[string]any{"kind": "nodes"}, Output: "NAME       STATUS   ROLES    AGE   VERSION\nworker-5   Ready    <none>   90d   v1.30.4\n"}
			}},
			want: []wantFinding{{CategoryNode, "pod/shop/cache-warmer-6f7d8c9b5-m4p2x", "node low on memory", false, []int{2}}},
		},
		{
			name: "an Evicted status in a table alone says nothing", analyzer: evictionAnalyzer{},
			items: []func(*testing.T) Item{func(t *testing.T) Item {
				return Item{ID: 1, Tool: get, Args: map[string]any{"kind": "pods", "namespace": "a"}, Output: "NAME      READY   STATUS    RESTARTS   AGE\nx-1       0/1     Evicted   0          3d\n"}
			}},
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
			if tc.related != nil && (len(got) == 0 || !reflect.DeepEqual(got[0].Related, tc.related)) {
				t.Errorf("related: got %v, want %v", got, tc.related)
			}
		})
	}
}

// pendingPod renders `kubectl describe pod` of a pod the scheduler cannot
// place, with its node selector ("<none>") and claim ("" for none).
func pendingPod(name, ns, msg, selector, claim string) string {
	vols := "Volumes:\n  kube-api-access:\n    Type:  Projected\n"
	if claim != "" {
		vols = "Volumes:\n  data:\n    Type:       PersistentVolumeClaim\n    ClaimName:  " + claim + "\n    ReadOnly:   false\n"
	}
	return "Name:             " + name + "\nNamespace:        " + ns + "\nNode:             <none>\nStatus:           Pending\n" +
		"Containers:\n  app:\n    Image:      example.com/app:1.0\n" +
		"Conditions:\n  Type           Status\n  PodScheduled   False \n" + vols +
		"Node-Selectors:              " + selector + "\n" +
		"Events:\n  Type     Reason            Age                 From               Message\n" +
		"  ----     ------            ----                ----               -------\n" +
		"  Warning  FailedScheduling  61s (x10 over 44m)  default-scheduler  " + msg + "\n"
}

// All analyzers over all pod fixtures: each unhealthy pod gets its cause and
// the healthy one nothing; the order is stable.
func TestKubeAnalyzersAllPods(t *testing.T) {
	items := []Item{
		kubeItem(t, 1, describe, "pod-oom.describe.txt", "kind", "pod"),
		kubeItem(t, 2, describe, "pod-healthy.describe.txt", "kind", "pod"),
		kubeItem(t, 3, get, "pod-imagepull-auth.json", "kind", "pod", "output", "json"),
		kubeItem(t, 4, describe, "pod-configmap.describe.txt"),
		kubeItem(t, 5, describe, "pod-crash-exit1.describe.txt"),
	}
	var all []Finding
	names := map[string]bool{}
	for _, a := range KubeAnalyzers() {
		if names[a.Name()] {
			t.Errorf("duplicate analyzer name %q", a.Name())
		}
		names[a.Name()] = true
		for _, f := range a.Analyze(&Input{Items: items}) {
			if f.Analyzer != a.Name() {
				t.Errorf("finding of %s says analyzer %s", a.Name(), f.Analyzer)
			}
			all = append(all, f)
		}
	}
	got := map[string]string{}
	for _, f := range all {
		if f.Object == "pod/shop/cart-7d9f-p9q8r" {
			t.Errorf("healthy pod reported: %+v", f)
		}
		got[f.Object] += f.Category + " "
	}
	want := map[string]string{
		"pod/shop/cart-7d9f-x2":             "oom ",
		"pod/finance/billing-7f8e9d-kk2lm":  "image_pull ",
		"pod/shop/profile-6c7d8e9f0a-r4t5y": "missing_config ",
		"pod/shop/orders-5c8b9d7f6-qwx4z":   "crashloop ",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: categories %q, want %q", k, got[k], v)
		}
	}
	// Deterministic.
	again := probeAnalyzer{}.Analyze(&Input{Items: items})
	if len(again) != 0 {
		t.Errorf("probe findings on pods without probe failures: %+v", again)
	}
}

// An eviction the evidence cannot date (the pod's status only, no event)
// may be days old: it is confirmed only when the alert points at the pod.
func TestUndatedEvictionNeedsFocus(t *testing.T) {
	it := kubeItem(t, 4, get, "pod-evicted-ephemeral.json", "kind", "pod")
	fs := runKube(evictionAnalyzer{}, it)
	if len(fs) != 1 || fs[0].Score != 0.65 || !fs[0].Direct {
		t.Fatalf("findings = %+v", fs)
	}
	if c := Rank(fs, Focus{Namespace: "media", Names: []string{"renderer-5d8f7c6b9-x2v4q"}}); c.Verdict != VerdictConfirmed {
		t.Errorf("focused: verdict %s", c.Verdict)
	}
	if c := Rank(fs, Focus{Namespace: "media", Names: []string{"transcoder"}}); c.Verdict != VerdictLikely {
		t.Errorf("unfocused: verdict %s", c.Verdict)
	}
}
