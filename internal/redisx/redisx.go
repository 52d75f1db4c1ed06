// Package redisx turns the one REDIS_URL an operator sets into a go-redis
// client: a single server (redis://, rediss://, unix://), a Sentinel-managed
// primary (redis+sentinel://) or a Cluster (redis+cluster://). The client
// fails fast while Redis is unreachable, so callers that fall back to the
// database or to polling (rate limits, pub/sub) are slowed by at most one
// short timeout, and it recovers by itself.
package redisx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// TLS holds the certificate settings for rediss:// URLs, named as the
// original deployment names them.
type TLS struct {
	// CACerts is a PEM file of trusted CAs (REDIS_SSL_CA_CERTS); empty: the
	// system roots.
	CACerts string
	// CertReqs is REDIS_SSL_CERT_REQS: "required" (default) verifies the
	// chain and host name, "optional" verifies the chain only, "none"
	// verifies nothing.
	CertReqs string
}

// Kind names the server topology a URL selects.
type Kind string

// Kinds.
const (
	Single   Kind = "single"
	Sentinel Kind = "sentinel"
	Cluster  Kind = "cluster"
)

// Timeouts bound each attempt: short enough that a dead Redis costs a
// request well under a second before its fallback runs.
const (
	dialTimeout = 1 * time.Second
	ioTimeout   = 1 * time.Second
)

// Parse reads a REDIS_URL into client options and the topology it names.
//
//	redis://[user:pass@]host[:6379][/db]
//	rediss://…                                       (TLS)
//	unix://[user:pass@]/path/to/redis.sock[?db=N]
//	redis+sentinel://[:pass@]h1[:26379],h2/<master>[/db][?sentinel_password=…]
//	redis+cluster://[:pass@]h1[:6379],h2              (no db: clusters have only 0)
//
// rediss+sentinel and rediss+cluster use TLS to every node.
func Parse(raw string, t TLS) (*redis.UniversalOptions, Kind, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, "", errors.New("missing scheme (redis://, rediss://, unix://, redis+sentinel:// or redis+cluster://)")
	}
	scheme = strings.ToLower(scheme)
	var opt *redis.UniversalOptions
	var kind Kind
	switch scheme {
	case "redis", "rediss", "unix":
		o, err := redis.ParseURL(raw)
		if err != nil {
			return nil, "", err
		}
		opt = &redis.UniversalOptions{Addrs: []string{o.Addr}, DB: o.DB, Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig}
		if o.Network == "unix" {
			addr := o.Addr
			opt.Dialer = func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", addr)
			}
		}
		kind = Single
	case "redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster":
		var err error
		if opt, kind, err = parseMulti(scheme, rest); err != nil {
			return nil, "", err
		}
	default:
		return nil, "", fmt.Errorf("unsupported scheme %q (want redis, rediss, unix, redis+sentinel or redis+cluster)", scheme)
	}
	if strings.HasPrefix(scheme, "rediss") {
		cfg, err := tlsConfig(t, opt.Addrs[0])
		if err != nil {
			return nil, "", err
		}
		opt.TLSConfig = cfg
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = dialTimeout, ioTimeout, ioTimeout
	opt.MaxRetries = 1
	opt.IsClusterMode = kind == Cluster
	return opt, kind, nil
}

// parseMulti reads the host lists of Sentinel and Cluster URLs, which
// net/url cannot (hosts separated by commas, IPv6 literals among them).
func parseMulti(scheme, rest string) (*redis.UniversalOptions, Kind, error) {
	kind, defPort := Cluster, "6379"
	if strings.HasSuffix(scheme, "sentinel") {
		kind, defPort = Sentinel, "26379"
	}
	rest, query, _ := strings.Cut(rest, "?")
	hostPart, path, _ := strings.Cut(rest, "/")
	opt := &redis.UniversalOptions{}
	if at := strings.LastIndex(hostPart, "@"); at >= 0 {
		user, pass, _ := strings.Cut(hostPart[:at], ":")
		var err error
		if opt.Username, err = url.PathUnescape(user); err != nil {
			return nil, "", fmt.Errorf("user name: %w", err)
		}
		if opt.Password, err = url.PathUnescape(pass); err != nil {
			return nil, "", fmt.Errorf("password: %w", err)
		}
		hostPart = hostPart[at+1:]
	}
	for h := range strings.SplitSeq(hostPart, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(strings.Trim(h, "[]"), defPort)
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" {
			return nil, "", fmt.Errorf("bad host %q", h)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, "", fmt.Errorf("bad port in %q", h)
		}
		opt.Addrs = append(opt.Addrs, h)
	}
	if len(opt.Addrs) == 0 {
		return nil, "", errors.New("no hosts")
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	db := ""
	switch kind {
	case Sentinel:
		if len(segs) == 0 || segs[0] == "" {
			return nil, "", errors.New("missing master name: redis+sentinel://host:26379/<master-name>/<db>")
		}
		if len(segs) > 2 {
			return nil, "", fmt.Errorf("unexpected path %q: want /<master-name>/<db>", path)
		}
		opt.MasterName = segs[0]
		if len(segs) == 2 {
			db = segs[1]
		}
	case Cluster:
		if len(segs) > 1 {
			return nil, "", fmt.Errorf("unexpected path %q: a cluster URL names no database", path)
		}
		if len(segs) == 1 {
			db = segs[0]
		}
	}
	if db != "" {
		n, err := strconv.Atoi(db)
		if err != nil || n < 0 {
			return nil, "", fmt.Errorf("bad database number %q", db)
		}
		if kind == Cluster && n != 0 {
			return nil, "", fmt.Errorf("database %d: Redis Cluster has only database 0", n)
		}
		opt.DB = n
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, "", fmt.Errorf("query: %w", err)
	}
	for k := range q {
		switch k {
		case "sentinel_password", "sentinel_username":
			if kind != Sentinel {
				return nil, "", fmt.Errorf("%s applies to redis+sentinel URLs only", k)
			}
		default:
			return nil, "", fmt.Errorf("unknown parameter %q", k)
		}
	}
	opt.SentinelUsername, opt.SentinelPassword = q.Get("sentinel_username"), q.Get("sentinel_password")
	return opt, kind, nil
}

func tlsConfig(t TLS, firstAddr string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if host, _, err := net.SplitHostPort(firstAddr); err == nil {
		cfg.ServerName = host
	}
	if t.CACerts != "" {
		pem, err := os.ReadFile(t.CACerts)
		if err != nil {
			return nil, fmt.Errorf("REDIS_SSL_CA_CERTS: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("REDIS_SSL_CA_CERTS: no PEM certificates in %s", t.CACerts)
		}
		cfg.RootCAs = pool
	}
	switch strings.ToLower(t.CertReqs) {
	case "", "required":
	case "none":
		cfg.InsecureSkipVerify = true
	case "optional":
		// The chain must verify, the name need not match: the original's
		// ssl.CERT_OPTIONAL semantics, useful when nodes are addressed
		// by IP (Sentinel and Cluster hand out IPs).
		roots := cfg.RootCAs
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return nil
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	default:
		return nil, fmt.Errorf("REDIS_SSL_CERT_REQS: %q is not none, optional or required", t.CertReqs)
	}
	return cfg, nil
}

// Client is a go-redis client with the reachability of Redis as last seen.
type Client struct {
	redis.UniversalClient
	Kind    Kind
	breaker *breaker
}

// New parses the URL and returns a client. It does not connect.
func New(raw string, t TLS) (*Client, error) {
	opt, kind, err := Parse(raw, t)
	if err != nil {
		return nil, err
	}
	rdb := redis.NewUniversalClient(opt)
	b := &breaker{}
	if opt.TLSConfig != nil {
		b.tls = t
	}
	rdb.AddHook(b)
	return &Client{UniversalClient: rdb, Kind: kind, breaker: b}, nil
}

// Up reports whether the last command reached Redis.
func (c *Client) Up() bool { return !c.breaker.open() }

// ErrDown is returned without trying while Redis was unreachable less than
// a retry interval ago; the error returned wraps it (errors.Is) and names
// the failure that made Redis count as down, so /ready and logs say why.
var ErrDown = errors.New("redis is unreachable (retrying in the background)")

// downError is ErrDown with the last failure.
type downError struct{ last error }

func (e downError) Error() string {
	if e.last == nil {
		return ErrDown.Error()
	}
	return ErrDown.Error() + ": " + e.last.Error()
}

func (e downError) Is(target error) bool { return target == ErrDown }

// TLSError is a rediss:// connection refused because the server's
// certificate did not pass REDIS_SSL_CERT_REQS: it names the settings to
// look at, which a bare x509 message does not.
type TLSError struct {
	CACerts, CertReqs string
	Err               error
}

func (e *TLSError) Error() string {
	ca := "the system's trusted CAs"
	if e.CACerts != "" {
		ca = "the CAs in REDIS_SSL_CA_CERTS=" + e.CACerts
	}
	reqs := e.CertReqs
	if reqs == "" {
		reqs = "required"
	}
	return fmt.Sprintf("redis TLS: the server's certificate was refused (REDIS_SSL_CERT_REQS=%s, checked against %s): %v", reqs, ca, e.Err)
}

func (e *TLSError) Unwrap() error { return e.Err }

// certRefused tells a failed certificate check from other dial failures.
func certRefused(err error) bool {
	var verr *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verr) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// retryEvery is how often a command is let through to probe a Redis that
// was down.
const retryEvery = time.Second

// breaker fails commands at once while Redis is known to be down, letting
// one through per retryEvery to notice its return.
type breaker struct {
	downUntil atomic.Int64 // unix nanos; 0: up
	last      atomic.Pointer[error]
	tls       TLS // the settings of a rediss:// URL, named in TLSError
}

func (b *breaker) open() bool { return b.downUntil.Load() != 0 }

func (b *breaker) allow() bool {
	until := b.downUntil.Load()
	if until == 0 {
		return true
	}
	now := time.Now().UnixNano()
	// One caller per interval wins the probe.
	return now >= until && b.downUntil.CompareAndSwap(until, now+int64(retryEvery))
}

// downErr is the error of a command refused while Redis is down.
func (b *breaker) downErr() error {
	if p := b.last.Load(); p != nil {
		return downError{last: *p}
	}
	return downError{}
}

func (b *breaker) record(err error) {
	if err == nil || !unreachable(err) {
		b.downUntil.Store(0)
		return
	}
	if !errors.Is(err, ErrDown) {
		b.last.Store(&err)
	}
	if b.downUntil.Load() == 0 {
		b.downUntil.Store(time.Now().Add(retryEvery).UnixNano())
	}
}

// unreachable tells a transport failure from a Redis reply (redis.Nil, a
// WRONGTYPE…), which proves Redis is up.
func unreachable(err error) bool {
	if errors.Is(err, ErrDown) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var re redis.Error
	return !errors.As(err, &re)
}

func (b *breaker) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil && certRefused(err) {
			err = &TLSError{CACerts: b.tls.CACerts, CertReqs: b.tls.CertReqs, Err: err}
		}
		return c, err
	}
}

// admittedKey marks the context of a command the breaker let through.
type admittedKey struct{}

// admit decides whether a command may try Redis. Commands go-redis runs
// inside an admitted one with its context — HELLO, AUTH and SELECT on the
// fresh connection a probe dials — are admitted with it: refusing them
// would fail every probe once a connection has to be made again (after a
// Sentinel failover, say), and Redis would never count as back.
func (b *breaker) admit(ctx context.Context) (context.Context, bool) {
	if ctx.Value(admittedKey{}) != nil {
		return ctx, true
	}
	if !b.allow() {
		return ctx, false
	}
	return context.WithValue(ctx, admittedKey{}, true), true
}

func (b *breaker) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		ctx, ok := b.admit(ctx)
		if !ok {
			err := b.downErr()
			cmd.SetErr(err)
			return err
		}
		err := next(ctx, cmd)
		b.record(err)
		return err
	}
}

func (b *breaker) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		ctx, ok := b.admit(ctx)
		if !ok {
			err := b.downErr()
			for _, c := range cmds {
				c.SetErr(err)
			}
			return err
		}
		err := next(ctx, cmds)
		b.record(err)
		return err
	}
}
