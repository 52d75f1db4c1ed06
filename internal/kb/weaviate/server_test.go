package weaviate

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// WeaviateVersion is the server the tests run against (scripts/test.sh
// builds it into $HOME/.cache/aurora-ci/weaviate-<version>-<go minor>/).
const WeaviateVersion = "v1.35.2"

// server is one weaviate-server for the whole test binary: it takes a few
// seconds to start and each test uses its own collection prefix.
var server struct {
	once sync.Once
	cmd  *exec.Cmd
	out  *bytes.Buffer
	dir  string
	cfg  Config
	err  error
	skip string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if server.cmd != nil && server.cmd.Process != nil {
		server.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { server.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			server.cmd.Process.Kill()
		}
	}
	if server.dir != "" {
		os.RemoveAll(server.dir)
	}
	os.Exit(code)
}

// binary finds weaviate-server: AURORA_TEST_WEAVIATE, else the CI cache.
func binary() string {
	if p := os.Getenv("AURORA_TEST_WEAVIATE"); p != "" {
		return p
	}
	home, _ := os.UserHomeDir()
	minor := runtime.Version()
	if parts := strings.SplitN(minor, ".", 3); len(parts) >= 2 {
		minor = parts[0] + "." + parts[1]
	}
	return filepath.Join(home, ".cache", "aurora-ci", "weaviate-"+WeaviateVersion+"-"+minor, "weaviate-server")
}

func port(t testing.TB) int {
	_, p, err := net.SplitHostPort(testenv.FreeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

// newStore returns a store on the shared test server under a prefix of
// its own. Without the server binary the test fails under CI=true and
// skips loudly otherwise.
func newStore(t testing.TB, prefix string) *Store {
	t.Helper()
	server.once.Do(func() { startServer(t) })
	if server.skip != "" {
		if testenv.CI() {
			t.Fatalf("CI=true: %s", server.skip)
		}
		t.Skipf("SKIPPING Weaviate test: %s", server.skip)
	}
	if server.err != nil {
		t.Fatalf("weaviate-server: %v\n%s", server.err, server.out)
	}
	cfg := server.cfg
	cfg.ClassPrefix = prefix
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startServer(t testing.TB) {
	bin := binary()
	if _, err := os.Stat(bin); err != nil {
		server.skip = fmt.Sprintf("no weaviate-server at %s (build it: GOBIN=$(dirname %s) go install github.com/weaviate/weaviate/cmd/weaviate-server@%s, or set AURORA_TEST_WEAVIATE)", bin, bin, WeaviateVersion)
		return
	}
	dir, err := os.MkdirTemp("", "aurora-weaviate-")
	if err != nil {
		server.err = err
		return
	}
	server.dir = dir
	httpPort, grpcPort := port(t), port(t)
	gossip, data, raft, raftRPC := port(t), port(t), port(t), port(t)
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(httpPort), "--scheme", "http")
	cmd.Env = append(os.Environ(),
		"PERSISTENCE_DATA_PATH="+dir,
		"AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true",
		"DEFAULT_VECTORIZER_MODULE=none",
		"ENABLE_MODULES=",
		"DISABLE_TELEMETRY=true",
		"GO_PROFILING_DISABLE=true",
		"PROMETHEUS_MONITORING_ENABLED=false",
		"LOG_LEVEL=warning",
		// Every listener on loopback, on ports of our own. (gRPC binds
		// all interfaces whatever is set: Weaviate has no option for it.)
		"GRPC_PORT="+strconv.Itoa(grpcPort),
		"CLUSTER_HOSTNAME=node1",
		"CLUSTER_BIND_ADDR=127.0.0.1",
		"CLUSTER_ADVERTISE_ADDR=127.0.0.1",
		"CLUSTER_GOSSIP_BIND_PORT="+strconv.Itoa(gossip),
		"CLUSTER_DATA_BIND_PORT="+strconv.Itoa(data),
		"RAFT_PORT="+strconv.Itoa(raft),
		"RAFT_INTERNAL_RPC_PORT="+strconv.Itoa(raftRPC),
		"RAFT_JOIN=node1",
		"RAFT_BOOTSTRAP_EXPECT=1",
	)
	server.out = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = server.out, server.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		server.err = err
		return
	}
	server.cmd = cmd
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	server.cfg = Config{Host: "127.0.0.1", Port: httpPort, GRPCPort: grpcPort}
	deadline := time.Now().Add(90 * time.Second)
	url := fmt.Sprintf("http://127.0.0.1:%d/v1/.well-known/ready", httpPort)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			server.err = fmt.Errorf("exited during start-up")
			return
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	server.err = fmt.Errorf("not ready after 90 s")
}

func TestReady(t *testing.T) {
	s := newStore(t, "AuroraTestReady")
	if err := s.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
}
