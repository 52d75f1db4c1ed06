package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/testenv"
)

func TestK6Syntax(t *testing.T) {
	t.Parallel()
	node := tool(t, "AURORA_TEST_NODE", "node")
	dir := filepath.Join(root(t), "deploy", "k6")
	for _, f := range []string{"lib.js", "smoke.js", "load.js", "stress.js"} {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			run(t, dir, node, "--check", f)
		})
	}
}

var stageRE = regexp.MustCompile(`\{\s*duration:\s*'(\w+)',\s*target:\s*(\d+)\s*\}`)

// stagesOf reads a script's stages as "2m:10,5m:50,…".
func stagesOf(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), "deploy", "k6", file))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range stageRE.FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1]+":"+m[2])
	}
	return strings.Join(out, ",")
}

// TestK6Stages: the scripts have the stages and checks, and
// `aurora bench load` defaults to load.js's stages.
func TestK6Stages(t *testing.T) {
	t.Parallel()
	if got := stagesOf(t, "load.js"); got != "2m:10,5m:50,10m:100,2m:0" {
		t.Errorf("load.js stages %s", got)
	}
	if got := stagesOf(t, "stress.js"); got != "5m:1000,10m:1000" {
		t.Errorf("stress.js stages %s", got)
	}
	lib, err := os.ReadFile(filepath.Join(root(t), "deploy", "k6", "lib.js"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"r.status === status", "r.timings.duration < 500", "/health", "/api/v1/incidents", "/webhooks/generic"} {
		if !strings.Contains(string(lib), want) {
			t.Errorf("lib.js lacks %q", want)
		}
	}
	out, _ := execOut(root(t), testenv.Binary(t), "bench", "load", "-h")
	if !strings.Contains(out, stagesOf(t, "load.js")) {
		t.Errorf("aurora bench load's default stages differ from load.js (%s):\n%s", stagesOf(t, "load.js"), out)
	}
}
