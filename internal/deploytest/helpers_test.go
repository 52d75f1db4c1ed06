package deploytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/config"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// root is the repository's root directory.
func root(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// tool finds an external program: the environment variable env when set,
// else the first candidate that exists, else PATH. A missing tool fails the
// test under CI=true and skips it loudly otherwise.
func tool(t testing.TB, env string, candidates ...string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	for _, c := range candidates {
		if strings.HasPrefix(c, "~/") {
			home, _ := os.UserHomeDir()
			c = filepath.Join(home, c[2:])
		}
		if matches, _ := filepath.Glob(c); len(matches) > 0 {
			return matches[len(matches)-1]
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	what := candidates[len(candidates)-1]
	if testenv.CI() {
		t.Fatalf("%s is required under CI=true but was not found (set %s)", what, env)
	}
	t.Skipf("!!! SKIPPED: %s not found (set %s, or run bash scripts/test.sh which builds it) !!!", what, env)
	return ""
}

// run runs a command and fails the test with its output when it fails.
func run(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// configVars is every environment variable Aurora reads (the reference
// docs/configuration.md is kept equal to it by the config package's tests).
func configVars() map[string]bool {
	out := map[string]bool{}
	for _, s := range config.Variables() {
		out[s.Name] = true
	}
	return out
}

// execOut runs a command and returns its combined output and error.
func execOut(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}
