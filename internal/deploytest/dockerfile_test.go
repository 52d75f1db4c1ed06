package deploytest

import (
	"debug/elf"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// stage is one FROM … block of the Dockerfile: instruction → arguments.
type stage struct {
	from  string
	instr []*parser.Node
}

func parseDockerfile(t *testing.T) []stage {
	t.Helper()
	f, err := os.Open(filepath.Join(root(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("parse Dockerfile: %v", err)
	}
	if len(res.Warnings) > 0 {
		t.Errorf("Dockerfile warnings: %+v", res.Warnings)
	}
	var stages []stage
	for _, n := range res.AST.Children {
		if strings.EqualFold(n.Value, "from") {
			stages = append(stages, stage{from: n.Next.Value})
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].instr = append(stages[len(stages)-1].instr, n)
		}
	}
	return stages
}

func args(n *parser.Node) []string {
	var out []string
	for a := n.Next; a != nil; a = a.Next {
		out = append(out, a.Value)
	}
	return out
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	stages := parseDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("want a build stage and a runtime stage, got %d", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	if !strings.HasPrefix(final.from, "gcr.io/distroless/static") && final.from != "scratch" {
		t.Errorf("runtime image %s: want distroless/static or scratch", final.from)
	}
	var goBuild string
	for _, n := range build.instr {
		if strings.EqualFold(n.Value, "run") && strings.Contains(strings.Join(args(n), " "), "go build") {
			goBuild = strings.Join(args(n), " ")
		}
	}
	if !strings.Contains(goBuild, "CGO_ENABLED=0") || !strings.Contains(goBuild, "./cmd/aurora") {
		t.Errorf("build step must be a static CGO_ENABLED=0 build of ./cmd/aurora: %q", goBuild)
	}
	var user, entry string
	var installs bool
	for _, n := range final.instr {
		switch strings.ToLower(n.Value) {
		case "user":
			user = args(n)[0]
		case "copy":
			a := args(n)
			installs = installs || (len(a) == 2 && a[1] == "/usr/local/bin/aurora" && n.Flags != nil && strings.Contains(strings.Join(n.Flags, " "), "--from=build"))
		case "entrypoint":
			entry = strings.Join(args(n), " ")
		case "run":
			// distroless has no shell: a RUN here could not work.
			t.Errorf("RUN in the runtime stage: %v", args(n))
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || uid == "0" || uid == "root" {
		t.Errorf("runtime USER %q: want a non-root user", user)
	}
	if entry != "/usr/local/bin/aurora" {
		t.Errorf("ENTRYPOINT %q", entry)
	}
	// The runtime stage copies the binary from the build stage.
	if !installs {
		t.Error("the runtime stage does not install /usr/local/bin/aurora")
	}
}

// TestStaticBinaryNonRoot takes the binary built as the Dockerfile does, checks
// that it is static (no interpreter, no shared libraries: it runs on
// distroless/scratch) and runs it as an unprivileged user with embedded
// storage, as the image does.
func TestStaticBinaryNonRoot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// scripts/test.sh builds AURORA_TEST_BINARY exactly so (CGO_ENABLED=0),
	// so every end-to-end test runs the binary the image ships.
	bin := os.Getenv("AURORA_TEST_BINARY")
	if bin == "" {
		bin = filepath.Join(dir, "aurora")
		cmd := exec.Command("go", "build", "-ldflags", "-s -w", "-o", bin, "./cmd/aurora")
		cmd.Dir = root(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("static build: %v\n%s", err, out)
		}
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("binary has a %s segment: not static", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("binary needs shared libraries %v", libs)
	}
	f.Close()

	// As root (CI) drop to the nobody uid with setpriv; as another user the
	// test already runs unprivileged.
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	argv := []string{bin, "all"}
	if os.Geteuid() == 0 {
		if err := os.Chown(data, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		// The temp dir's parents must be searchable by nobody.
		for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
			if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o001 == 0 {
				_ = os.Chmod(d, st.Mode().Perm()|0o011)
			}
		}
		setpriv := tool(t, "AURORA_TEST_SETPRIV", "setpriv")
		argv = append([]string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"}, argv...)
	}
	addr := testenv.FreeAddr(t)
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = []string{"AURORA_DATA_DIR=" + data, "AURORA_HTTP_ADDR=" + addr, "AURORA_ADMIN_PASSWORD=deploytest-correct-horse", "PATH=/usr/bin:/bin"}
	out := &strings.Builder{}
	c.Stdout, c.Stderr = out, out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	testenv.Eventually(t, 60*time.Second, "the static binary answers /health as a non-root user", func() bool {
		resp, err := http.Get("http://" + addr + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	st, err := os.Stat(filepath.Join(data))
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(data)
	if len(entries) == 0 {
		t.Fatalf("nothing written to the data dir %s (%v)\n%s", data, st.Mode(), out.String())
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "Uid:") && strings.Fields(line)[1] == "0" {
			t.Fatalf("the server runs as root: %s", line)
		}
	}
}
