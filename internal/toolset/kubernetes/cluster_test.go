package kubernetes

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/aurora-oss/aurora/internal/toolset"
)

func TestSeveralClusters(t *testing.T) {
	t.Parallel()
	prod, staging := &fakeAPI{t: t}, &fakeAPI{t: t}
	ps, ss := httptest.NewServer(prod), httptest.NewServer(staging)
	t.Cleanup(ps.Close)
	t.Cleanup(ss.Close)
	tools, err := NewFromRESTClusters(map[string]*rest.Config{"prod": {Host: ps.URL}, "staging": {Host: ss.URL}}, "prod", "staging")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := toolset.NewRegistry(tools...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range tools {
		setNow(tl, testNow)
		var schema struct {
			Properties map[string]struct{ Description string } `json:"properties"`
		}
		if err := json.Unmarshal(tl.Parameters(), &schema); err != nil {
			t.Fatalf("%s: %v", tl.Name(), err)
		}
		if d := schema.Properties["cluster"].Description; !strings.Contains(d, "default: prod") || !strings.Contains(d, "prod, staging") {
			t.Errorf("%s: cluster argument %q", tl.Name(), d)
		}
	}
	ctx := context.Background()
	count := func(f *fakeAPI) int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.requests) }

	if _, err := reg.Call(ctx, "kubernetes.get", map[string]any{"kind": "pods", "namespace": "shop", "cluster": "staging"}); err != nil {
		t.Fatal(err)
	}
	if count(staging) == 0 || count(prod) != 0 {
		t.Errorf("cluster=staging: prod %d requests, staging %d", count(prod), count(staging))
	}
	before := count(staging)
	res, err := reg.Call(ctx, "kubernetes.describe", map[string]any{"kind": "pod", "name": "cart-7d9f-x2", "namespace": "shop"})
	if err != nil || !strings.Contains(res.Output, "OOMKilled") {
		t.Fatalf("default cluster: %v\n%s", err, res.Output)
	}
	if count(prod) == 0 || count(staging) != before {
		t.Errorf("no cluster: want the first (prod); prod %d, staging %d", count(prod), count(staging)-before)
	}
	if _, err := reg.Call(ctx, "kubernetes.events", map[string]any{"cluster": "dev"}); err == nil ||
		!strings.Contains(err.Error(), `argument "cluster": "dev" is not a configured cluster (configured: prod, staging)`) {
		t.Errorf("unknown cluster: %v", err)
	}

	for _, c := range []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"cluster": "staging"}, "staging"},
		{map[string]string{"k8s_cluster": "prod"}, "prod"},
		{map[string]string{"kubernetes_cluster": "staging", "cluster": "eu-1"}, "staging"},
		{map[string]string{"context": "prod"}, "prod"},
		{map[string]string{"cluster": "eu-1"}, "prod,staging"},
		{nil, "prod,staging"},
	} {
		if got := strings.Join(reg.ClustersFor("kubernetes.describe", c.labels), ","); got != c.want {
			t.Errorf("ClustersFor(%v) = %q, want %q", c.labels, got, c.want)
		}
	}
}

func TestKubeconfigContexts(t *testing.T) {
	t.Parallel()
	api := &fakeAPI{t: t}
	srv := httptestServer(t, api)
	data := []byte(`apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "` + srv + `"}}
users:
- {name: u, user: {token: abc}}
contexts:
- {name: east, context: {cluster: a, user: u, namespace: shop}}
- {name: west, context: {cluster: a, user: u}}
current-context: west
`)
	names, err := Clusters(Config{KubeconfigData: data, Contexts: []string{"east", "west", "east"}})
	if err != nil || strings.Join(names, ",") != "east,west" {
		t.Errorf("Clusters = %v, %v", names, err)
	}
	names, err = Clusters(Config{KubeconfigData: data})
	if err != nil || strings.Join(names, ",") != "west" {
		t.Errorf("current context: %v, %v", names, err)
	}
	if _, err := Clusters(Config{KubeconfigData: data, Contexts: []string{"east", "north"}}); err == nil ||
		!strings.Contains(err.Error(), `no context "north" (has: east, west)`) {
		t.Errorf("unknown context: %v", err)
	}
	// Content sent through the API may not run commands or read files on
	// the Aurora host; a kubeconfig file chosen by the operator may.
	for _, c := range []struct{ user, cluster, want string }{
		{`{exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: [-c, "touch /tmp/pwned"]}}`, "", "exec plugins would run a command"},
		{`{auth-provider: {name: oidc}}`, "", "auth-provider plugins are not accepted"},
		{`{client-certificate: /etc/ssl/c.pem, client-key: /var/lib/aurora/secret.key}`, "", "file paths"},
		{`{tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token}`, "", "file paths"},
		{`{token: t}`, `certificate-authority: /etc/ca.pem`, "certificate-authority is a file path"},
	} {
		kc := "apiVersion: v1\nkind: Config\nclusters:\n- {name: a, cluster: {server: \"https://k:6443\", " + c.cluster + "}}\n" +
			"users:\n- name: u\n  user: " + c.user + "\ncontexts:\n- {name: x, context: {cluster: a, user: u}}\ncurrent-context: x\n"
		if _, err := Clusters(Config{KubeconfigData: []byte(kc)}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.user, err, c.want)
		}
		file := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(file, []byte(kc), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Clusters(Config{Kubeconfig: file}); err != nil && strings.Contains(err.Error(), c.want) {
			t.Errorf("a kubeconfig file was refused: %v", err)
		}
	}
	if _, err := Clusters(Config{KubeconfigData: []byte("{not yaml")}); err == nil {
		t.Error("bad kubeconfig: no error")
	}
	tools, err := New(Config{KubeconfigData: data, Contexts: []string{"east", "west"}})
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := toolset.NewRegistry(tools...)
	for _, tl := range tools {
		setNow(tl, testNow)
	}
	// east's namespace (shop) is its default namespace.
	res, err := reg.Call(context.Background(), "kubernetes.describe", map[string]any{"kind": "pod", "name": "cart-7d9f-x2", "cluster": "east"})
	if err != nil || !strings.Contains(res.Output, "Namespace:        shop") {
		t.Errorf("east: %v\n%s", err, res.Output)
	}
}

func TestLinkLocalRefused(t *testing.T) {
	t.Parallel()
	kc := []byte("apiVersion: v1\nkind: Config\nclusters:\n- {name: a, cluster: {server: \"https://169.254.169.254\"}}\n" +
		"users:\n- {name: u, user: {token: t}}\ncontexts:\n- {name: x, context: {cluster: a, user: u}}\ncurrent-context: x\n")
	checks, err := Check(context.Background(), Config{KubeconfigData: kc, Timeout: 5 * time.Second})
	if err != nil || len(checks) != 1 || checks[0].OK || !strings.Contains(checks[0].Error, "refusing to connect to the link-local address 169.254.169.254") {
		t.Errorf("metadata address: %+v %v", checks, err)
	}
}
