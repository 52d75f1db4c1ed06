package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RedisNode is a redis-server (or redis-sentinel) started for one test.
type RedisNode struct {
	Addr string
	args []string
	cmd  *exec.Cmd
	out  *syncBuffer
	t    testing.TB
}

func redisBin(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name+" (Debian packages redis-server, redis-sentinel)")
	}
	return p
}

// StartRedis runs redis-server on a spare port with extra arguments (e.g.
// "--replicaof", "127.0.0.1", "6379"); it is stopped when the test ends.
func StartRedis(t testing.TB, extra ...string) *RedisNode {
	t.Helper()
	addr := FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	n := &RedisNode{Addr: addr, t: t, args: append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}, extra...)}
	n.Start()
	t.Cleanup(n.Kill)
	return n
}

// Start (re)starts the server on its port.
func (n *RedisNode) Start() {
	n.t.Helper()
	n.out = &syncBuffer{}
	n.cmd = exec.Command(redisBin(n.t, "redis-server"), n.args...)
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	if err := n.cmd.Start(); err != nil {
		n.t.Fatalf("start redis-server: %v", err)
	}
	waitListen(n.t, n.Addr, n.out)
}

// Kill stops the server at once, as a crash would.
func (n *RedisNode) Kill() {
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Kill()
		_ = n.cmd.Wait()
		n.cmd = nil
	}
}

func waitListen(t testing.TB, addr string, out *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func redisCLI(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, redisBin(t, "redis-cli"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// SentinelSet is a Redis primary, its replica and three Sentinels watching
// them under the master name "aurora".
type SentinelSet struct {
	Primary, Replica *RedisNode
	Sentinels        []*RedisNode
	// URL is the redis+sentinel:// URL naming every Sentinel.
	URL string
}

// RedisSentinel starts a SentinelSet that fails over within a few seconds
// of its primary dying.
func RedisSentinel(t testing.TB) *SentinelSet {
	t.Helper()
	redisBin(t, "redis-sentinel")
	s := &SentinelSet{Primary: StartRedis(t)}
	ph, pp, _ := net.SplitHostPort(s.Primary.Addr)
	s.Replica = StartRedis(t, "--replicaof", ph, pp)
	var addrs []string
	for range 3 {
		addr := FreeAddr(t)
		_, port, _ := net.SplitHostPort(addr)
		dir := t.TempDir()
		conf := filepath.Join(dir, "sentinel.conf")
		body := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor aurora %s %s 2\nsentinel down-after-milliseconds aurora 1000\nsentinel failover-timeout aurora 5000\nsentinel parallel-syncs aurora 1\n", port, dir, ph, pp)
		if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		n := &RedisNode{Addr: addr, t: t, out: &syncBuffer{}}
		n.cmd = exec.Command(redisBin(t, "redis-server"), conf, "--sentinel")
		n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
		if err := n.cmd.Start(); err != nil {
			t.Fatalf("start sentinel: %v", err)
		}
		t.Cleanup(n.Kill)
		waitListen(t, addr, n.out)
		s.Sentinels = append(s.Sentinels, n)
		addrs = append(addrs, addr)
	}
	s.URL = "redis+sentinel://" + strings.Join(addrs, ",") + "/aurora/0"
	// Wait until the replica is in sync and the Sentinels know it.
	Eventually(t, 30*time.Second, "the sentinels to see the replica", func() bool {
		out := redisCLI(t, "-h", "127.0.0.1", "-p", portOf(addrs[0]), "sentinel", "replicas", "aurora")
		return strings.Contains(out, portOf(s.Replica.Addr)) && !strings.Contains(out, "s_down")
	})
	return s
}

// MasterAddr asks a Sentinel which node is the primary now.
func (s *SentinelSet) MasterAddr(t testing.TB) string {
	for _, sn := range s.Sentinels {
		if sn.cmd == nil {
			continue
		}
		out := strings.Fields(redisCLI(t, "-h", "127.0.0.1", "-p", portOf(sn.Addr), "sentinel", "get-master-addr-by-name", "aurora"))
		if len(out) == 2 {
			return net.JoinHostPort(out[0], out[1])
		}
	}
	return ""
}

// RedisCluster starts three primaries with --cluster-enabled and joins them
// with redis-cli --cluster create; it returns the redis+cluster:// URL.
func RedisCluster(t testing.TB) (string, []*RedisNode) {
	t.Helper()
	var nodes []*RedisNode
	var addrs []string
	for range 3 {
		dir := t.TempDir()
		// The bus port defaults to the client port + 10000, which nobody
		// reserved: another test's spare port may hold it.
		bus := portOf(FreeAddr(t))
		n := StartRedis(t, "--cluster-enabled", "yes", "--cluster-port", bus, "--cluster-config-file", filepath.Join(dir, "nodes.conf"), "--cluster-node-timeout", "2000")
		nodes = append(nodes, n)
		addrs = append(addrs, n.Addr)
	}
	redisCLI(t, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...)
	Eventually(t, 30*time.Second, "the cluster to be ok", func() bool {
		return strings.Contains(redisCLI(t, "-h", "127.0.0.1", "-p", portOf(addrs[0]), "cluster", "info"), "cluster_state:ok")
	})
	return "redis+cluster://" + strings.Join(addrs, ","), nodes
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
