package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// A valid 32-byte key, for configurations that need one.
var testKey = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func load(t *testing.T, env map[string]string) (*Config, error) {
	t.Helper()
	return Load(MapLookup(env))
}

func mustLoad(t *testing.T, env map[string]string) *Config {
	t.Helper()
	c, err := load(t, env)
	if err != nil {
		t.Fatalf("Load(%v): %v", env, err)
	}
	return c
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil)
	want := Config{
		Server:   Server{HTTPAddr: ":8080", DataDir: "./data", LogLevel: "info", LogFormat: "text", ShutdownTimeout: 30 * time.Second, SessionTTL: 12 * time.Hour},
		Database: Database{Port: 5432, User: "aurora", Name: "aurora", SSLMode: "prefer", ReplicaMaxLag: 10 * time.Second, PoolMin: 2, PoolMax: 20},
		Security: Security{AdminEmail: "admin@localhost"},
		Intake: Intake{
			MaxBodyBytes:           4 << 20,
			ReopenWindow:           time.Hour,
			CorrelationWindow:      30 * time.Minute,
			AutoResolveAfter:       12 * time.Hour,
			RawPayloadRetention:    30 * 24 * time.Hour,
			InvestigateSeverities:  []string{"critical", "high", "warning", "unknown"},
			InvestigationRateLimit: 30,
		},
		Jobs:          Jobs{WorkerConcurrency: 10, SchedulerInterval: time.Minute, JobTimeout: 10 * time.Minute, RescueAfter: 11 * time.Minute},
		Redis:         Redis{SSLCertReqs: "required"},
		Weaviate:      Weaviate{Port: 8080, GRPCPort: 50051},
		Vault:         Vault{KVMount: "secret", AppRoleMount: "approle", PathPrefix: "aurora"},
		ObjectStorage: ObjectStorage{UseSSL: true, CacheEnabled: true, CacheTTL: 300 * time.Second},
		SetupCache:    SetupCache{Enabled: true, TTL: 300 * time.Second},
		LLM:           LLM{AgentRecursionLimit: 240},
		Chat:          Chat{MaxMessageBytes: 16 << 10, RateLimit: 20, IdleTimeout: 90 * time.Second, ConfirmTimeout: 5 * time.Minute, Retention: 90 * 24 * time.Hour},
		KnowledgeBase: KnowledgeBase{ChunkSize: 1500, ChunkOverlap: 200, MaxUploadBytes: 20 << 20},
	}
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", *c, want)
	}
	if !c.Embedded() {
		t.Error("Embedded() = false with no database configured")
	}
	if got := c.PublicURL(); got != "http://localhost:8080" {
		t.Errorf("PublicURL() = %q", got)
	}
	if got := c.PostgresURL(); got != "" {
		t.Errorf("PostgresURL() = %q in embedded mode, want empty", got)
	}
	if keys, err := c.SecretKeys(); keys != nil || err != nil {
		t.Errorf("SecretKeys() = %v, %v; want nil, nil", keys, err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() on defaults: %v", err)
	}
}

func TestLoadGood(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		env   map[string]string
		check func(*Config) bool
	}{
		{"empty value means default", map[string]string{"AURORA_HTTP_ADDR": "", "DB_POOL_MAX": ""},
			func(c *Config) bool { return c.Server.HTTPAddr == ":8080" && c.Database.PoolMax == 20 }},
		{"blanks trimmed", map[string]string{"AURORA_WORKER_CONCURRENCY": " 4 ", "AURORA_LOG_LEVEL": "debug\n"},
			func(c *Config) bool { return c.Jobs.WorkerConcurrency == 4 && c.Server.LogLevel == "debug" }},
		{"enums case-insensitive", map[string]string{"AURORA_LOG_LEVEL": "WARN", "POSTGRES_SSLMODE": "Verify-Full", "AURORA_INVESTIGATE_SEVERITIES": "Critical"},
			func(c *Config) bool {
				return c.Server.LogLevel == "warn" && c.Database.SSLMode == "verify-full" &&
					reflect.DeepEqual(c.Intake.InvestigateSeverities, []string{"critical"})
			}},
		{"severity list with blanks", map[string]string{"AURORA_INVESTIGATE_SEVERITIES": " critical , info ,"},
			func(c *Config) bool {
				return reflect.DeepEqual(c.Intake.InvestigateSeverities, []string{"critical", "info"})
			}},
		{"severities none", map[string]string{"AURORA_INVESTIGATE_SEVERITIES": "none"},
			func(c *Config) bool { return len(c.Intake.InvestigateSeverities) == 0 }},
		{"booleans", map[string]string{"AURORA_PPROF": "yes", "STORAGE_USE_SSL": "0", "WEAVIATE_SECURE": "TRUE", "RCA_OPTIMIZE_COSTS": "1", "STORAGE_CACHE_ENABLED": "no"},
			func(c *Config) bool {
				return c.Server.Pprof && !c.ObjectStorage.UseSSL && c.Weaviate.Secure && c.LLM.RCAOptimizeCosts && !c.ObjectStorage.CacheEnabled
			}},
		{"zero disables", map[string]string{"AURORA_AUTO_RESOLVE_AFTER": "0", "AURORA_RAW_PAYLOAD_RETENTION": "0"},
			func(c *Config) bool { return c.Intake.AutoResolveAfter == 0 && c.Intake.RawPayloadRetention == 0 }},
		{"pool min equals max", map[string]string{"DB_POOL_MIN": "5", "DB_POOL_MAX": "5"},
			func(c *Config) bool { return c.Database.PoolMin == 5 && c.Database.PoolMax == 5 }},
		{"pool min zero", map[string]string{"DB_POOL_MIN": "0"},
			func(c *Config) bool { return c.Database.PoolMin == 0 }},
		{"redis schemes", map[string]string{"REDIS_URL": "rediss://:pw@redis:6380/0"},
			func(c *Config) bool { return c.Redis.URL == "rediss://:pw@redis:6380/0" }},
		{"redis unix", map[string]string{"REDIS_URL": "unix:///run/redis.sock"},
			func(c *Config) bool { return c.Redis.URL != "" }},
		{"postgres over unix socket", map[string]string{"DATABASE_URL": "postgres:///aurora?host=/run/postgresql", "AURORA_SECRET_KEY": testKey},
			func(c *Config) bool { return !c.Embedded() }},
		{"kube contexts", map[string]string{"AURORA_KUBE_CONTEXTS": "prod, staging"},
			func(c *Config) bool { return reflect.DeepEqual(c.Toolsets.KubeContexts, []string{"prod", "staging"}) }},
		{"budgets", map[string]string{"RCA_TOKEN_BUDGET": "200000", "RCA_COST_BUDGET_USD": "1.5", "LLM_DAILY_BUDGET_USD": "0"},
			func(c *Config) bool { return c.LLM.RCATokenBudget == 200000 && c.LLM.RCACostBudgetUSD == 1.5 }},
		{"reserved urls", map[string]string{"PROMETHEUS_URL": "http://prometheus:9090", "AURORA_CHAT_URL": "wss://chat.example.com/ws", "VAULT_ADDR": "https://vault:8200"},
			func(c *Config) bool { return c.Toolsets.PrometheusURL == "http://prometheus:9090" }},
		{"IPv6 listen address", map[string]string{"AURORA_HTTP_ADDR": "[::1]:9000"},
			func(c *Config) bool { return c.PublicURL() == "http://[::1]:9000" }},
		{"secrets verbatim", map[string]string{"AURORA_ADMIN_PASSWORD": " pw "},
			func(c *Config) bool { return c.Security.AdminPassword == " pw " }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, tc.env)
			if !tc.check(c) {
				t.Errorf("unexpected config for %v: %+v", tc.env, c)
			}
		})
	}
}

func TestLoadBad(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env map[string]string
		err string
	}{
		{map[string]string{"AURORA_HTTP_ADDR": "8080"}, `AURORA_HTTP_ADDR: must be host:port such as ":8080" or "127.0.0.1:8080", got "8080"`},
		{map[string]string{"AURORA_HTTP_ADDR": ":http"}, `AURORA_HTTP_ADDR: must be host:port`},
		{map[string]string{"AURORA_HTTP_ADDR": ":70000"}, `AURORA_HTTP_ADDR: must be host:port`},
		{map[string]string{"AURORA_PUBLIC_URL": "aurora.example.com"}, `AURORA_PUBLIC_URL: must be a URL starting with http:// or https://, got "aurora.example.com"`},
		{map[string]string{"AURORA_PUBLIC_URL": "ftp://x"}, `AURORA_PUBLIC_URL: must be a URL starting with http:// or https://`},
		{map[string]string{"AURORA_LOG_LEVEL": "verbose"}, `AURORA_LOG_LEVEL: must be one of debug, info, warn or error, got "verbose"`},
		{map[string]string{"AURORA_LOG_FORMAT": "xml"}, `AURORA_LOG_FORMAT: must be one of text or json, got "xml"`},
		{map[string]string{"AURORA_SHUTDOWN_TIMEOUT": "0"}, `AURORA_SHUTDOWN_TIMEOUT: must be a duration greater than zero`},
		{map[string]string{"AURORA_PPROF": "maybe"}, `AURORA_PPROF: must be true or false (or 1/0, yes/no), got "maybe"`},
		{map[string]string{"AURORA_ADMIN_EMAIL": "admin"}, `AURORA_ADMIN_EMAIL: must be an email address containing "@", got "admin"`},
		{map[string]string{"DATABASE_URL": "mysql://db/aurora", "AURORA_SECRET_KEY": testKey}, `DATABASE_URL: must be a URL starting with postgres:// or postgresql://, got "mysql://db/aurora"`},
		{map[string]string{"DATABASE_URL": "host=db user=aurora", "AURORA_SECRET_KEY": testKey}, `DATABASE_URL: must be a URL starting with postgres://`},
		{map[string]string{"POSTGRES_HOST": "postgres://db", "AURORA_SECRET_KEY": testKey}, `POSTGRES_HOST: must be a host name or IP address, without scheme or path, got "postgres://db"`},
		{map[string]string{"POSTGRES_PORT": "0"}, `POSTGRES_PORT: must be a port number from 1 to 65535, got "0"`},
		{map[string]string{"POSTGRES_PORT": "pg"}, `POSTGRES_PORT: must be a port number from 1 to 65535, got "pg"`},
		{map[string]string{"POSTGRES_SSLMODE": "on"}, `POSTGRES_SSLMODE: must be one of disable, allow, prefer, require, verify-ca or verify-full, got "on"`},
		{map[string]string{"POSTGRES_READ_REPLICA_HOST": "replica/db"}, `POSTGRES_READ_REPLICA_HOST: must be a host name`},
		{map[string]string{"DB_POOL_MAX": "x"}, `DB_POOL_MAX: must be an integer ≥ 1, got "x"`},
		{map[string]string{"DB_POOL_MAX": "0"}, `DB_POOL_MAX: must be an integer ≥ 1, got "0"`},
		{map[string]string{"DB_POOL_MIN": "-1"}, `DB_POOL_MIN: must be an integer ≥ 0, got "-1"`},
		{map[string]string{"DB_POOL_MIN": "30"}, `DB_POOL_MAX: must be ≥ DB_POOL_MIN (30), got "20"`},
		{map[string]string{"REDIS_URL": "http://redis:6379"}, `REDIS_URL: must be a URL starting with redis://, rediss://, unix://, redis+sentinel://, rediss+sentinel://, redis+cluster:// or rediss+cluster://, got "http://redis:6379"`},
		{map[string]string{"REDIS_URL": "redis:6379"}, `REDIS_URL: must be a URL starting with redis://`},
		{map[string]string{"REDIS_SSL_CERT_REQS": "CERT_NONE"}, `REDIS_SSL_CERT_REQS: must be one of none, optional or required, got "CERT_NONE"`},
		{map[string]string{"AURORA_MAX_BODY_BYTES": "lots"}, `AURORA_MAX_BODY_BYTES: must be a byte size ≥ 1 such as "4194304", "512KiB" or "4MiB", got "lots"`},
		{map[string]string{"AURORA_MAX_BODY_BYTES": "0"}, `AURORA_MAX_BODY_BYTES: must be a byte size ≥ 1`},
		{map[string]string{"AURORA_MAX_BODY_BYTES": "4 MiBs"}, `AURORA_MAX_BODY_BYTES: must be a byte size`},
		{map[string]string{"AURORA_REOPEN_WINDOW": "-5s"}, `AURORA_REOPEN_WINDOW: must be a duration greater than zero such as "90s", "1h30m" or "3600" (seconds), got "-5s"`},
		{map[string]string{"AURORA_CORRELATION_WINDOW": "abc"}, `AURORA_CORRELATION_WINDOW: must be a duration greater than zero`},
		{map[string]string{"AURORA_AUTO_RESOLVE_AFTER": "-1"}, `AURORA_AUTO_RESOLVE_AFTER: must be a non-negative duration such as "90s", "1h30m" or "3600" (seconds), got "-1"`},
		{map[string]string{"AURORA_RAW_PAYLOAD_RETENTION": "30d"}, `AURORA_RAW_PAYLOAD_RETENTION: must be a non-negative duration`},
		{map[string]string{"AURORA_INVESTIGATE_SEVERITIES": "critical,fatal"}, `AURORA_INVESTIGATE_SEVERITIES: each entry must be one of critical, high, warning, info or unknown, got "fatal"`},
		{map[string]string{"AURORA_INVESTIGATE_SEVERITIES": "none,critical"}, `AURORA_INVESTIGATE_SEVERITIES: each entry must be one of`},
		{map[string]string{"AURORA_WORKER_CONCURRENCY": "0"}, `AURORA_WORKER_CONCURRENCY: must be an integer ≥ 1, got "0"`},
		{map[string]string{"AURORA_SCHEDULER_INTERVAL": "0s"}, `AURORA_SCHEDULER_INTERVAL: must be a duration greater than zero`},
		{map[string]string{"WEAVIATE_PORT": "99999"}, `WEAVIATE_PORT: must be a port number from 1 to 65535, got "99999"`},
		{map[string]string{"WEAVIATE_GRPC_PORT": "grpc"}, `WEAVIATE_GRPC_PORT: must be a port number`},
		{map[string]string{"WEAVIATE_SECURE": "secure"}, `WEAVIATE_SECURE: must be true or false`},
		{map[string]string{"WEAVIATE_HOST": "http://weaviate"}, `WEAVIATE_HOST: must be a host name`},
		{map[string]string{"VAULT_ADDR": "vault:8200"}, `VAULT_ADDR: must be a URL starting with http:// or https://`},
		{map[string]string{"STORAGE_ENDPOINT_URL": "minio:9000"}, `STORAGE_ENDPOINT_URL: must be a URL starting with http://`},
		{map[string]string{"STORAGE_CACHE_TTL": "five minutes"}, `STORAGE_CACHE_TTL: must be a whole number of seconds such as "300", or a duration such as "5m", got "five minutes"`},
		{map[string]string{"AURORA_SETUP_CACHE_TTL": "-300"}, `AURORA_SETUP_CACHE_TTL: must be a whole number of seconds`},
		{map[string]string{"AGENT_RECURSION_LIMIT": "0"}, `AGENT_RECURSION_LIMIT: must be an integer ≥ 1, got "0"`},
		{map[string]string{"RCA_TOKEN_BUDGET": "-1"}, `RCA_TOKEN_BUDGET: must be an integer ≥ 0, got "-1"`},
		{map[string]string{"RCA_COST_BUDGET_USD": "NaN"}, `RCA_COST_BUDGET_USD: must be a number ≥ 0, got "NaN"`},
		{map[string]string{"LLM_DAILY_BUDGET_USD": "-2"}, `LLM_DAILY_BUDGET_USD: must be a number ≥ 0, got "-2"`},
		{map[string]string{"LLM_DAILY_BUDGET_USD": "ten"}, `LLM_DAILY_BUDGET_USD: must be a number ≥ 0, got "ten"`},
		{map[string]string{"OPENAI_BASE_URL": "/v1"}, `OPENAI_BASE_URL: must be a URL starting with http:// or https://`},
		{map[string]string{"OLLAMA_BASE_URL": "localhost:11434"}, `OLLAMA_BASE_URL: must be a URL`},
		{map[string]string{"ANTHROPIC_BASE_URL": "https://"}, `ANTHROPIC_BASE_URL: must be a URL`},
		{map[string]string{"PROMETHEUS_URL": "prometheus:9090"}, `PROMETHEUS_URL: must be a URL starting with http:// or https://, got "prometheus:9090"`},
		{map[string]string{"SEARXNG_URL": "searx"}, `SEARXNG_URL: must be a URL`},
		{map[string]string{"EMBEDDING_URL": "t2v:8080"}, `EMBEDDING_URL: must be a URL`},
		{map[string]string{"AURORA_CHAT_URL": "chat"}, `AURORA_CHAT_URL: must be a URL starting with http://, https://, ws:// or wss://`},
		{map[string]string{"POSTGRES_DIRECT_URL": "pg:5432"}, `POSTGRES_DIRECT_URL: must be a URL starting with postgres://`},
		{map[string]string{"AURORA_SECRET_KEY": "short"}, `AURORA_SECRET_KEY: key 1 (k1): is neither base64 nor hex`},
		{map[string]string{"AURORA_SECRET_KEY": "c2hvcnQ="}, `AURORA_SECRET_KEY: key 1 (k1): decodes to 5 bytes, need exactly 32`},
		{map[string]string{"POSTGRES_HOST": "db"}, `AURORA_SECRET_KEY: required when using PostgreSQL so every replica shares it`},
	}
	for _, tc := range cases {
		t.Run(tc.err, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tc.env)
			if err == nil {
				t.Fatalf("Load(%v) = %+v, want error containing %q", tc.env, c, tc.err)
			}
			if !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Load(%v) error:\n %s\nwant it to contain\n %s", tc.env, err, tc.err)
			}
			if !strings.HasPrefix(err.Error(), "invalid configuration: ") {
				t.Errorf("error %q lacks the common prefix", err)
			}
			var ce *Error
			if !errors.As(err, &ce) || len(ce.Problems) != 1 {
				t.Errorf("want exactly one problem, got %v", err)
			}
		})
	}
}

func TestLoadNamesEveryInvalidVariable(t *testing.T) {
	t.Parallel()
	_, err := load(t, map[string]string{
		"AURORA_HTTP_ADDR":         "8080",
		"DB_POOL_MAX":              "x",
		"AURORA_REOPEN_WINDOW":     "abc",
		"WEAVIATE_SECURE":          "maybe",
		"AURORA_SECRET_KEY":        "k1:" + testKey + ",k1:" + testKey,
		"AGENT_RECURSION_LIMIT":    "-3",
		"AURORA_WORKER_CONCURRENC": "typo is ignored",
	})
	if err == nil {
		t.Fatal("Load accepted invalid values")
	}
	want := `invalid configuration: ` +
		`AURORA_HTTP_ADDR: must be host:port such as ":8080" or "127.0.0.1:8080", got "8080"; ` +
		`DB_POOL_MAX: must be an integer ≥ 1, got "x"; ` +
		`AURORA_SECRET_KEY: key 2: id "k1" used twice (a key without an id is "k1"); ` +
		`AURORA_REOPEN_WINDOW: must be a duration greater than zero such as "90s", "1h30m" or "3600" (seconds), got "abc"; ` +
		`WEAVIATE_SECURE: must be true or false (or 1/0, yes/no), got "maybe"; ` +
		`AGENT_RECURSION_LIMIT: must be an integer ≥ 1, got "-3"`
	if err.Error() != want {
		t.Errorf("error:\n got %s\nwant %s", err, want)
	}
}

func TestDurations(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"90", 90 * time.Second, true},
		{"90s", 90 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"3600", time.Hour, true},
		{"250ms", 250 * time.Millisecond, true},
		{"0", 0, true},
		{"-5s", 0, false},
		{"-5", 0, false},
		{"abc", 0, false},
		{"1.5", 0, false},
		{"1d", 0, false},
		{"99999999999999999", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseDuration(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("parseDuration(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
			// And through Load, on a variable where 0 is allowed.
			c, err := load(t, map[string]string{"AURORA_AUTO_RESOLVE_AFTER": tc.in})
			if (err == nil) != tc.ok {
				t.Fatalf("Load AURORA_AUTO_RESOLVE_AFTER=%q: %v", tc.in, err)
			}
			if err == nil && c.Intake.AutoResolveAfter != tc.want {
				t.Errorf("AURORA_AUTO_RESOLVE_AFTER=%q gave %v", tc.in, c.Intake.AutoResolveAfter)
			}
			if err != nil && !strings.Contains(err.Error(), `AURORA_AUTO_RESOLVE_AFTER: must be a non-negative duration`) {
				t.Errorf("error %q does not name the variable", err)
			}
		})
	}
}

func TestTTLsAreSeconds(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, map[string]string{"STORAGE_CACHE_TTL": "60", "AURORA_SETUP_CACHE_TTL": "2m"})
	if c.ObjectStorage.CacheTTL != time.Minute || c.SetupCache.TTL != 2*time.Minute {
		t.Errorf("TTLs: %v, %v", c.ObjectStorage.CacheTTL, c.SetupCache.TTL)
	}
	for _, s := range c.Redacted() {
		if s.Name == "AURORA_SETUP_CACHE_TTL" && s.Value != "120" {
			t.Errorf("AURORA_SETUP_CACHE_TTL shown as %q, want whole seconds 120", s.Value)
		}
	}
}

func TestByteSizes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want ByteSize
		ok   bool
	}{
		{"4194304", 4 << 20, true},
		{"4MiB", 4 << 20, true},
		{"4mib", 4 << 20, true},
		{"512KiB", 512 << 10, true},
		{"512 KiB", 512 << 10, true},
		{"1MB", 1_000_000, true},
		{"1kb", 1000, true},
		{"2GiB", 2 << 30, true},
		{"10B", 10, true},
		{"", 0, false},
		{"MiB", 0, false},
		{"1.5MiB", 0, false},
		{"-1", 0, false},
		{"4MiBs", 0, false},
		{"9999999TiB", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseByteSize(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ParseByteSize(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
			if tc.ok {
				back, err := ParseByteSize(got.String())
				if err != nil || back != got {
					t.Errorf("%v.String() = %q does not parse back: %v, %v", int64(got), got.String(), back, err)
				}
			}
		})
	}
	c := mustLoad(t, map[string]string{"AURORA_MAX_BODY_BYTES": "1MB"})
	if c.Intake.MaxBodyBytes != 1_000_000 {
		t.Errorf("AURORA_MAX_BODY_BYTES=1MB gave %d", c.Intake.MaxBodyBytes)
	}
}

func TestPostgresURL(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, map[string]string{
		"POSTGRES_HOST":     "db.internal",
		"POSTGRES_USER":     "au@ro/ra",
		"POSTGRES_PASSWORD": "p@ss/w:rd?#% x",
		"POSTGRES_DB":       "aurora/prod",
		"AURORA_SECRET_KEY": testKey,
	})
	if c.Embedded() {
		t.Fatal("Embedded() with POSTGRES_HOST set")
	}
	raw := c.PostgresURL()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("PostgresURL() = %q does not parse: %v", raw, err)
	}
	pw, _ := u.User.Password()
	switch {
	case u.Scheme != "postgres", u.Host != "db.internal:5432":
		t.Errorf("scheme/host wrong in %q", raw)
	case u.User.Username() != "au@ro/ra" || pw != "p@ss/w:rd?#% x":
		t.Errorf("credentials did not round-trip through %q: %q %q", raw, u.User.Username(), pw)
	case u.Path != "/aurora/prod" || u.EscapedPath() != "/aurora%2Fprod":
		t.Errorf("database name did not round-trip through %q", raw)
	case u.Query().Get("sslmode") != "prefer":
		t.Errorf("sslmode missing from %q", raw)
	}
	if got := c.PostgresReadURL(); got != "" {
		t.Errorf("PostgresReadURL() = %q without a replica", got)
	}

	c = mustLoad(t, map[string]string{
		"POSTGRES_HOST": "primary", "POSTGRES_PORT": "6432", "POSTGRES_PASSWORD": "pw", "POSTGRES_SSLMODE": "require",
		"POSTGRES_READ_REPLICA_HOST": "replica", "AURORA_SECRET_KEY": testKey,
	})
	if got, want := c.PostgresURL(), "postgres://aurora:pw@primary:6432/aurora?sslmode=require"; got != want {
		t.Errorf("PostgresURL() = %q, want %q", got, want)
	}
	if got, want := c.PostgresReadURL(), "postgres://aurora:pw@replica:6432/aurora?sslmode=require"; got != want {
		t.Errorf("PostgresReadURL() = %q, want %q", got, want)
	}

	// DATABASE_URL wins over POSTGRES_*, and the replica keeps its port.
	c = mustLoad(t, map[string]string{
		"DATABASE_URL": "postgresql://u:p@primary:5433/db?sslmode=disable", "POSTGRES_HOST": "ignored",
		"POSTGRES_READ_REPLICA_HOST": "replica", "AURORA_SECRET_KEY": testKey,
	})
	if got, want := c.PostgresURL(), "postgresql://u:p@primary:5433/db?sslmode=disable"; got != want {
		t.Errorf("PostgresURL() = %q, want %q", got, want)
	}
	if got, want := c.PostgresReadURL(), "postgresql://u:p@replica:5433/db?sslmode=disable"; got != want {
		t.Errorf("PostgresReadURL() = %q, want %q", got, want)
	}

	// A replica written as host:port keeps its own port.
	c = mustLoad(t, map[string]string{
		"DATABASE_URL": "postgres://u@primary/db", "POSTGRES_READ_REPLICA_HOST": "replica:6432", "AURORA_SECRET_KEY": testKey,
	})
	if got, want := c.PostgresReadURL(), "postgres://u@replica:6432/db"; got != want {
		t.Errorf("PostgresReadURL() = %q, want %q", got, want)
	}
}

func TestPublicURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ addr, public, want string }{
		{":8080", "", "http://localhost:8080"},
		{"127.0.0.1:9000", "", "http://127.0.0.1:9000"},
		{"0.0.0.0:9000", "", "http://localhost:9000"},
		{"[::]:9000", "", "http://localhost:9000"},
		{"aurora.local:80", "", "http://aurora.local:80"},
		{":8080", "https://aurora.example.com/", "https://aurora.example.com"},
		{":8080", "https://example.com/aurora//", "https://example.com/aurora"},
	}
	for _, tc := range cases {
		t.Run(tc.addr+" "+tc.public, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, map[string]string{"AURORA_HTTP_ADDR": tc.addr, "AURORA_PUBLIC_URL": tc.public})
			if got := c.PublicURL(); got != tc.want {
				t.Errorf("PublicURL() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPostgresRequiresSecretKey(t *testing.T) {
	t.Parallel()
	const msg = "AURORA_SECRET_KEY: required when using PostgreSQL so every replica shares it"
	for _, env := range []map[string]string{
		{"POSTGRES_HOST": "db"},
		{"DATABASE_URL": "postgres://db/aurora"},
	} {
		if _, err := load(t, env); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("Load(%v) = %v, want %q", env, err, msg)
		}
		env["AURORA_SECRET_KEY"] = testKey
		if _, err := load(t, env); err != nil {
			t.Errorf("Load(%v): %v", env, err)
		}
	}
	// Embedded mode generates its own key file.
	if _, err := load(t, map[string]string{"AURORA_SECRET_KEY": ""}); err != nil {
		t.Errorf("embedded without key: %v", err)
	}
}

func TestValidateAfterChanges(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil)
	c.Jobs.WorkerConcurrency = 0
	c.Intake.ReopenWindow = -time.Second
	c.Database.Host = "db"
	err := c.Validate()
	want := `invalid configuration: AURORA_SECRET_KEY: required when using PostgreSQL so every replica shares it; ` +
		`AURORA_REOPEN_WINDOW: must be a duration greater than zero such as "90s", "1h30m" or "3600" (seconds), got "-1s"; ` +
		`AURORA_WORKER_CONCURRENCY: must be an integer ≥ 1, got "0"`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() =\n %v\nwant\n %s", err, want)
	}
	if err := (&Config{}).Validate(); err == nil {
		t.Error("Validate() accepted a zero Config")
	}
}

func TestParseKeyRing(t *testing.T) {
	t.Parallel()
	key := []byte("0123456789abcdef0123456789abcdef")
	other := []byte("fedcba9876543210fedcba9876543210")
	b64 := base64.StdEncoding.EncodeToString(key)
	cases := []struct {
		name string
		in   string
		ids  []string
		err  string
	}{
		{"base64 std", b64, []string{"k1"}, ""},
		{"base64 std unpadded", base64.RawStdEncoding.EncodeToString(key), []string{"k1"}, ""},
		{"base64 url", base64.URLEncoding.EncodeToString(other), []string{"k1"}, ""},
		{"base64 url unpadded", base64.RawURLEncoding.EncodeToString(other), []string{"k1"}, ""},
		{"hex", hex.EncodeToString(key), []string{"k1"}, ""},
		{"hex upper", strings.ToUpper(hex.EncodeToString(key)), []string{"k1"}, ""},
		{"ring with ids", "k2:" + hex.EncodeToString(other) + ", k1:" + b64, []string{"k2", "k1"}, ""},
		{"ring with bare old key", "new:" + hex.EncodeToString(other) + "," + b64, []string{"new", "k1"}, ""},
		{"31 bytes", base64.StdEncoding.EncodeToString(key[:31]), nil, "key 1 (k1): decodes to 31 bytes, need exactly 32"},
		{"33 bytes hex", hex.EncodeToString(append(key, 0)), nil, "key 1 (k1): decodes to 33 bytes"},
		{"not an encoding", "this is not a key!", nil, "key 1 (k1): is neither base64 nor hex"},
		{"empty", " ", nil, "no key given"},
		{"empty entry", b64 + ",", nil, "key 2 is empty"},
		{"duplicate id", "a:" + b64 + ",a:" + b64, nil, `key 2: id "a" used twice`},
		{"two bare keys", b64 + "," + b64, nil, `key 2: id "k1" used twice`},
		{"bad id", "my key:" + b64, nil, "key 1: id must be"},
		{"empty id", ":" + b64, nil, "key 1: id must be"},
		{"second key short", "k2:" + b64 + ",k1:AAAA", nil, "key 2 (k1): decodes to 2 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keys, err := ParseKeyRing(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseKeyRing error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, k := range keys {
				ids = append(ids, k.ID)
				if len(k.Bytes) != KeySize {
					t.Errorf("key %s has %d bytes", k.ID, len(k.Bytes))
				}
			}
			if !reflect.DeepEqual(ids, tc.ids) {
				t.Errorf("ids = %v, want %v", ids, tc.ids)
			}
		})
	}

	c := mustLoad(t, map[string]string{"AURORA_SECRET_KEY": "k2:" + hex.EncodeToString(other) + ",k1:" + b64})
	keys, err := c.SecretKeys()
	if err != nil || len(keys) != 2 || string(keys[0].Bytes) != string(other) || string(keys[1].Bytes) != string(key) {
		t.Errorf("SecretKeys() = %v, %v", keys, err)
	}
}

func TestPostgresReadURLs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"none", map[string]string{"POSTGRES_HOST": "p"}, nil},
		{"several hosts, own port wins", map[string]string{"POSTGRES_HOST": "p", "POSTGRES_PASSWORD": "pw",
			"POSTGRES_READ_REPLICA_HOST": "r1,r2:6433,", "POSTGRES_READ_REPLICA_PORT": "5444"},
			[]string{"postgres://aurora:pw@r1:5444/aurora?sslmode=prefer", "postgres://aurora:pw@r2:6433/aurora?sslmode=prefer"}},
		{"own user, password and sslmode", map[string]string{"DATABASE_URL": "postgres://u:p@primary:5433/db?sslmode=disable",
			"POSTGRES_READ_REPLICA_HOST": "r", "POSTGRES_READ_REPLICA_USER": "ro", "POSTGRES_READ_REPLICA_PASSWORD": "s3:cr@t", "POSTGRES_READ_REPLICA_SSLMODE": "require"},
			[]string{"postgres://ro:s3%3Acr%40t@r:5433/db?sslmode=require"}},
		{"password only keeps the user", map[string]string{"DATABASE_URL": "postgres://u@primary/db",
			"POSTGRES_READ_REPLICA_HOST": "r", "POSTGRES_READ_REPLICA_PASSWORD": "x"},
			[]string{"postgres://u:x@r:5432/db"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"AURORA_SECRET_KEY": testKey}
			maps.Copy(env, tc.env)
			c := mustLoad(t, env)
			if got := c.PostgresReadURLs(); !slices.Equal(got, tc.want) {
				t.Errorf("PostgresReadURLs() = %q, want %q", got, tc.want)
			}
		})
	}
}
