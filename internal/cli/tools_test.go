package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/config"
	"github.com/aurora-oss/aurora/internal/investigate"
	"github.com/aurora-oss/aurora/internal/secret"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/toolconfig"
)

func TestToolEnv(t *testing.T) {
	t.Parallel()
	kc := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "https://127.0.0.1:6443"}}
users:
- {name: u, user: {token: t}}
contexts:
- {name: east, context: {cluster: a, user: u}}
- {name: west, context: {cluster: a, user: u}}
current-context: east
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		ts      config.Toolsets
		wantErr string
		check   func(t *testing.T, env toolconfig.Env)
	}{
		{"none", config.Toolsets{}, "", func(t *testing.T, env toolconfig.Env) {
			if env.Kubernetes != nil || env.Prometheus != nil {
				t.Errorf("%+v", env)
			}
		}},
		{"several clusters", config.Toolsets{Kubeconfig: kc, KubeContexts: []string{"west", "east"}}, "", func(t *testing.T, env toolconfig.Env) {
			if env.Kubernetes == nil || strings.Join(env.Kubernetes.Contexts, ",") != "west,east" {
				t.Errorf("%+v", env.Kubernetes)
			}
		}},
		{"unknown context", config.Toolsets{Kubeconfig: kc, KubeContexts: []string{"north"}}, `KUBECONFIG / AURORA_KUBE_CONTEXTS: kubernetes: kubeconfig has no context "north"`, nil},
		{"prometheus basic auth", config.Toolsets{PrometheusURL: "http://p:9090", PrometheusUsername: "u", PrometheusPassword: "pw"}, "", func(t *testing.T, env toolconfig.Env) {
			if env.Prometheus == nil || env.Prometheus.Username != "u" || env.Prometheus.Password != "pw" {
				t.Errorf("%+v", env.Prometheus)
			}
		}},
		{"prometheus both auths", config.Toolsets{PrometheusURL: "http://p:9090", PrometheusBearerToken: "x", PrometheusUsername: "u"}, "set BearerToken or Username/Password, not both", nil},
	} {
		env, err := toolEnv(&config.Config{Toolsets: c.ts})
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		c.check(t, env)
	}
}

// The runner's ToolsFor: the org's tools, and every source it cannot check
// with the reason (the language model's entry is the runner's).
func TestToolsFor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := storage.Open(ctx, storage.Options{SQLitePath: filepath.Join(t.TempDir(), "a.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	store := storage.NewStore(db)
	org, _ := store.EnsureDefaultOrg(ctx)
	kr, _ := secret.NewKeyring([]secret.Key{{ID: "k", Bytes: bytes.Repeat([]byte{1}, 32)}})
	a := &app{toolsets: toolconfig.New(store, &secret.Store{Keys: kr, Backend: store}, toolconfig.Env{})}

	sources := func() (map[string]string, []string) {
		reg, nc, err := a.toolsFor(ctx, org.ID)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, n := range nc {
			m[n.Source] = n.Reason
		}
		return m, reg.Names()
	}
	nc, names := sources()
	if len(names) != 0 || !strings.Contains(nc["kubernetes"], "no Kubernetes cluster is configured") ||
		!strings.Contains(nc["prometheus"], "no Prometheus is configured") || nc["logs"] == "" || nc["recent_changes"] == "" || nc["llm"] != "" {
		t.Errorf("nothing configured: %v %v", nc, names)
	}
	if _, err := a.toolsets.Put(ctx, org.ID, "prometheus", "test", json.RawMessage(`{"url":"http://prometheus:9090"}`)); err != nil {
		t.Fatal(err)
	}
	nc, names = sources()
	if _, ok := nc["prometheus"]; ok || !strings.Contains(strings.Join(names, " "), "prometheus.alert_rule") {
		t.Errorf("prometheus set: %v %v", nc, names)
	}
	var want []string
	for _, s := range investigate.Sources {
		switch s.Source {
		case "llm", "prometheus", "knowledge_base", "past_incidents": // the knowledge base is always there
		default:
			want = append(want, s.Source)
		}
	}
	if len(nc) != len(want) {
		t.Errorf("not checked %v, want the sources %v", nc, want)
	}
}
