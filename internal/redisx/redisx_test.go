package redisx

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url      string
		kind     Kind
		addrs    []string
		db       int
		user, pw string
		master   string
		sentPW   string
		tls      bool
		err      string
	}{
		{url: "redis://localhost:6379/0", kind: Single, addrs: []string{"localhost:6379"}},
		{url: "redis://:s3cret@cache:6380/2", kind: Single, addrs: []string{"cache:6380"}, db: 2, pw: "s3cret"},
		{url: "redis://app:pw@cache", kind: Single, addrs: []string{"cache:6379"}, user: "app", pw: "pw"},
		{url: "rediss://:pw@cache.example:6380/1", kind: Single, addrs: []string{"cache.example:6380"}, db: 1, pw: "pw", tls: true},
		{url: "unix:///run/redis.sock?db=3", kind: Single, addrs: []string{"/run/redis.sock"}, db: 3},
		{url: "redis+sentinel://:pw@s1:26379,s2:26380,s3/mymaster/4", kind: Sentinel, addrs: []string{"s1:26379", "s2:26380", "s3:26379"}, db: 4, pw: "pw", master: "mymaster"},
		{url: "redis+sentinel://s1/mymaster", kind: Sentinel, addrs: []string{"s1:26379"}, master: "mymaster"},
		{url: "redis+sentinel://:p%40ss@s1/m/0?sentinel_password=sp", kind: Sentinel, addrs: []string{"s1:26379"}, pw: "p@ss", master: "m", sentPW: "sp"},
		{url: "rediss+sentinel://s1:26379/m/0", kind: Sentinel, addrs: []string{"s1:26379"}, master: "m", tls: true},
		{url: "redis+cluster://:pw@h1:7000,h2:7001,h3", kind: Cluster, addrs: []string{"h1:7000", "h2:7001", "h3:6379"}, pw: "pw"},
		{url: "redis+cluster://[::1]:7000,[::1]:7001/0", kind: Cluster, addrs: []string{"[::1]:7000", "[::1]:7001"}},
		{url: "rediss+cluster://h1:7000", kind: Cluster, addrs: []string{"h1:7000"}, tls: true},
		// Bad input names what is wrong.
		{url: "localhost:6379", err: "missing scheme"},
		{url: "http://h:6379", err: "unsupported scheme"},
		{url: "redis+sentinel://s1:26379", err: "missing master name"},
		{url: "redis+sentinel://s1:26379/m/x", err: "bad database number"},
		{url: "redis+sentinel://s1:26379/m/0/extra", err: "unexpected path"},
		{url: "redis+cluster://h1:7000/3", err: "only database 0"},
		{url: "redis+cluster://h1:7000/a/b", err: "names no database"},
		{url: "redis+cluster://h1:99999", err: "bad port"},
		{url: "redis+cluster://", err: "no hosts"},
		{url: "redis+cluster://h1?sentinel_password=x", err: "redis+sentinel URLs only"},
		{url: "redis+sentinel://h1/m?timeout=1", err: "unknown parameter"},
		{url: "redis://h:notaport", err: "invalid"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			opt, kind, err := Parse(tc.url, TLS{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tc.url, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.url, err)
			}
			if kind != tc.kind || !slices.Equal(opt.Addrs, tc.addrs) || opt.DB != tc.db || opt.Username != tc.user || opt.Password != tc.pw ||
				opt.MasterName != tc.master || opt.SentinelPassword != tc.sentPW || (opt.TLSConfig != nil) != tc.tls || opt.IsClusterMode != (tc.kind == Cluster) {
				t.Errorf("Parse(%q) = kind %s addrs %q db %d user %q pw %q master %q sentinel pw %q tls %v cluster %v", tc.url, kind, opt.Addrs, opt.DB,
					opt.Username, opt.Password, opt.MasterName, opt.SentinelPassword, opt.TLSConfig != nil, opt.IsClusterMode)
			}
			// The client type follows the kind.
			c := redis.NewUniversalClient(opt)
			defer c.Close()
			switch c.(type) {
			case *redis.ClusterClient:
				if kind != Cluster {
					t.Errorf("%s URL made a cluster client", kind)
				}
			case *redis.Client:
				if kind == Cluster {
					t.Errorf("cluster URL made a %T", c)
				}
			}
		})
	}
}

func TestParseTLS(t *testing.T) {
	t.Parallel()
	opt, _, err := Parse("rediss://cache.example:6380", TLS{CertReqs: "none"})
	if err != nil || !opt.TLSConfig.InsecureSkipVerify {
		t.Fatalf("none: %v %+v", err, opt)
	}
	opt, _, err = Parse("rediss://cache.example:6380", TLS{})
	if err != nil || opt.TLSConfig.InsecureSkipVerify || opt.TLSConfig.ServerName != "cache.example" {
		t.Fatalf("required: %v %+v", err, opt.TLSConfig)
	}
	opt, _, err = Parse("rediss://cache.example:6380", TLS{CertReqs: "optional"})
	if err != nil || opt.TLSConfig.VerifyConnection == nil {
		t.Fatalf("optional: %v", err)
	}
	if _, _, err := Parse("rediss://h", TLS{CACerts: "/nonexistent/ca.pem"}); err == nil || !strings.Contains(err.Error(), "REDIS_SSL_CA_CERTS") {
		t.Fatalf("missing CA file: %v", err)
	}
	if _, _, err := Parse("rediss://h", TLS{CertReqs: "maybe"}); err == nil {
		t.Fatal("bad REDIS_SSL_CERT_REQS accepted")
	}
}

// A Redis that does not answer costs one short timeout, then commands fail
// at once until a probe finds it back.
func TestBreakerFailsFast(t *testing.T) {
	t.Parallel()
	c, err := New("redis://127.0.0.1:1/0", TLS{}) // nothing listens on port 1
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("ping of a closed port succeeded")
	}
	if c.Up() {
		t.Fatal("Up() after a failed ping")
	}
	// While down, commands fail with ErrDown without dialling; only the
	// breaker's probe (at most one per second) may try the server again.
	start := time.Now()
	probes := 0
	for range 100 {
		err := c.Incr(ctx, "k").Err()
		switch {
		case errors.Is(err, ErrDown):
		case err != nil:
			probes++
		default:
			t.Fatal("Incr succeeded against a closed port")
		}
	}
	if limit := 1 + int(time.Since(start)/time.Second); probes > limit {
		t.Errorf("%d of 100 commands dialled while down (at most %d probes expected): the breaker did not hold them back", probes, limit)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"redis://h:6379/0", "redis+sentinel://:p@a,b:1/m/0", "redis+cluster://a,b", "rediss+cluster://[::1]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		opt, kind, err := Parse(s, TLS{})
		if err != nil {
			return
		}
		if len(opt.Addrs) == 0 || kind == "" || (kind == Sentinel && opt.MasterName == "") {
			t.Fatalf("Parse(%q) accepted an unusable URL: %+v", s, opt)
		}
	})
}
