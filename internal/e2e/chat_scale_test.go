package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// chatCluster is a server, workers and two chatbots on one PostgreSQL.
func chatCluster(t *testing.T, extra testenv.Env, workers int) (*cluster, *testenv.Process, *testenv.Process) {
	t.Helper()
	c := startCluster(t, extra, 1, workers, 0)
	a := testenv.Start(t, "chatbotA", merge(c.env, testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(t)}), "chatbot")
	b := testenv.Start(t, "chatbotB", merge(c.env, testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(t)}), "chatbot")
	return c, a, b
}

// connectTo dials a chatbot with a token issued by the server.
func connectTo(t *testing.T, name string, server, chatbot *testenv.Process, apiToken string) *chatClient {
	t.Helper()
	cc, code, err := dialChat(t, name, chatbot.URL, "?token="+chatToken(t, server.URL, apiToken), nil)
	if err != nil {
		t.Fatalf("%s: dial %s: %d %v", name, chatbot.Name, code, err)
	}
	return cc
}

// checkTurnOnce checks a whole turn's frames (as one client saw them,
// across connections): seqs 1..N once each, each tool call and result
// once, one answer, one done.
func checkTurnOnce(t *testing.T, fs []frame) {
	t.Helper()
	checkSeqs(t, "turn", fs, 1)
	count := map[string]int{}
	for _, f := range fs {
		switch f.typ() {
		case "tool_call", "tool_result":
			count[f.typ()+" "+f.str("id")]++
		case "message", "done":
			count[f.typ()+" "+f.str("role")]++
		}
	}
	for k, n := range count {
		if n != 1 {
			t.Errorf("%s sent %d times: %s", k, n, dump(fs))
		}
	}
	if count["message assistant"] != 1 || count["done "] != 1 || count["tool_call s1"] != 1 || count["tool_result s1"] != 1 {
		t.Errorf("incomplete turn: %v", count)
	}
}

// TestChatAcrossReplicas: the client asks on chatbot A, a worker runs the
// turn, and its frames reach A in order; mid-turn the client moves to
// chatbot B (A killed, or the client disconnected) and resumes from its
// last seq, missing and repeating nothing.
// The per-user rate limit is shared by both chatbots. Run with Redis
// pub/sub and with PostgreSQL LISTEN/NOTIFY alone.
func TestChatAcrossReplicas(t *testing.T) {
	t.Parallel()
	for _, withRedis := range []bool{true, false} {
		name := "postgres+redis"
		if !withRedis {
			name = "postgres-notify"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Steps of 3s: longer than a chatbot's 5s re-read minus one step,
			// so even a wake-up lost while a replica starts listening leaves
			// the turn unfinished when the client moves.
			env := testenv.Env{"AURORA_DEBUG_STEP_DELAY": "3s", "AURORA_CHAT_RATE_LIMIT": "3"}
			if withRedis {
				env["REDIS_URL"] = testenv.Redis(t)
			}
			c, a, b := chatCluster(t, env, 1)
			server := c.servers[0]
			user := newToken(t, server.URL, "editor") // own rate-limit budget (Redis is shared between tests)

			ca := connectTo(t, "client@A", server, a, user)
			ca.send(map[string]any{"type": "query", "text": "What is wrong with deployment checkout in namespace shop?"})
			s, _ := ca.waitFor(0, 15*time.Second, "session", isType("session"))
			sid := s.str("id")
			// Frames written by the worker reach A.
			ca.waitFor(0, 30*time.Second, "first tool_call", isType("tool_call"))
			// The client leaves A: with Redis, A is killed (kill -9) under it;
			// without, the client just disconnects.
			if withRedis {
				a.Kill()
			} else {
				ca.c.CloseNow()
			}
			var seen []frame
			var last int64
			for _, f := range ca.all() {
				if f.seq() > 0 {
					seen = append(seen, f)
					last = f.seq()
				}
			}
			if findFrame(seen, isType("done")) != nil {
				t.Fatal("the turn finished before the client moved; nothing was resumed mid-turn")
			}
			cb := connectTo(t, "client@B", server, b, user)
			cb.send(map[string]any{"type": "resume", "session_id": sid, "after_seq": last})
			cb.waitFor(0, 60*time.Second, "done", isType("done"))
			time.Sleep(300 * time.Millisecond)
			for _, f := range cb.all() {
				if f.seq() > 0 {
					seen = append(seen, f)
				}
			}
			checkTurnOnce(t, seen)
			text := assistantText(t, seen)
			if !strings.Contains(text, "I investigated deployment checkout in namespace shop") || !strings.Contains(text, "No language model") {
				t.Errorf("answer: %q", text)
			}
			// Shared rate limit: one question on A so far; two on B fill the
			// budget of 3; the 4th is refused.
			cb.ask(map[string]any{"text": "hello from B"}, 30*time.Second)
			cb.ask(map[string]any{"text": "hello again from B"}, 30*time.Second)
			from := len(cb.all())
			cb.send(map[string]any{"type": "query", "text": "one too many"})
			if e, _ := cb.waitFor(from, 10*time.Second, "rate_limited", isType("error")); e.str("code") != "rate_limited" {
				t.Errorf("4th question across replicas: %v", e)
			}
		})
	}
}

// TestChatWorkerKill: a worker killed mid-turn loses nothing; the queue
// retries the turn on another worker, which resumes it without sending any
// frame twice.
func TestChatWorkerKill(t *testing.T) {
	t.Parallel()
	c, a, _ := chatCluster(t, testenv.Env{
		"AURORA_DEBUG_STEP_DELAY":     "3s",
		"AURORA_JOB_TIMEOUT":          "8s",
		"AURORA_JOB_RESCUE_AFTER":     "9s",
		"AURORA_CHAT_CONFIRM_TIMEOUT": "5s",
	}, 1)
	server := c.servers[0]
	cc := connectTo(t, "client", server, a, testenv.AdminToken)
	cc.send(map[string]any{"type": "query", "text": "what is wrong with pod shop/checkout-7d9f"})
	cc.waitFor(0, 30*time.Second, "first tool_call", isType("tool_call"))
	c.workers[0].Kill()
	killed := time.Now()
	testenv.Start(t, "worker2", merge(c.env, testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(t)}), "worker")
	cc.waitFor(0, 120*time.Second, "done after the kill", isType("done"))
	t.Logf("turn finished %s after the kill", time.Since(killed).Round(time.Second))
	var seen []frame
	for _, f := range cc.all() {
		if f.seq() > 0 {
			seen = append(seen, f)
		}
	}
	checkTurnOnce(t, seen)
	if st := findFrame(seen, func(f frame) bool { return f.typ() == "status" && f.str("state") == "completed" }); st == nil {
		t.Errorf("the resumed turn did not complete: %s", dump(seen))
	}
	_ = fmt.Sprint
}
