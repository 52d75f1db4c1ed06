package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aurora-oss/aurora/internal/redisx"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// wakeWatcher subscribes to the live-event channel through REDIS_URL (as
// Aurora does: the Sentinels' primary, or the cluster) and records the
// wake-ups published on it. Seeing "chat:<session>" proves the worker's
// chat frames are announced through that Redis, not only through
// PostgreSQL NOTIFY.
type wakeWatcher struct {
	rdb redis.UniversalClient
	sub *redis.PubSub
	mu  sync.Mutex
	got map[string]int
}

func watchWakeups(t *testing.T, redisURL string) *wakeWatcher {
	t.Helper()
	opt, _, err := redisx.Parse(redisURL, redisx.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	opt.DialTimeout, opt.ReadTimeout = 5*time.Second, 0 // a subscriber waits
	w := &wakeWatcher{rdb: redis.NewUniversalClient(opt), got: map[string]int{}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w.sub = w.rdb.Subscribe(context.Background(), "aurora_events")
	if _, err := w.sub.Receive(ctx); err != nil { // the subscription confirmation
		t.Fatalf("subscribe through %s: %v", redisURL, err)
	}
	ch := w.sub.Channel()
	go func() {
		for m := range ch {
			w.mu.Lock()
			w.got[m.Payload]++
			w.mu.Unlock()
		}
	}()
	t.Cleanup(w.close)
	return w
}

func (w *wakeWatcher) close() {
	_ = w.sub.Close()
	_ = w.rdb.Close()
}

func (w *wakeWatcher) count(payload string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got[payload]
}

// numSub sums PUBSUB NUMSUB aurora_events over the given nodes (on a
// cluster each node counts only its own subscribers).
func numSub(t *testing.T, addrs ...string) int64 {
	t.Helper()
	var n int64
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a, DialTimeout: 5 * time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		m, err := c.PubSubNumSub(ctx, "aurora_events").Result()
		cancel()
		c.Close()
		if err == nil {
			n += m["aurora_events"]
		}
	}
	return n
}

// seqFrames is every frame with a seq a client received, in order.
func seqFrames(cc *chatClient) []frame {
	var out []frame
	for _, f := range cc.all() {
		if f.seq() > 0 {
			out = append(out, f)
		}
	}
	return out
}

// checkAnswer checks a finished turn: every frame once and in order, the
// deterministic agent's answer, done last.
func checkAnswer(t *testing.T, fs []frame) {
	t.Helper()
	checkTurnOnce(t, fs)
	if len(fs) == 0 || fs[len(fs)-1].typ() != "done" {
		t.Errorf("the turn does not end in done: %s", dump(fs))
	}
	if text := assistantText(t, fs); !strings.Contains(text, "I investigated deployment checkout in namespace shop") {
		t.Errorf("answer: %q", text)
	}
}

const chatQuestion = "What is wrong with deployment checkout in namespace shop?"

// Chat over Redis Sentinel: the client is on chatbot B, the turn runs on a
// worker, and the worker's frames are announced through the Sentinels'
// primary. The primary is killed mid-turn: the Sentinels promote the
// replica, the turn finishes with every frame once and in order, the
// server and both chatbots subscribe again on the new primary, and the
// next turn's wake-ups go through it.
func TestRedisSentinelChatFailover(t *testing.T) {
	t.Parallel()
	s := testenv.RedisSentinel(t)
	// Steps of 3 s leave the turn running across the failover (about 3 s).
	c, _, b := chatCluster(t, testenv.Env{"REDIS_URL": s.URL, "AURORA_DEBUG_STEP_DELAY": "3s"}, 1)
	server := c.servers[0]
	w := watchWakeups(t, s.URL)
	// The server and both chatbots listen on the primary (and the watcher).
	testenv.Eventually(t, 30*time.Second, "4 subscribers on the primary", func() bool { return numSub(t, s.Primary.Addr) >= 4 })

	cb := connectTo(t, "client@B", server, b, testenv.AdminToken)
	cb.send(map[string]any{"type": "query", "text": chatQuestion})
	sf, _ := cb.waitFor(0, 15*time.Second, "session", isType("session"))
	sid := sf.str("id")
	cb.waitFor(0, 60*time.Second, "first tool_call", isType("tool_call"))
	// One wake-up is chatbot B's (the question's frames); the others are
	// the worker's, one per frame it stored.
	testenv.Eventually(t, 15*time.Second, "the worker's frames announced through the Sentinels' primary", func() bool { return w.count("chat:"+sid) >= 2 })
	if findFrame(seqFrames(cb), isType("done")) != nil {
		t.Fatal("the turn finished before the primary was killed")
	}
	before := s.MasterAddr(t)
	s.Primary.Kill()
	killed := time.Now()
	cb.waitFor(0, 120*time.Second, "done after the primary was killed", isType("done"))
	t.Logf("turn finished %s after the primary (%s) was killed", time.Since(killed).Round(time.Second), before)
	time.Sleep(300 * time.Millisecond) // nothing may follow done
	checkAnswer(t, seqFrames(cb))

	testenv.Eventually(t, 60*time.Second, "the sentinels to promote the replica", func() bool { return s.MasterAddr(t) == s.Replica.Addr })
	w.close()
	// A fresh watcher finds the new primary through the Sentinels, and so
	// did Aurora's three listeners.
	w2 := watchWakeups(t, s.URL)
	testenv.Eventually(t, 60*time.Second, "the server and both chatbots to subscribe on the new primary", func() bool { return numSub(t, s.Replica.Addr) >= 4 })
	// The worker too: it has no subscription, only its publishes find the
	// new primary.
	for _, p := range []*testenv.Process{server, b, c.workers[0]} {
		testenv.Eventually(t, 30*time.Second, p.Name+": aurora_redis_up 1 after the failover", func() bool { return metricValue(t, p, "aurora_redis_up") == "1" })
	}
	// The next turn on B: its frames are announced through the new primary.
	from := len(cb.all())
	sid2, turn := cb.ask(map[string]any{"text": chatQuestion}, 90*time.Second)
	if !waitUntil(15*time.Second, func() bool { return w2.count("chat:"+sid2) >= 2 }) {
		t.Errorf("the next turn's worker frames were not announced through the new primary: %d wake-ups; worker aurora_redis_up %s\n%s",
			w2.count("chat:"+sid2), metricValue(t, c.workers[0], "aurora_redis_up"), c.workers[0].Output())
	}
	if findFrame(turn, isType("done")) == nil || len(cb.all()) <= from {
		t.Errorf("second turn: %s", dump(turn))
	}
}

// Chat over a 3-primary Redis Cluster: the client on chatbot B gets the
// worker's frames once and in order, announced through the cluster; the
// chat rate limit counts in the cluster.
func TestRedisClusterChat(t *testing.T) {
	t.Parallel()
	url, nodes := testenv.RedisCluster(t)
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr)
	}
	c, _, b := chatCluster(t, testenv.Env{"REDIS_URL": url, "AURORA_DEBUG_STEP_DELAY": "1s"}, 1)
	server := c.servers[0]
	w := watchWakeups(t, url)
	testenv.Eventually(t, 30*time.Second, "4 subscribers in the cluster", func() bool { return numSub(t, addrs...) >= 4 })

	user := newToken(t, server.URL, "editor")
	cb := connectTo(t, "client@B", server, b, user)
	sid, _ := cb.ask(map[string]any{"text": chatQuestion}, 90*time.Second)
	time.Sleep(300 * time.Millisecond)
	fs := seqFrames(cb)
	checkAnswer(t, fs)
	// Chatbot B stores the question's two frames and announces them once;
	// the worker announces each frame it stores: every one went through
	// the cluster.
	want := 1 + len(fs) - 2
	testenv.Eventually(t, 15*time.Second, "every worker frame announced through the cluster", func() bool { return w.count("chat:"+sid) >= want })

	// The question was counted by the rate limiter in the cluster.
	opt, _, err := redisx.Parse(url, redisx.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	cc := redis.NewClusterClient(opt.Cluster())
	defer cc.Close()
	var mu sync.Mutex
	var keys []string
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		ks, err := n.Keys(ctx, "aurora:chat:rate:*").Result()
		mu.Lock()
		keys = append(keys, ks...)
		mu.Unlock()
		return err
	})
	if err != nil || len(keys) == 0 {
		t.Errorf("no chat rate-limit key in the cluster (%v)", err)
	}
	for _, p := range []*testenv.Process{server, b} {
		if v := metricValue(t, p, "aurora_redis_up"); v != "1" {
			t.Errorf("%s: aurora_redis_up = %s on a cluster", p.Name, v)
		}
	}
}

func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cond()
}
