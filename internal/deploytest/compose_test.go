package deploytest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
)

func TestCompose(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(root(t), "deploy", "compose")
	load := func(t *testing.T, env []string) error {
		t.Helper()
		opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")},
			cli.WithWorkingDirectory(dir), cli.WithEnv(env), cli.WithName("aurora"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = opts.LoadProject(context.Background())
		return err
	}
	// AURORA_SECRET_KEY is required: compose refuses to start without it.
	if err := load(t, nil); err == nil || !strings.Contains(err.Error(), "AURORA_SECRET_KEY") {
		t.Fatalf("without AURORA_SECRET_KEY: want an error naming it, got %v", err)
	}

	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")},
		cli.WithWorkingDirectory(dir), cli.WithEnv([]string{"AURORA_SECRET_KEY=k", "AURORA_WORKER_REPLICAS=5"}), cli.WithName("aurora"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("load compose.yaml: %v", err)
	}
	vars := configVars()
	want := map[string]int{"server": 3, "worker": 5, "chatbot": 2, "scheduler": 2, "migrate": 1, "postgres": 1, "redis": 1, "edge": 1}
	for name, replicas := range want {
		s, ok := p.Services[name]
		if !ok {
			t.Errorf("no service %s", name)
			continue
		}
		if s.Deploy == nil || s.Deploy.Replicas == nil || *s.Deploy.Replicas != replicas {
			t.Errorf("%s: deploy.replicas %v, want %d", name, s.Deploy, replicas)
		}
	}
	// Weaviate is optional (profile); every service has deploy.replicas.
	if s, ok := p.DisabledServices["weaviate"]; !ok || s.Deploy == nil || s.Deploy.Replicas == nil {
		t.Errorf("weaviate: want a disabled-by-default profile service with deploy.replicas")
	}
	for _, role := range []string{"server", "worker", "chatbot", "scheduler", "migrate"} {
		s := p.Services[role]
		if len(s.Command) != 1 || s.Command[0] != role {
			t.Errorf("%s: command %v", role, s.Command)
		}
		if !s.ReadOnly || s.User == "" || strings.HasPrefix(s.User, "0") || strings.HasPrefix(s.User, "root") {
			t.Errorf("%s: want a read-only root filesystem and a non-root user, got read_only=%v user=%q", role, s.ReadOnly, s.User)
		}
		if len(s.CapDrop) != 1 || s.CapDrop[0] != "ALL" {
			t.Errorf("%s: cap_drop %v", role, s.CapDrop)
		}
		for k := range s.Environment {
			if !vars[k] {
				t.Errorf("%s: env %s is not a variable Aurora reads", role, k)
			}
		}
		if s.Build == nil || s.Build.Dockerfile != "Dockerfile" {
			t.Errorf("%s: not built from the repository's Dockerfile: %+v", role, s.Build)
		}
		if role != "migrate" {
			if d, ok := s.DependsOn["migrate"]; !ok || d.Condition != "service_completed_successfully" {
				t.Errorf("%s: must start after migrate completes: %+v", role, s.DependsOn)
			}
		}
	}
	// Only the edge proxy publishes a port: replicas cannot share one.
	for name, s := range p.Services {
		if len(s.Ports) > 0 && name != "edge" {
			t.Errorf("%s publishes %v: with several replicas only the edge proxy may", name, s.Ports)
		}
	}
}
