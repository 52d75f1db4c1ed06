package kubernetes

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/aurora-oss/aurora/internal/toolset"
)

// newWriteTools returns the tools over a fake API server that records
// change requests.
func newWriteTools(t *testing.T) (map[string]toolset.Tool, *fakeAPI) {
	t.Helper()
	api := &fakeAPI{t: t, writable: true}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	tools, err := NewFromREST(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]toolset.Tool{}
	for _, tl := range tools {
		setNow(tl, testNow)
		byName[tl.Name()] = tl
	}
	return byName, api
}

func writerOf(t *testing.T, tools map[string]toolset.Tool, name string) toolset.Writer {
	t.Helper()
	w, ok := tools[name].(toolset.Writer)
	if !ok {
		t.Fatalf("%s is not a toolset.Writer", name)
	}
	return w
}

func TestWritingTools(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		tool     string
		args     map[string]any
		proposal toolset.Proposal
		output   string
		want     write // the one change request sent
		body     func(t *testing.T, body string)
	}{
		{
			tool: "kubernetes.rollout_restart", args: map[string]any{"kind": "deploy", "name": "cart", "namespace": "shop"},
			proposal: toolset.Proposal{Command: "kubectl -n shop rollout restart deployment/cart", Risk: "low",
				Undo: "none needed: the new pods run the same template; only the kubectl.kubernetes.io/restartedAt annotation changes"},
			output: "deployment.apps/cart restarted\n",
			want: write{"PATCH", "/apis/apps/v1/namespaces/shop/deployments/cart?fieldManager=kubectl-rollout&timeout=30s", "application/strategic-merge-patch+json",
				`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2024-06-03T10:43:19Z"}}}}}`},
		},
		{
			tool: "kubernetes.rollout_restart", args: map[string]any{"kind": "StatefulSet", "name": "cart-ledger", "namespace": "payments"},
			proposal: toolset.Proposal{Command: "kubectl -n payments rollout restart statefulset/cart-ledger", Risk: "low",
				Undo: "none needed: the new pods run the same template; only the kubectl.kubernetes.io/restartedAt annotation changes"},
			output: "statefulset.apps/cart-ledger restarted\n",
			want: write{"PATCH", "/apis/apps/v1/namespaces/payments/statefulsets/cart-ledger?fieldManager=kubectl-rollout&timeout=30s", "application/strategic-merge-patch+json",
				`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2024-06-03T10:43:19Z"}}}}}`},
		},
		{
			tool: "kubernetes.scale", args: map[string]any{"kind": "deployment", "name": "cart", "namespace": "shop", "replicas": 5.0},
			proposal: toolset.Proposal{Command: "kubectl -n shop scale deployment/cart --replicas=5", Risk: "medium",
				Undo: "kubectl -n shop scale deployment/cart --replicas=2 (the count read before the change: 2)"},
			output: "deployment.apps/cart scaled\n",
			want:   write{"PATCH", "/apis/apps/v1/namespaces/shop/deployments/cart/scale?timeout=30s", "application/merge-patch+json", `{"spec":{"replicas":5}}`},
		},
		{
			tool: "kubernetes.scale", args: map[string]any{"kind": "sts", "name": "cart-ledger", "namespace": "payments", "replicas": 0.0},
			proposal: toolset.Proposal{Command: "kubectl -n payments scale statefulset/cart-ledger --replicas=0", Risk: "medium",
				Undo: "kubectl -n payments scale statefulset/cart-ledger --replicas=1 (the count read before the change: 1)"},
			output: "statefulset.apps/cart-ledger scaled\n",
			want:   write{"PATCH", "/apis/apps/v1/namespaces/payments/statefulsets/cart-ledger/scale?timeout=30s", "application/merge-patch+json", `{"spec":{"replicas":0}}`},
		},
		{
			tool: "kubernetes.rollout_undo", args: map[string]any{"kind": "deployment", "name": "cart", "namespace": "shop"},
			proposal: toolset.Proposal{Command: "kubectl -n shop rollout undo deployment/cart", Risk: "medium",
				Undo: "kubectl -n shop rollout undo deployment/cart --to-revision=3 (roll forward to revision 3, current before the change; rolling back makes revision 2 the newest)"},
			output: "deployment.apps/cart rolled back\n",
			want:   write{"PATCH", "/apis/apps/v1/namespaces/shop/deployments/cart?timeout=30s", "application/json-patch+json", ""},
			body:   undoBody("registry.example.com/shop/cart:1.4.1", nil),
		},
		{
			tool: "kubernetes.rollout_undo", args: map[string]any{"kind": "deployment", "name": "cart", "namespace": "shop", "to_revision": 1.0},
			proposal: toolset.Proposal{Command: "kubectl -n shop rollout undo deployment/cart --to-revision=1", Risk: "medium",
				Undo: "kubectl -n shop rollout undo deployment/cart --to-revision=3 (roll forward to revision 3, current before the change; rolling back makes revision 1 the newest)"},
			output: "deployment.apps/cart rolled back\n",
			want:   write{"PATCH", "/apis/apps/v1/namespaces/shop/deployments/cart?timeout=30s", "application/json-patch+json", ""},
			body:   undoBody("registry.example.com/shop/cart:1.4.0", nil),
		},
	} {
		t.Run(c.tool+"/"+c.args["name"].(string), func(t *testing.T) {
			t.Parallel()
			tools, api := newWriteTools(t)
			w := writerOf(t, tools, c.tool)
			p, err := w.Propose(context.Background(), c.args)
			if err != nil {
				t.Fatal(err)
			}
			if p != c.proposal {
				t.Errorf("proposal:\n got %+v\nwant %+v", p, c.proposal)
			}
			if len(api.writes) != 0 {
				t.Fatalf("Propose wrote: %+v", api.writes)
			}
			res, err := w.Call(context.Background(), c.args)
			if err != nil {
				t.Fatal(err)
			}
			if res.Output != c.output {
				t.Errorf("output %q, want %q", res.Output, c.output)
			}
			if len(api.writes) != 1 {
				t.Fatalf("writes: %+v", api.writes)
			}
			got := api.writes[0]
			if c.body != nil {
				c.body(t, got.Body)
				got.Body = ""
			}
			if got != c.want {
				t.Errorf("request:\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// undoBody checks a rollback's JSON patch: the template of the revision
// (its image), the deployment's annotations kept.
func undoBody(image string, _ []string) func(t *testing.T, body string) {
	return func(t *testing.T, body string) {
		t.Helper()
		var ops []struct {
			Op, Path string
			Value    json.RawMessage
		}
		if err := json.Unmarshal([]byte(body), &ops); err != nil || len(ops) != 2 {
			t.Fatalf("patch %s: %v", body, err)
		}
		if ops[0].Op != "replace" || ops[0].Path != "/spec/template" || !strings.Contains(string(ops[0].Value), `"image":"`+image+`"`) {
			t.Errorf("template op: %+v %s", ops[0], ops[0].Value)
		}
		var ann map[string]string
		_ = json.Unmarshal(ops[1].Value, &ann)
		if ops[1].Path != "/metadata/annotations" || ann["deployment.kubernetes.io/revision"] != "3" {
			t.Errorf("annotations op: %s %v (the current revision annotation is kept for the controller to bump)", ops[1].Path, ann)
		}
	}
}

func TestWritingToolsRefuse(t *testing.T) {
	t.Parallel()
	tools, api := newWriteTools(t)
	for _, c := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"kubernetes.rollout_restart", map[string]any{"kind": "pod", "name": "x", "namespace": "shop"}, `argument "kind": "pod" is not supported`},
		{"kubernetes.rollout_restart", map[string]any{"kind": "deployment", "name": "x"}, `argument "namespace": is required`},
		{"kubernetes.scale", map[string]any{"kind": "daemonset", "name": "x", "namespace": "shop", "replicas": 1.0}, `works on deployment, statefulset, replicaset`},
		{"kubernetes.scale", map[string]any{"kind": "deployment", "name": "cart", "namespace": "shop"}, `argument "replicas": is required`},
		{"kubernetes.scale", map[string]any{"kind": "deployment", "name": "cart", "namespace": "shop", "replicas": -1.0}, `argument "replicas": must be between 0 and 1000`},
		{"kubernetes.scale", map[string]any{"kind": "deployment", "name": "cart", "namespace": "shop", "replicas": 2.5}, `argument "replicas": must be a whole number`},
		{"kubernetes.rollout_undo", map[string]any{"kind": "statefulset", "name": "cart-ledger", "namespace": "payments"}, `"statefulset" is not supported: kubernetes.rollout_undo works on deployment`},
		{"kubernetes.rollout_undo", map[string]any{"kind": "deployment", "name": "cart", "namespace": "shop", "to_revision": 9.0}, `unable to find specified revision 9 in history`},
		{"kubernetes.rollout_undo", map[string]any{"kind": "deployment", "name": "gone", "namespace": "shop"}, `not found`},
		{"kubernetes.rollout_undo", map[string]any{"kind": "deployment", "name": "cart", "namespace": "shop", "force": true}, `unknown argument "force"`},
		{"kubernetes.scale", map[string]any{"kind": "deployment", "name": "cart", "namespace": "shop", "replicas": 1.0, "cluster": "nope"}, `"nope" is not a configured cluster`},
	} {
		w := writerOf(t, tools, c.tool)
		_, perr := w.Propose(context.Background(), c.args)
		_, cerr := w.Call(context.Background(), c.args)
		for _, err := range []error{perr, cerr} {
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), c.tool+": ") {
				t.Errorf("%s %v: error %v, want one containing %q", c.tool, c.args, err, c.want)
			}
		}
	}
	if len(api.writes) != 0 {
		t.Errorf("refused calls wrote: %+v", api.writes)
	}
	// A rollback to the revision already running changes nothing.
	res, err := tools["kubernetes.rollout_undo"].Call(context.Background(), map[string]any{"kind": "deployment", "name": "cart", "namespace": "shop", "to_revision": 3.0})
	if err != nil || res.Output != "deployment.apps/cart skipped rollback (current template already matches revision 3)\n" || len(api.writes) != 0 {
		t.Errorf("undo to the current revision: %v %q %+v", err, res.Output, api.writes)
	}
}

func TestRegistryKeepsWritersApart(t *testing.T) {
	t.Parallel()
	tools, _ := newWriteTools(t)
	var list []toolset.Tool
	for _, tl := range tools {
		list = append(list, tl)
	}
	reg, err := toolset.NewRegistry(list...)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kubernetes.rollout_restart", "kubernetes.scale", "kubernetes.rollout_undo"} {
		tl, ok := reg.Get(name)
		if !ok || tl.ReadOnly() {
			t.Errorf("%s: registered %v, read-only %v", name, ok, ok && tl.ReadOnly())
		}
	}
}
