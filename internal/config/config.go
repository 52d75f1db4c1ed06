// Package config reads Aurora's configuration from environment variables and
// checks all of it at start-up, so a typo fails fast with a message naming the
// variable instead of surfacing hours later in a job. The struct tags are the
// single source of truth: Load, Validate, Redacted, Variables and the test
// that keeps docs/configuration.md complete all read them.
//
// Tags used on fields, besides caarlos0/env's env and envDefault:
//
//	desc     one-line meaning, shown by `aurora config` and checked against the docs
//	check    validation rule (see rules.go)
//	secret   "true": never shown; "url": only the password part is hidden
//	unit     "seconds": printed as whole seconds, the form users set it in
//	reserved "true": read and validated now, used by a later feature
package config

import (
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the effective configuration of one Aurora process.
type Config struct {
	Server        Server        `group:"Server"`
	Database      Database      `group:"Storage"`
	Security      Security      `group:"Security"`
	Intake        Intake        `group:"Intake & correlation"`
	Jobs          Jobs          `group:"Jobs"`
	Redis         Redis         `group:"Redis"`
	Weaviate      Weaviate      `group:"Weaviate"`
	Vault         Vault         `group:"Vault"`
	ObjectStorage ObjectStorage `group:"Object storage"`
	SetupCache    SetupCache    `group:"Setup cache"`
	LLM           LLM           `group:"LLM"`
	Embedding     Embedding     `group:"Embeddings"`
	Toolsets      Toolsets      `group:"Toolsets"`
	Chat          Chat          `group:"Chat"`
	KnowledgeBase KnowledgeBase `group:"Knowledge base"`
}

// Server configures the HTTP listener and process-wide behaviour.
type Server struct {
	HTTPAddr        string        `env:"AURORA_HTTP_ADDR" envDefault:":8080" check:"addr" desc:"Address the HTTP server listens on, as host:port: the API for all and server; /health, /ready and /metrics for worker and scheduler."`
	DataDir         string        `env:"AURORA_DATA_DIR" envDefault:"./data" desc:"Directory for local state: the SQLite database in embedded mode and the generated secret key file."`
	PublicURL       string        `env:"AURORA_PUBLIC_URL" check:"url=http|https" desc:"External base URL used when Aurora builds links to itself; derived from AURORA_HTTP_ADDR when unset."`
	LogLevel        string        `env:"AURORA_LOG_LEVEL" envDefault:"info" check:"oneof=debug|info|warn|error" desc:"Minimum log level: debug, info, warn or error."`
	LogFormat       string        `env:"AURORA_LOG_FORMAT" envDefault:"text" check:"oneof=text|json" desc:"Log output format: text or json."`
	ShutdownTimeout time.Duration `env:"AURORA_SHUTDOWN_TIMEOUT" envDefault:"30s" check:"positive" desc:"How long a stopping process waits for in-flight requests and jobs before exiting."`
	Pprof           bool          `env:"AURORA_PPROF" envDefault:"false" desc:"Expose Go profiling endpoints under /debug/pprof when true (each request needs an admin token)."`
	SessionTTL      time.Duration `env:"AURORA_SESSION_TTL" envDefault:"12h" check:"positive" desc:"How long a web UI sign-in lasts before the user signs in again."`
	ChatURL         string        `env:"AURORA_CHAT_URL" check:"url=http|https|ws|wss" desc:"Where chat clients open the WebSocket when chatbots run apart from servers; POST /api/v1/chat/token answers it as url (default: this origin)."`
}

// Database selects and tunes the relational store. With neither URL nor
// Host set Aurora uses SQLite in the data directory (see Config.Embedded).
type Database struct {
	URL             string `env:"DATABASE_URL" secret:"url" check:"url=postgres|postgresql" desc:"PostgreSQL connection URL; takes precedence over the POSTGRES_* variables."`
	DirectURL       string `env:"POSTGRES_DIRECT_URL" secret:"url" check:"url=postgres|postgresql" desc:"PostgreSQL URL that bypasses a transaction-pooling proxy such as PgBouncer, for migrations' advisory lock and LISTEN/NOTIFY; setting it also stops caching prepared statements on the main connection. Default: the main connection."`
	Host            string `env:"POSTGRES_HOST" check:"host" desc:"PostgreSQL host; setting it (or DATABASE_URL) switches from embedded SQLite to PostgreSQL."`
	Port            int    `env:"POSTGRES_PORT" envDefault:"5432" check:"port" desc:"PostgreSQL port."`
	User            string `env:"POSTGRES_USER" envDefault:"aurora" desc:"PostgreSQL user."`
	Password        string `env:"POSTGRES_PASSWORD" secret:"true" desc:"PostgreSQL password."`
	Name            string `env:"POSTGRES_DB" envDefault:"aurora" desc:"PostgreSQL database name."`
	SSLMode         string `env:"POSTGRES_SSLMODE" envDefault:"prefer" check:"oneof=disable|allow|prefer|require|verify-ca|verify-full" desc:"libpq sslmode: disable, allow, prefer, require, verify-ca or verify-full."`
	ReadReplicaHost string `env:"POSTGRES_READ_REPLICA_HOST" check:"host" desc:"PostgreSQL read replicas for list, get and search queries: one host or several separated by commas, each optionally host:port; a replica that is down or lagging is skipped."`
	// The replica's own connection settings; each defaults to the primary's.
	ReadReplicaPort     int           `env:"POSTGRES_READ_REPLICA_PORT" check:"min=0" desc:"Port of the read replicas without their own; default POSTGRES_PORT (or DATABASE_URL's port)."`
	ReadReplicaUser     string        `env:"POSTGRES_READ_REPLICA_USER" desc:"User on the read replicas; default the primary's."`
	ReadReplicaPassword string        `env:"POSTGRES_READ_REPLICA_PASSWORD" secret:"true" desc:"Password on the read replicas; default the primary's."`
	ReadReplicaSSLMode  string        `env:"POSTGRES_READ_REPLICA_SSLMODE" check:"oneof=|disable|allow|prefer|require|verify-ca|verify-full" desc:"libpq sslmode for the read replicas; default the primary's."`
	ReplicaMaxLag       time.Duration `env:"POSTGRES_READ_REPLICA_MAX_LAG" envDefault:"10s" desc:"A read replica further behind the primary than this is skipped until it catches up; 0: no bound."`
	PoolMin             int           `env:"DB_POOL_MIN" envDefault:"2" check:"min=0" desc:"Connections each process keeps open to PostgreSQL even when idle."`
	PoolMax             int           `env:"DB_POOL_MAX" envDefault:"20" check:"min=1" desc:"Most connections each process opens to PostgreSQL; at least DB_POOL_MIN."`
	PoolMaxIdle         int           `env:"DB_POOL_MAX_IDLE" envDefault:"0" check:"min=0" desc:"Most unused connections each process keeps open (for up to 10 s); more are closed when handed back. 0: DB_POOL_MAX."`
}

// Security holds the admin bootstrap and the key that encrypts stored secrets.
type Security struct {
	AdminToken    string `env:"AURORA_ADMIN_TOKEN" secret:"true" desc:"Static bearer token with admin rights on the API."`
	AdminEmail    string `env:"AURORA_ADMIN_EMAIL" envDefault:"admin@localhost" check:"email" desc:"Email of the initial admin user."`
	AdminPassword string `env:"AURORA_ADMIN_PASSWORD" secret:"true" desc:"Password of the initial admin user."`
	SecretKey     string `env:"AURORA_SECRET_KEY" secret:"true" check:"keyring" desc:"32-byte key (or key ring) encrypting stored secrets; required on PostgreSQL, generated into AURORA_DATA_DIR when embedded."`
}

// Intake tunes webhook intake and how alerts become incidents.
type Intake struct {
	MaxBodyBytes           ByteSize      `env:"AURORA_MAX_BODY_BYTES" envDefault:"4MiB" check:"min=1" desc:"Largest webhook request body accepted."`
	ReopenWindow           time.Duration `env:"AURORA_REOPEN_WINDOW" envDefault:"1h" check:"positive" desc:"A resolved incident reopens when the same alert fires again within this window."`
	CorrelationWindow      time.Duration `env:"AURORA_CORRELATION_WINDOW" envDefault:"30m" check:"positive" desc:"Alerts group into an incident while its latest alert is younger than this."`
	AutoResolveAfter       time.Duration `env:"AURORA_AUTO_RESOLVE_AFTER" envDefault:"12h" desc:"Resolve alerts from re-sending sources (alertmanager, grafana) not re-sent for this long; 0 disables."`
	RawPayloadRetention    time.Duration `env:"AURORA_RAW_PAYLOAD_RETENTION" envDefault:"720h" desc:"Delete raw webhook payloads older than this; 0 keeps them forever."`
	InvestigateSeverities  []string      `env:"AURORA_INVESTIGATE_SEVERITIES" envDefault:"critical,high,warning,unknown" check:"each=critical|high|warning|info|unknown" desc:"Severities whose new incidents start an investigation automatically; none disables."`
	InvestigationRateLimit int           `env:"AURORA_INVESTIGATION_RATE_LIMIT" envDefault:"30" check:"min=0" desc:"Investigations started per org per minute at most; the rest wait in the queue (rate_limited), none is dropped. 0: no limit."`
	CorrelationRules       string        `env:"AURORA_CORRELATION_RULES" desc:"JSON array of correlation rules replacing the default (see Correlation rules below)."`
}

// Jobs tunes background work.
type Jobs struct {
	WorkerConcurrency int           `env:"AURORA_WORKER_CONCURRENCY" envDefault:"10" check:"min=1" desc:"Jobs one worker process runs at once."`
	SchedulerInterval time.Duration `env:"AURORA_SCHEDULER_INTERVAL" envDefault:"1m" check:"positive" desc:"How often periodic maintenance jobs run."`
	JobTimeout        time.Duration `env:"AURORA_JOB_TIMEOUT" envDefault:"10m" check:"positive" desc:"Longest one attempt of a job (e.g. an investigation) may run before it is cancelled and retried."`
	RescueAfter       time.Duration `env:"AURORA_JOB_RESCUE_AFTER" envDefault:"11m" check:"positive" desc:"A job still marked running this long after it started (its worker died) is retried; must exceed AURORA_JOB_TIMEOUT."`
	DebugStepDelay    time.Duration `env:"AURORA_DEBUG_STEP_DELAY" envDefault:"0" desc:"Debugging aid: pause before each investigation step, to watch (or interrupt) a running investigation. Leave 0."`
}

// Redis configures the optional shared cache, pub/sub and rate limiter.
type Redis struct {
	URL         string `env:"REDIS_URL" secret:"url" check:"url=redis|rediss|unix|redis+sentinel|rediss+sentinel|redis+cluster|rediss+cluster" desc:"Redis for cache, pub/sub and rate limits shared between replicas (single, Sentinel or Cluster); unset keeps them in process."`
	SSLCACerts  string `env:"REDIS_SSL_CA_CERTS" desc:"Path to a PEM file of CA certificates trusted for rediss:// connections."`
	SSLCertReqs string `env:"REDIS_SSL_CERT_REQS" envDefault:"required" check:"oneof=none|optional|required" desc:"Server certificate check for rediss:// connections: none, optional or required."`
}

// Weaviate configures the external vector store of the knowledge base
// (docs/knowledge-base.md#weaviate).
type Weaviate struct {
	Host     string `env:"WEAVIATE_HOST" check:"host" desc:"Weaviate host; unset keeps vectors in the database."`
	Port     int    `env:"WEAVIATE_PORT" envDefault:"8080" check:"port" desc:"Weaviate HTTP port."`
	GRPCPort int    `env:"WEAVIATE_GRPC_PORT" envDefault:"50051" check:"port" desc:"Weaviate gRPC port."`
	Secure   bool   `env:"WEAVIATE_SECURE" envDefault:"false" desc:"Use TLS to reach Weaviate."`
	// A key for Weaviate's API-key authentication; replication for a cluster.
	APIKey            string `env:"WEAVIATE_API_KEY" secret:"true" desc:"Weaviate API key, sent as a bearer token; unset for a server without authentication."`
	ReplicationFactor int    `env:"WEAVIATE_REPLICATION_FACTOR" envDefault:"0" check:"min=0" desc:"Copies of each Aurora collection kept by a Weaviate cluster; 0 uses the cluster's default. Reads and writes use QUORUM consistency."`
}

// Vault configures the external secret store (internal/secret).
type Vault struct {
	Addr         string `env:"VAULT_ADDR" check:"url=http|https" desc:"Vault (KV v2) address; set, new secrets are written to Vault and the database keeps only their paths; unset keeps secrets encrypted in the database. aurora secrets migrate moves existing ones."`
	Token        string `env:"VAULT_TOKEN" secret:"true" desc:"Vault token; or use AppRole (VAULT_ROLE_ID and VAULT_SECRET_ID)."`
	RoleID       string `env:"VAULT_ROLE_ID" desc:"AppRole role ID, with VAULT_SECRET_ID, when VAULT_TOKEN is unset; Aurora logs in again when the token expires."`
	SecretID     string `env:"VAULT_SECRET_ID" secret:"true" desc:"AppRole secret ID."`
	AppRoleMount string `env:"VAULT_APPROLE_MOUNT" envDefault:"approle" desc:"Mount path of the AppRole auth method."`
	KVMount      string `env:"VAULT_KV_MOUNT" envDefault:"secret" desc:"Mount path of the KV v2 engine."`
	PathPrefix   string `env:"VAULT_PATH_PREFIX" envDefault:"aurora" desc:"Path under the KV mount where Aurora keeps its secrets, one entry per value at <prefix>/<org id>/<id>."`
}

// ObjectStorage configures S3-compatible object storage (internal/blob).
type ObjectStorage struct {
	Bucket       string        `env:"STORAGE_BUCKET" desc:"Bucket for knowledge-base files and attachments; unset stores them under AURORA_DATA_DIR."`
	EndpointURL  string        `env:"STORAGE_ENDPOINT_URL" check:"url=http|https" desc:"S3-compatible endpoint URL (MinIO, R2, GCS interoperability); unset means AWS S3."`
	AccessKey    string        `env:"STORAGE_ACCESS_KEY" secret:"true" desc:"Object storage access key."`
	SecretKey    string        `env:"STORAGE_SECRET_KEY" secret:"true" desc:"Object storage secret key."`
	Region       string        `env:"STORAGE_REGION" desc:"Object storage region."`
	UseSSL       bool          `env:"STORAGE_USE_SSL" envDefault:"true" desc:"Use TLS to reach the object storage endpoint."`
	CacheEnabled bool          `env:"STORAGE_CACHE_ENABLED" envDefault:"true" desc:"Cache object storage listings (in Redis when REDIS_URL is set, else in process); a write through any replica invalidates them."`
	CacheTTL     time.Duration `env:"STORAGE_CACHE_TTL" envDefault:"300" unit:"seconds" desc:"Lifetime of cached object storage listings, in seconds."`
}

// SetupCache configures how long toolset clients are reused.
type SetupCache struct {
	Enabled bool          `env:"AURORA_SETUP_CACHE_ENABLED" envDefault:"true" desc:"Reuse each org's toolset clients (Kubernetes, Prometheus) between investigations; a settings change through any replica rebuilds them at once."`
	TTL     time.Duration `env:"AURORA_SETUP_CACHE_TTL" envDefault:"300" unit:"seconds" desc:"Longest a toolset client is reused, in seconds, so credentials changed outside Aurora are picked up."`
}

// LLM configures the optional language-model agent (docs/llm.md).
type LLM struct {
	ProviderMode        string  `env:"LLM_PROVIDER_MODE" desc:"Which provider serves the models: auto (unset), direct (by the model's provider/ prefix), openrouter (everything through OpenRouter), or one of openai, ollama, anthropic, gemini for all."`
	MainModel           string  `env:"MAIN_MODEL" desc:"Model for chat and general agent work."`
	RCAModel            string  `env:"RCA_MODEL" desc:"Model for root-cause analysis."`
	SummarizationModel  string  `env:"SUMMARIZATION_MODEL" desc:"Model for summaries and postmortems."`
	RCAOptimizeCosts    bool    `env:"RCA_OPTIMIZE_COSTS" envDefault:"false" desc:"Prefer cheaper models and fewer steps for RCAs."`
	AgentRecursionLimit int     `env:"AGENT_RECURSION_LIMIT" envDefault:"240" check:"min=1" desc:"Most agent steps (model calls plus tool calls) in one investigation or chat turn; the last offers no tools and asks for the report or answer."`
	RCATokenBudget      int     `env:"RCA_TOKEN_BUDGET" envDefault:"0" check:"min=0" desc:"Most LLM tokens (input plus output) one investigation may use; reached, it completes with the deterministic report and says why. 0 means no limit."`
	RCACostBudgetUSD    float64 `env:"RCA_COST_BUDGET_USD" envDefault:"0" check:"min=0" desc:"Most LLM spend in US dollars for one investigation, from the model prices; reached, it completes with the deterministic report and says why. 0 means no limit."`
	DailyBudgetUSD      float64 `env:"LLM_DAILY_BUDGET_USD" envDefault:"0" check:"min=0" desc:"Most LLM spend in US dollars per org per UTC day, shared by all replicas (stored in the database); reached, investigations use the deterministic report. 0 means no limit."`
	OpenAIAPIKey        string  `env:"OPENAI_API_KEY" secret:"true" desc:"OpenAI (or OpenAI-compatible) API key."`
	AnthropicAPIKey     string  `env:"ANTHROPIC_API_KEY" secret:"true" desc:"Anthropic API key."`
	GoogleAIAPIKey      string  `env:"GOOGLE_AI_API_KEY" secret:"true" desc:"Google AI (Gemini) API key."`
	OpenRouterAPIKey    string  `env:"OPENROUTER_API_KEY" secret:"true" desc:"OpenRouter API key."`
	OpenAIBaseURL       string  `env:"OPENAI_BASE_URL" check:"url=http|https" desc:"Base URL of an OpenAI-compatible API (vLLM, llama.cpp, a proxy)."`
	OllamaBaseURL       string  `env:"OLLAMA_BASE_URL" check:"url=http|https" desc:"Base URL of an Ollama server."`
	AnthropicBaseURL    string  `env:"ANTHROPIC_BASE_URL" check:"url=http|https" desc:"Base URL of the Anthropic API or a proxy."`

	// Model prices and call bounds (internal/llm).
	Prices  string        `env:"LLM_PRICES" desc:"JSON object of model prices in US dollars per million tokens, overriding the built-in table: {\"model\":{\"input_per_mtok\":1,\"output_per_mtok\":2,\"cached_input_per_mtok\":0.1}}."`
	Timeout time.Duration `env:"LLM_TIMEOUT" desc:"Longest one attempt of a model call may take before it is retried; unset means 2m."`
}

// Embedding configures how knowledge-base text is embedded
// (docs/knowledge-base.md#embeddings).
type Embedding struct {
	Provider string `env:"EMBEDDING_PROVIDER" check:"oneof=|builtin|t2v-transformers|openai|ollama" desc:"Embedding provider: builtin (offline, the default when unset), t2v-transformers, openai (any OpenAI-compatible /v1/embeddings) or ollama. Changing provider or model re-indexes the knowledge base."`
	Model    string `env:"EMBEDDING_MODEL" desc:"Embedding model: required for openai and ollama; for t2v-transformers it only names the vector space (the container serves one model); empty for builtin."`
	URL      string `env:"EMBEDDING_URL" check:"url=http|https" desc:"Base URL of the embedding service; required for t2v-transformers, openai and ollama (never guessed)."`
	APIKey   string `env:"EMBEDDING_API_KEY" secret:"true" desc:"Bearer token sent to an OpenAI-compatible embedding service."`
}

// KnowledgeBase configures document ingestion (docs/knowledge-base.md).
type KnowledgeBase struct {
	ChunkSize      int `env:"KB_CHUNK_SIZE" envDefault:"1500" check:"min=200" desc:"Longest passage, in bytes, a knowledge-base document is cut into; passages never cross a heading."`
	ChunkOverlap   int `env:"KB_CHUNK_OVERLAP" envDefault:"200" check:"min=0" desc:"Bytes consecutive passages of one long section share, so a sentence cut at a boundary is whole in one of them; less than half of KB_CHUNK_SIZE."`
	MaxUploadBytes int `env:"KB_MAX_UPLOAD_BYTES" envDefault:"20971520" check:"min=1" desc:"Largest knowledge-base file accepted (API, CLI and UI); larger uploads get 413."`
}

// Toolsets configures where investigations gather evidence.
type Toolsets struct {
	Kubeconfig    string   `env:"KUBECONFIG" desc:"Kubeconfig file for the Kubernetes toolset; unset inside a cluster uses the pod's service account."`
	KubeContexts  []string `env:"AURORA_KUBE_CONTEXTS" desc:"Kubeconfig contexts to investigate, comma-separated, one cluster each (the first is the default); unset means the current context."`
	PrometheusURL string   `env:"PROMETHEUS_URL" check:"url=http|https" desc:"Prometheus-compatible query API for the metrics toolset."`
	// Credentials sent to PROMETHEUS_URL's host: a bearer token, or basic auth.
	PrometheusBearerToken string `env:"PROMETHEUS_BEARER_TOKEN" secret:"true" desc:"Bearer token sent to PROMETHEUS_URL's host."`
	PrometheusUsername    string `env:"PROMETHEUS_USERNAME" desc:"Basic-auth user for PROMETHEUS_URL (with PROMETHEUS_PASSWORD); not together with PROMETHEUS_BEARER_TOKEN."`
	PrometheusPassword    string `env:"PROMETHEUS_PASSWORD" secret:"true" desc:"Basic-auth password for PROMETHEUS_URL."`
	SearXNGURL            string `env:"SEARXNG_URL" check:"url=http|https" desc:"SearXNG instance whose JSON API (json in its search.formats) gives investigations and chat the web.search tool; unset disables web search."`
}

// Load reads every variable through getenv (os.LookupEnv when nil), applies
// defaults, and validates the result. The error names every invalid
// variable, not just the first, so one restart fixes them all. An empty
// value counts as unset, as compose files often write FOO= to mean "default".
func Load(getenv func(string) (string, bool)) (*Config, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	c := &Config{}
	raw, probs, err := parse(c, getenv)
	if err != nil {
		return nil, err
	}
	failed := map[string]bool{}
	for _, p := range probs {
		failed[p.Name] = true
	}
	for _, p := range c.problems(raw) {
		// A variable that did not parse holds a zero value; judging that
		// again would only repeat the complaint in other words.
		if !failed[p.Name] {
			probs = append(probs, p)
		}
	}
	if len(probs) > 0 {
		return nil, newError(probs)
	}
	return c, nil
}

// MapLookup adapts a map to Load's lookup function, for tests and for
// layering command-line flags over the environment.
func MapLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// Validate reports every invalid field of c, including rules that span
// variables. Load already calls it; call it again after changing fields.
func (c *Config) Validate() error {
	if probs := c.problems(nil); len(probs) > 0 {
		return newError(probs)
	}
	return nil
}

// Embedded reports whether Aurora runs on SQLite in the data directory,
// which it does unless DATABASE_URL or POSTGRES_HOST points at PostgreSQL.
func (c *Config) Embedded() bool {
	return c.Database.URL == "" && c.Database.Host == ""
}

// PostgresURL is the PostgreSQL connection URL: DATABASE_URL when set, else
// one built from the POSTGRES_* variables, or "" in embedded mode.
func (c *Config) PostgresURL() string {
	d := c.Database
	if d.URL != "" {
		return d.URL
	}
	if d.Host == "" {
		return ""
	}
	return c.buildPostgresURL(d.Host)
}

// PostgresReadURL is the first of PostgresReadURLs, or "" when no replica
// is configured.
func (c *Config) PostgresReadURL() string {
	if urls := c.PostgresReadURLs(); len(urls) > 0 {
		return urls[0]
	}
	return ""
}

// PostgresReadURLs are the read replicas' URLs: PostgresURL with the host
// replaced by each of POSTGRES_READ_REPLICA_HOST's comma-separated hosts
// (a host's own :port wins over POSTGRES_READ_REPLICA_PORT, which wins over
// the primary's port) and the POSTGRES_READ_REPLICA_USER, _PASSWORD and
// _SSLMODE overrides applied.
func (c *Config) PostgresReadURLs() []string {
	d := c.Database
	if d.ReadReplicaHost == "" || c.Embedded() {
		return nil
	}
	u, err := url.Parse(c.PostgresURL())
	if err != nil {
		return nil
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	if d.ReadReplicaPort > 0 {
		port = strconv.Itoa(d.ReadReplicaPort)
	}
	if d.ReadReplicaUser != "" || d.ReadReplicaPassword != "" {
		user := d.ReadReplicaUser
		if user == "" && u.User != nil {
			user = u.User.Username()
		}
		pw, _ := u.User.Password()
		if d.ReadReplicaPassword != "" {
			pw = d.ReadReplicaPassword
		}
		u.User = url.User(user)
		if pw != "" {
			u.User = url.UserPassword(user, pw)
		}
	}
	if d.ReadReplicaSSLMode != "" {
		q := u.Query()
		q.Set("sslmode", d.ReadReplicaSSLMode)
		u.RawQuery = q.Encode()
	}
	var out []string
	for h := range strings.SplitSeq(d.ReadReplicaHost, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		r := *u
		r.Host = withPort(h, port)
		out = append(out, r.String())
	}
	return out
}

func (c *Config) buildPostgresURL(host string) string {
	d := c.Database
	u := url.URL{
		Scheme:   "postgres",
		Host:     withPort(host, strconv.Itoa(d.Port)),
		Path:     "/" + d.Name,
		RawPath:  "/" + url.PathEscape(d.Name),
		RawQuery: url.Values{"sslmode": {d.SSLMode}}.Encode(),
	}
	if d.Password != "" {
		u.User = url.UserPassword(d.User, d.Password)
	} else if d.User != "" {
		u.User = url.User(d.User)
	}
	return u.String()
}

// withPort appends port unless host already carries one, so a replica on a
// different port can be written as "replica:6432".
func withPort(host, port string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port)
}

// PublicURL is the base URL Aurora uses in links to itself, without a
// trailing slash. Unset, it is derived from AURORA_HTTP_ADDR, with wildcard
// listen addresses shown as localhost since they cannot be browsed to.
func (c *Config) PublicURL() string {
	if c.Server.PublicURL != "" {
		return strings.TrimRight(c.Server.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(c.Server.HTTPAddr)
	if err != nil {
		return ""
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// SecretKeys parses AURORA_SECRET_KEY; the first key encrypts, all decrypt.
// It returns nil and no error when the variable is unset.
func (c *Config) SecretKeys() ([]Key, error) {
	if c.Security.SecretKey == "" {
		return nil, nil
	}
	return ParseKeyRing(c.Security.SecretKey)
}

// Chat limits the chat service (aurora chatbot, and all); see
// docs/chat-protocol.md.
type Chat struct {
	MaxMessageBytes ByteSize      `env:"AURORA_CHAT_MAX_MESSAGE_BYTES" envDefault:"16KiB" check:"min=1" desc:"Largest frame a chat client may send; a larger one closes its connection (1009)."`
	RateLimit       int           `env:"AURORA_CHAT_RATE_LIMIT" envDefault:"20" check:"min=0" desc:"Chat questions per user per minute, counted across replicas (Redis, else the database). 0: no limit."`
	IdleTimeout     time.Duration `env:"AURORA_CHAT_IDLE_TIMEOUT" envDefault:"90s" check:"positive" desc:"A chat connection that sends nothing for this long is closed; clients send ping every 30s."`
	ConfirmTimeout  time.Duration `env:"AURORA_CHAT_CONFIRM_TIMEOUT" envDefault:"5m" check:"positive" desc:"How long a proposed change waits for a human's confirm before it counts as no."`
	Retention       time.Duration `env:"AURORA_CHAT_RETENTION" envDefault:"2160h" desc:"Delete chat sessions with no activity for this long; 0 keeps them forever."`
}
