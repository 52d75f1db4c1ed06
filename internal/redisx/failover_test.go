package redisx

import (
	"context"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// recovers checks that commands fail while Redis is gone and work again,
// through the breaker, once it is back: within 30 s of back (generous: the
// breaker probes once a second).
func recovers(t *testing.T, c *Client, back func() bool) {
	t.Helper()
	ctx := context.Background()
	if err := c.Publish(ctx, "aurora_test", "x").Err(); err == nil {
		t.Fatal("PUBLISH worked with Redis gone")
	}
	testenv.Eventually(t, 60*time.Second, "Redis to be back", back)
	testenv.Eventually(t, 30*time.Second, "commands to work again through the breaker", func() bool {
		return c.Publish(ctx, "aurora_test", "x").Err() == nil && c.Up()
	})
}

// After a Sentinel failover the client reaches the promoted replica by
// itself. Every connection must be dialled again then; the commands that
// set a fresh connection up (HELLO…) ride on the probe that dialled it, so
// the breaker does not refuse them and keep Redis "down" for ever.
func TestFollowsSentinelFailover(t *testing.T) {
	t.Parallel()
	s := testenv.RedisSentinel(t)
	c, err := New(s.URL, TLS{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Publish(context.Background(), "aurora_test", "x").Err(); err != nil {
		t.Fatal(err)
	}
	s.Primary.Kill()
	recovers(t, c, func() bool { return s.MasterAddr(t) == s.Replica.Addr })
}

// A single server restarted on its port is found again.
func TestFollowsRestart(t *testing.T) {
	t.Parallel()
	r := testenv.StartRedis(t)
	c, err := New("redis://"+r.Addr+"/0", TLS{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Publish(context.Background(), "aurora_test", "x").Err(); err != nil {
		t.Fatal(err)
	}
	r.Kill()
	recovers(t, c, func() bool { r.Start(); return true })
}
