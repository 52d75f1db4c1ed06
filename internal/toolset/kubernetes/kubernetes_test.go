package kubernetes

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/analyze"
	"github.com/aurora-oss/aurora/internal/toolset"
)

func call(t *testing.T, tools map[string]toolset.Tool, name string, args map[string]any) string {
	t.Helper()
	res, err := tools[name].Call(context.Background(), args)
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return res.Output
}

func wantContains(t *testing.T, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

func TestToolsMetadata(t *testing.T) {
	tools, _ := newTestTools(t)
	var names []string
	writers := map[string]bool{"kubernetes.rollout_restart": true, "kubernetes.scale": true, "kubernetes.rollout_undo": true}
	for name, tl := range tools {
		names = append(names, name)
		if tl.ReadOnly() == writers[name] {
			t.Errorf("%s: ReadOnly() = %v", name, tl.ReadOnly())
		}
		if _, isWriter := tl.(toolset.Writer); isWriter != writers[name] {
			t.Errorf("%s: implements toolset.Writer = %v", name, isWriter)
		}
		if tl.Timeout() != DefaultTimeout {
			t.Errorf("%s: Timeout() = %s", name, tl.Timeout())
		}
		if tl.Description() == "" {
			t.Errorf("%s: no description", name)
		}
		var schema struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		}
		if err := json.Unmarshal(tl.Parameters(), &schema); err != nil || schema.Type != "object" {
			t.Errorf("%s: bad schema (%v): %s", name, err, tl.Parameters())
		}
		for _, r := range schema.Required {
			if _, ok := schema.Properties[r]; !ok {
				t.Errorf("%s: required %q is not a property", name, r)
			}
		}
	}
	slices.Sort(names)
	want := []string{"kubernetes.describe", "kubernetes.events", "kubernetes.find", "kubernetes.get",
		"kubernetes.logs", "kubernetes.rollout_history", "kubernetes.rollout_restart", "kubernetes.rollout_undo", "kubernetes.scale"}
	if !slices.Equal(names, want) {
		t.Errorf("tools = %v, want %v", names, want)
	}
	list := make([]toolset.Tool, 0, len(tools))
	for _, tl := range tools {
		list = append(list, tl)
	}
	if _, err := toolset.NewRegistry(list...); err != nil {
		t.Error(err)
	}
}

func TestGetTables(t *testing.T) {
	tools, _ := newTestTools(t)
	get := func(args map[string]any) string { return call(t, tools, "kubernetes.get", args) }

	out := get(map[string]any{"kind": "po"})
	wantContains(t, out,
		"NAMESPACE   NAME              READY   STATUS             RESTARTS       AGE\n",
		"default     debug             0/1     Completed          0              2d\n",
		"shop        cart-7d9f-x2      0/1     CrashLoopBackOff   12 (84s ago)   31m\n")

	out = get(map[string]any{"kind": "Pod", "namespace": "shop", "output": "wide"})
	wantContains(t, out, "NAME              READY   STATUS             RESTARTS       AGE   IP            NODE       NOMINATED NODE   READINESS GATES\n",
		"cart-7d9f-k8s2p   1/1     Running            0              60m   10.244.0.9    worker-1   <none>           <none>\n")
	if strings.Contains(out, "NAMESPACE") || strings.Contains(out, "debug") {
		t.Errorf("namespaced list shows other namespaces:\n%s", out)
	}

	out = get(map[string]any{"kind": "pods", "namespace": "shop", "label_selector": "app=cart,pod-template-hash=7d9f"})
	if strings.Count(out, "\n") != 3 {
		t.Errorf("label_selector: want header + 2 pods:\n%s", out)
	}
	out = get(map[string]any{"kind": "pods", "namespace": "shop", "label_selector": "app=nope"})
	if out != "No resources found in shop namespace.\n" {
		t.Errorf("empty list: %q", out)
	}

	for _, kind := range []string{"deploy", "deployments", "Deployment", "deployments.apps"} {
		out = get(map[string]any{"kind": kind, "namespace": "shop"})
		want := "NAME   READY   UP-TO-DATE   AVAILABLE   AGE\ncart   1/2     2            1           33d\n"
		if out != want {
			t.Errorf("kind %q:\n%s\nwant:\n%s", kind, out, want)
		}
	}

	out = get(map[string]any{"kind": "nodes", "namespace": "ignored-for-nodes"})
	want := "NAME       STATUS                        ROLES    AGE   VERSION\n" +
		"worker-1   NotReady,SchedulingDisabled   <none>   63d   v1.30.2\n" +
		"worker-3   Ready                         worker   63d   v1.30.2\n"
	if out != want {
		t.Errorf("nodes:\n%s\nwant:\n%s", out, want)
	}

	out = get(map[string]any{"kind": "svc", "namespace": "shop"})
	wantContains(t, out, "NAME          TYPE           CLUSTER-IP    EXTERNAL-IP   PORT(S)         AGE\n",
		"cart          ClusterIP      10.96.12.34   <none>        80/TCP          33d\n",
		"cart-public   LoadBalancer   10.96.12.35   <pending>     443:30443/TCP   33d\n")

	out = get(map[string]any{"kind": "rs", "namespace": "shop"}) // generic
	wantContains(t, out, "NAME        AGE\n", "cart-7d9f   60m\n")

	out = get(map[string]any{"kind": "ev", "namespace": "shop"})
	wantContains(t, out, "LAST SEEN             TYPE      REASON              OBJECT                MESSAGE\n")

	out = get(map[string]any{"kind": "hpa", "namespace": "shop"})
	if out != "No resources found in shop namespace.\n" {
		t.Errorf("hpa: %q", out)
	}

	out = get(map[string]any{"kind": "pods", "name": "gone", "namespace": "shop"})
	if !strings.HasPrefix(out, "Error from server (NotFound): ") || !strings.Contains(out, "gone") {
		t.Errorf("not found: %q", out)
	}
}

func TestGetJSONAndYAML(t *testing.T) {
	tools, _ := newTestTools(t)
	out := call(t, tools, "kubernetes.get", map[string]any{"kind": "po", "name": "cart-7d9f-x2", "namespace": "shop", "output": "json"})
	if !strings.HasPrefix(out, "{\n    \"apiVersion\": \"v1\",\n    \"kind\": \"Pod\",\n") {
		t.Errorf("not kubectl's JSON layout:\n%.200s", out)
	}
	if strings.Contains(out, "managedFields") {
		t.Error("managedFields not stripped")
	}
	var pod struct {
		Status struct {
			ContainerStatuses []struct {
				LastState struct{ Terminated struct{ Reason string } }
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &pod); err != nil || pod.Status.ContainerStatuses[0].LastState.Terminated.Reason != "OOMKilled" {
		t.Errorf("pod JSON (%v): %+v", err, pod)
	}

	out = call(t, tools, "kubernetes.get", map[string]any{"kind": "deploy", "output": "json"})
	var list struct {
		Kind  string
		Items []struct{ Kind, APIVersion string }
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil || list.Kind != "List" || len(list.Items) != 1 ||
		list.Items[0].Kind != "Deployment" || list.Items[0].APIVersion != "apps/v1" {
		t.Errorf("list JSON (%v): %+v", err, list)
	}

	out = call(t, tools, "kubernetes.get", map[string]any{"kind": "svc", "name": "cart", "namespace": "shop", "output": "yaml"})
	wantContains(t, out, "apiVersion: v1\nkind: Service\n", "  clusterIP: 10.96.12.34\n")
}

func TestSecretsRedacted(t *testing.T) {
	tools, _ := newTestTools(t)
	secrets := []string{"aHVudGVyMg==", "Y2FydA==", "s3cr3t-token", "hunter2"}
	check := func(out string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("output leaks %q:\n%s", s, out)
			}
		}
	}
	out := call(t, tools, "kubernetes.get", map[string]any{"kind": "Secret", "name": "cart-db", "namespace": "shop", "output": "json"})
	check(out)
	var s struct {
		Data, StringData map[string]string
		Metadata         struct{ Annotations map[string]string }
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Data) != 2 || len(s.StringData) != 1 {
		t.Errorf("keys lost: %+v", s)
	}
	for k, v := range s.Data {
		if v != "<redacted>" {
			t.Errorf("data[%s] = %q", k, v)
		}
	}
	if s.StringData["token"] != "<redacted>" || s.Metadata.Annotations[lastApplied] != "<redacted>" {
		t.Errorf("not redacted: %+v", s)
	}
	for _, args := range []map[string]any{
		{"kind": "secrets", "output": "json"},
		{"kind": "secrets", "namespace": "shop", "output": "yaml"},
		{"kind": "secrets", "namespace": "shop"},
		{"kind": "secret", "namespace": "shop", "name": "cart-db", "output": "wide"},
	} {
		check(call(t, tools, "kubernetes.get", args))
	}
	out = call(t, tools, "kubernetes.describe", map[string]any{"kind": "secret", "name": "cart-db", "namespace": "shop"})
	check(out)
	wantContains(t, out, "password:  <redacted>")
}

func TestDescribePodOOM(t *testing.T) {
	tools, _ := newTestTools(t)
	out := call(t, tools, "kubernetes.describe", map[string]any{"kind": "po", "name": "cart-7d9f-x2", "namespace": "shop"})
	wantContains(t, out,
		"Name:             cart-7d9f-x2\n",
		"Namespace:        shop\n",
		"Node:             worker-3/10.0.1.23\n",
		"Start Time:       Mon, 03 Jun 2024 10:12:01 +0000\n",
		"Labels:           app=cart\n                  pod-template-hash=7d9f\n",
		"Status:           Running\n",
		"IP:               10.244.1.17\n",
		"Controlled By:  ReplicaSet/cart-7d9f\n",
		"Containers:\n  api:\n",
		"    Image:          registry.example.com/shop/cart:1.4.2\n",
		"    Port:           8080/TCP\n",
		"    State:          Waiting\n      Reason:       CrashLoopBackOff\n",
		"    Last State:     Terminated\n      Reason:       OOMKilled\n      Exit Code:    137\n",
		"    Ready:          False\n",
		"    Restart Count:  12\n",
		"    Limits:\n      cpu:     500m\n      memory:  256Mi\n",
		"    Requests:\n      cpu:      100m\n      memory:   128Mi\n",
		"    Liveness:   http-get http://:8080/healthz delay=10s timeout=1s period=10s #success=1 #failure=3\n",
		"    Readiness:  http-get http://:8080/ready delay=5s timeout=1s period=5s #success=1 #failure=3\n",
		"<set to the key 'DB_HOST' of config map 'cart-config'>  Optional: false",
		"DB_PASSWORD:  <set to the key 'password' in secret 'cart-db'>",
		"Conditions:\n  Type                        Status\n",
		"  Ready                       False \n",
		"Node-Selectors:  <none>\n",
		"Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\n",
		"Events:\n  Type     Reason     Age                  From               Message\n  ----     ------     ----                 ----               -------\n",
		"  Warning  BackOff    84s (x120 over 30m)  kubelet            Back-off restarting failed container api",
	)
	if strings.Contains(out, "cart-7d9f-k8s2p") {
		t.Error("describe shows another pod's events")
	}
	// The events block comes last.
	if i := strings.Index(out, "Events:"); i < 0 || strings.Contains(out[i:], "Tolerations") {
		t.Error("Events: is not the last block")
	}
}

// TestDescribeFeedsAnalyzers proves the describe format is the one the
// analyzers parse: the OOM pod yields an oom finding.
func TestDescribeFeedsAnalyzers(t *testing.T) {
	tools, _ := newTestTools(t)
	args := map[string]any{"kind": "pod", "name": "cart-7d9f-x2", "namespace": "shop"}
	out := call(t, tools, "kubernetes.describe", args)
	in := &analyze.Input{Items: []analyze.Item{{ID: 1, Tool: "kubernetes.describe", Args: args, Output: out}}}
	var found bool
	for _, a := range analyze.KubeAnalyzers() {
		for _, f := range a.Analyze(in) {
			if f.Category == analyze.CategoryOOM && f.Object == "pod/shop/cart-7d9f-x2" {
				found = true
				if !f.Direct || !slices.Equal(f.Evidence, []int{1}) {
					t.Errorf("oom finding: %+v", f)
				}
			}
		}
	}
	if !found {
		t.Errorf("no oom finding from describe output:\n%s", out)
	}
	// The same from get -o json and from the events table.
	js := call(t, tools, "kubernetes.get", map[string]any{"kind": "pod", "name": "cart-7d9f-x2", "namespace": "shop", "output": "json"})
	evArgs := map[string]any{"namespace": "shop"}
	evs := call(t, tools, "kubernetes.events", evArgs)
	in = &analyze.Input{Items: []analyze.Item{
		{ID: 2, Tool: "kubernetes.get", Args: map[string]any{"kind": "pod", "name": "cart-7d9f-x2", "namespace": "shop", "output": "json"}, Output: js},
		{ID: 3, Tool: "kubernetes.events", Args: evArgs, Output: evs},
	}}
	found = false
	for _, a := range analyze.KubeAnalyzers() {
		for _, f := range a.Analyze(in) {
			found = found || f.Category == analyze.CategoryOOM && f.Object == "pod/shop/cart-7d9f-x2"
		}
	}
	if !found {
		t.Error("no oom finding from get -o json")
	}
	parsed := analyze.ParseEvents(analyze.Item{ID: 3, Tool: "kubernetes.events", Args: evArgs, Output: evs})
	if len(parsed) != 5 || parsed[4].Reason != "BackOff" || parsed[4].Object() != "pod/shop/cart-7d9f-x2" || parsed[4].Type != "Warning" {
		t.Errorf("analyze.ParseEvents of the events table: %+v", parsed)
	}
}

func TestDescribeOtherKinds(t *testing.T) {
	tools, _ := newTestTools(t)
	d := func(args map[string]any) string { return call(t, tools, "kubernetes.describe", args) }

	out := d(map[string]any{"kind": "deploy", "name": "cart", "namespace": "shop"})
	wantContains(t, out,
		"Replicas:               2 desired | 2 updated | 2 total | 1 available | 1 unavailable\n",
		"StrategyType:           RollingUpdate\n",
		"RollingUpdateStrategy:  25% max unavailable, 25% max surge\n",
		"Conditions:\n  Type           Status  Reason\n  ----           ------  ------\n  Available      False   MinimumReplicasUnavailable\n",
		"NewReplicaSet:   cart-7d9f (2/2 replicas created)\n",
		"  Normal  ScalingReplicaSet  60m   deployment-controller  Scaled up replica set cart-7d9f to 2\n")

	out = d(map[string]any{"kind": "no", "name": "worker-3"})
	wantContains(t, out,
		"Roles:              worker\n",
		"Taints:             node.kubernetes.io/memory-pressure:NoSchedule\n                    dedicated=batch:NoSchedule\n",
		"  Type             Status  LastHeartbeatTime                 LastTransitionTime                Reason                         Message\n",
		"  MemoryPressure   True    Mon, 03 Jun 2024 10:43:00 +0000   Mon, 03 Jun 2024 10:16:40 +0000   KubeletHasInsufficientMemory   kubelet has insufficient memory available\n",
		"Allocatable:\n  cpu:     3800m\n  memory:  15Gi\n  pods:    110\n",
		"  Kubelet Version:            v1.30.2\n",
		"Warning  EvictionThresholdMet  3m19s (x3 over 26m)  kubelet  Attempting to reclaim memory")

	out = d(map[string]any{"kind": "service", "name": "cart", "namespace": "shop"})
	wantContains(t, out, "Selector:          app=cart\n", "Type:              ClusterIP\n",
		"Port:              http  80/TCP\n", "TargetPort:        8080/TCP\n", "Endpoints:         10.244.0.9:8080\n",
		"Events:            <none>\n")
	out = d(map[string]any{"kind": "svc", "name": "cart-public", "namespace": "shop"})
	wantContains(t, out, "Endpoints:             <none>\n", "NodePort:              https  30443/TCP\n")

	out = d(map[string]any{"kind": "rs", "name": "cart-7d9f", "namespace": "shop"}) // generic
	wantContains(t, out, "Name:               cart-7d9f\n", "Kind:               ReplicaSet\n",
		"Controlled By:      Deployment/cart\n", "Status:\n  Available Replicas:  1\n", "Events:")

	out = d(map[string]any{"kind": "pod", "name": "nope", "namespace": "shop"})
	if !strings.HasPrefix(out, "Error from server (NotFound)") {
		t.Errorf("not found: %q", out)
	}
}

func TestEvents(t *testing.T) {
	tools, _ := newTestTools(t)
	out := call(t, tools, "kubernetes.events", map[string]any{"namespace": "shop"})
	want := "LAST SEEN             TYPE      REASON              OBJECT                MESSAGE\n" +
		"60m                   Normal    ScalingReplicaSet   deployment/cart       Scaled up replica set cart-7d9f to 2\n" +
		"59m                   Normal    Started             pod/cart-7d9f-k8s2p   Started container api\n" +
		"31m                   Normal    Scheduled           pod/cart-7d9f-x2      Successfully assigned shop/cart-7d9f-x2 to worker-3\n" +
		"29m (x5 over 31m)     Normal    Pulled              pod/cart-7d9f-x2      Container image \"registry.example.com/shop/cart:1.4.2\" already present on machine\n" +
		"84s (x120 over 30m)   Warning   BackOff             pod/cart-7d9f-x2      Back-off restarting failed container api in pod cart-7d9f-x2_shop(4b7e1f0a)\n"
	if out != want {
		t.Errorf("events:\n%s\nwant:\n%s", out, want)
	}
	out = call(t, tools, "kubernetes.events", nil)
	wantContains(t, out, "NAMESPACE   LAST SEEN", "default     3m19s (x3 over 26m)   Warning   EvictionThresholdMet   node/worker-3")
	out = call(t, tools, "kubernetes.events", map[string]any{"kind": "po", "name": "cart-7d9f-k8s2p"})
	if strings.Count(out, "\n") != 2 || !strings.Contains(out, "Started container api") {
		t.Errorf("filtered events:\n%s", out)
	}
	out = call(t, tools, "kubernetes.events", map[string]any{"namespace": "empty"})
	if out != "No resources found in empty namespace.\n" {
		t.Errorf("no events: %q", out)
	}
}

func TestLogs(t *testing.T) {
	tools, api := newTestTools(t)
	out := call(t, tools, "kubernetes.logs", map[string]any{"pod": "cart-7d9f-x2", "namespace": "shop"})
	wantContains(t, out, "warming cache")
	if strings.Contains(out, "OutOfMemoryError") {
		t.Error("current logs show the previous instance's")
	}
	out = call(t, tools, "kubernetes.logs", map[string]any{"pod": "cart-7d9f-x2", "namespace": "shop",
		"previous": true, "tail": 2.0, "since": "15m", "container": "api"})
	want := "2024-06-03T10:41:54Z ERROR java.lang.OutOfMemoryError: Java heap space\n" +
		"2024-06-03T10:41:54Z ERROR \tat com.example.cart.Cache.load(Cache.java:88)\n"
	if out != want {
		t.Errorf("previous logs:\n%q\nwant\n%q", out, want)
	}
	var logReqs []string
	for _, r := range api.requests {
		if strings.Contains(r, "/log") {
			logReqs = append(logReqs, r)
		}
	}
	if len(logReqs) != 2 || !strings.Contains(logReqs[0], "tailLines=500") ||
		!strings.Contains(logReqs[1], "previous=true") || !strings.Contains(logReqs[1], "sinceSeconds=900") ||
		!strings.Contains(logReqs[1], "tailLines=2") || !strings.Contains(logReqs[1], "container=api") {
		t.Errorf("log requests: %v", logReqs)
	}
	if _, err := tools["kubernetes.logs"].Call(context.Background(), map[string]any{"pod": "cart-7d9f-k8s2p", "namespace": "shop", "previous": true}); err == nil {
		t.Error("previous logs of a pod that never restarted: no error")
	}
}

func TestFind(t *testing.T) {
	tools, _ := newTestTools(t)
	out := call(t, tools, "kubernetes.find", map[string]any{"name": "cart"})
	want := "deployment/shop/cart\nservice/shop/cart\n" + // exact matches first
		"pod/shop/cart-7d9f-k8s2p\npod/shop/cart-7d9f-x2\nservice/shop/cart-public\nstatefulset/payments/cart-ledger\n"
	if out != want {
		t.Errorf("find:\n%s\nwant:\n%s", out, want)
	}
	out = call(t, tools, "kubernetes.find", map[string]any{"name": "worker-3", "kind": "nodes"})
	if out != "node/worker-3\n" {
		t.Errorf("find node: %q", out)
	}
	out = call(t, tools, "kubernetes.find", map[string]any{"name": "zzz"})
	wantContains(t, out, `No objects named like "zzz" found`, "pods, deployments, statefulsets, daemonsets, services, jobs")
}

func TestRolloutHistory(t *testing.T) {
	tools, _ := newTestTools(t)
	out := call(t, tools, "kubernetes.rollout_history", map[string]any{"kind": "deployment", "name": "cart", "namespace": "shop"})
	wantContains(t, out,
		"deployment/shop/cart: revision 3, 2 desired | 2 updated | 2 total | 1 available | 1 unavailable\n",
		"REVISION      REPLICASET   DESIRED   CURRENT   READY   IMAGES                                 CREATED                AGE   CHANGE-CAUSE\n",
		"3 (current)   cart-7d9f    2         2         1       registry.example.com/shop/cart:1.4.2   2024-06-03T09:43:00Z   60m   image bump to 1.4.2\n")
	if i, j, k := strings.Index(out, "cart-7d9f "), strings.Index(out, "cart-5c8d"), strings.Index(out, "cart-4b7c"); !(i < j && j < k) {
		t.Errorf("not newest first:\n%s", out)
	}
	out = call(t, tools, "kubernetes.rollout_history", map[string]any{"kind": "po", "name": "cart-7d9f-x2", "namespace": "shop"})
	wantContains(t, out, "Owner chain: pod/shop/cart-7d9f-x2 -> replicaset/shop/cart-7d9f -> deployment/shop/cart\n", "1.4.1")
	out = call(t, tools, "kubernetes.rollout_history", map[string]any{"kind": "pod", "name": "debug", "namespace": "default"})
	wantContains(t, out, "Owner chain: pod/default/debug\n", "No Deployment owns it")
}

func TestArgumentErrors(t *testing.T) {
	tools, api := newTestTools(t)
	for _, c := range []struct {
		tool string
		args map[string]any
		arg  string // the argument the error must name
	}{
		{"kubernetes.get", map[string]any{}, "kind"},
		{"kubernetes.get", map[string]any{"kind": 3.0}, "kind"},
		{"kubernetes.get", map[string]any{"kind": "  "}, "kind"},
		{"kubernetes.get", map[string]any{"kind": "widgets"}, "kind"},
		{"kubernetes.get", map[string]any{"kind": "pods", "output": "table"}, "output"},
		{"kubernetes.get", map[string]any{"kind": "pods", "label_selector": "app in (("}, "label_selector"},
		{"kubernetes.get", map[string]any{"kind": "pods", "label_selector": "app=x", "name": "y"}, "label_selector"},
		{"kubernetes.get", map[string]any{"kind": "pods", "namespace": "a/b"}, "namespace"},
		{"kubernetes.get", map[string]any{"kind": "pods", "bogus": 1}, "bogus"},
		{"kubernetes.describe", map[string]any{"kind": "pod"}, "name"},
		{"kubernetes.describe", map[string]any{"name": "x"}, "kind"},
		{"kubernetes.events", map[string]any{"name": true}, "name"},
		{"kubernetes.logs", map[string]any{"namespace": "shop"}, "pod"},
		{"kubernetes.logs", map[string]any{"pod": "x"}, "namespace"},
		{"kubernetes.logs", map[string]any{"pod": "x", "namespace": "shop", "tail": 0}, "tail"},
		{"kubernetes.logs", map[string]any{"pod": "x", "namespace": "shop", "tail": 1.5}, "tail"},
		{"kubernetes.logs", map[string]any{"pod": "x", "namespace": "shop", "since": "yesterday"}, "since"},
		{"kubernetes.logs", map[string]any{"pod": "x", "namespace": "shop", "since": "-5m"}, "since"},
		{"kubernetes.logs", map[string]any{"pod": "x", "namespace": "shop", "previous": "maybe"}, "previous"},
		{"kubernetes.find", map[string]any{}, "name"},
		{"kubernetes.find", map[string]any{"name": "x", "kind": "widgets"}, "kind"},
		{"kubernetes.rollout_history", map[string]any{"kind": "service", "name": "x", "namespace": "y"}, "kind"},
		{"kubernetes.rollout_history", map[string]any{"kind": "deployment", "name": "x"}, "namespace"},
	} {
		_, err := tools[c.tool].Call(context.Background(), c.args)
		if err == nil || !strings.Contains(err.Error(), `"`+c.arg+`"`) || !strings.HasPrefix(err.Error(), c.tool+": ") {
			t.Errorf("%s %v: error %v, want one naming %q", c.tool, c.args, err, c.arg)
		}
	}
	for _, r := range api.requests {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("non-GET request: %s", r)
		}
	}
}

func TestNewFromKubeconfig(t *testing.T) {
	_, api := newTestTools(t) // only for its server's handler
	srv := httptestServer(t, api)
	kc := filepath.Join(t.TempDir(), "config")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: "` + srv + `"}
- name: other
  cluster: {server: "http://127.0.0.1:1"}
users:
- name: u
  user: {token: abc}
contexts:
- name: prod
  context: {cluster: fake, user: u, namespace: shop}
- name: broken
  context: {cluster: other, user: u}
current-context: broken
`
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	tools, err := New(Config{Kubeconfig: kc, Context: "prod", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range tools {
		if tl.Timeout() != 5*time.Second {
			t.Errorf("%s: timeout %s", tl.Name(), tl.Timeout())
		}
		if tl.Name() != "kubernetes.describe" {
			continue
		}
		tl.(*tool).kube().now = func() time.Time { return testNow }
		// No namespace: the context's (shop) is used.
		res, err := tl.Call(context.Background(), map[string]any{"kind": "pod", "name": "cart-7d9f-x2"})
		if err != nil || !strings.Contains(res.Output, "Namespace:        shop") {
			t.Errorf("describe via kubeconfig context: %v\n%s", err, res.Output)
		}
	}
	if _, err := New(Config{Kubeconfig: kc, Context: "nope"}); err == nil {
		t.Error("unknown context: no error")
	}
	if _, err := New(Config{InCluster: true, Kubeconfig: kc}); err == nil {
		t.Error("InCluster with Kubeconfig: no error")
	}
	if _, err := New(Config{Kubeconfig: kc, Timeout: -time.Second}); err == nil {
		t.Error("negative timeout: no error")
	}
	if _, err := NewFromREST(nil); err == nil {
		t.Error("NewFromREST(nil): no error")
	}
}

func TestKeepTail(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 3000; i++ {
		b.WriteString(strings.Repeat("x", 40) + "\n")
	}
	b.WriteString("LAST LINE\n")
	out := keepTail(b.String(), 1000)
	if len(out) > 1100 || !strings.HasPrefix(out, "… [") || !strings.HasSuffix(out, "LAST LINE\n") {
		t.Errorf("keepTail: %d bytes, %.40q … %q", len(out), out, out[len(out)-20:])
	}
	if keepTail("short\n", 1000) != "short\n" {
		t.Error("keepTail changed a short log")
	}
}
