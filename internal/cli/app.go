package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aurora-oss/aurora/internal/agent"
	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/config"
	"github.com/aurora-oss/aurora/internal/event"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/investigate"
	"github.com/aurora-oss/aurora/internal/jobs"
	"github.com/aurora-oss/aurora/internal/kb/kbtool"
	"github.com/aurora-oss/aurora/internal/kb/library"
	"github.com/aurora-oss/aurora/internal/llm"
	"github.com/aurora-oss/aurora/internal/metric"
	"github.com/aurora-oss/aurora/internal/redact"
	"github.com/aurora-oss/aurora/internal/redisx"
	"github.com/aurora-oss/aurora/internal/secret"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/toolconfig"
	"github.com/aurora-oss/aurora/internal/toolset"
	"github.com/aurora-oss/aurora/internal/toolset/kubernetes"
)

// app is the wiring shared by every command.
type app struct {
	cfg       *config.Config
	log       *slog.Logger
	out       io.Writer
	db        *storage.DB
	store     *storage.Store
	secrets   *secret.Store
	redis     redis.UniversalClient
	redisx    *redisx.Client // a.redis with its reachability; nil without Redis
	bus       *event.Bus
	metrics   *metric.Metrics
	incidents *incident.Service
	runner    *investigate.Runner
	toolsets  *toolconfig.Service
	// webSearch is web.search over SEARXNG_URL (nil: not configured).
	webSearch *toolset.SearXNG
	// llm routes model calls (nil: no model configured); redact removes
	// secrets, the configured provider keys included, from model input.
	llm       *llm.Router
	redact    func(string) string
	queue     *jobs.Queue
	processID string
	org       storage.Org
	// kb is the knowledge base; kbReindex is set when the embedder changed
	// and every document must be indexed again (see wireKB).
	kb        *library.Service
	kbReindex bool
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.Server.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.Server.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func processID(role string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%s-%d-%s", role, host, os.Getpid(), auth.RandomPassword()[:6])
}

// open connects storage, migrates and builds the domain services.
func open(ctx context.Context, cfg *config.Config, log *slog.Logger, out io.Writer, role string, work bool) (*app, error) {
	a := &app{cfg: cfg, log: log, out: out, processID: processID(role)}
	db, err := storage.Open(ctx, storage.Options{PostgresURL: cfg.PostgresURL(), ReadReplicaURLs: cfg.PostgresReadURLs(),
		ReplicaMaxLag: cfg.Database.ReplicaMaxLag, DirectURL: cfg.Database.DirectURL, Log: log,
		DataDir: cfg.Server.DataDir, PoolMin: cfg.Database.PoolMin, PoolMax: cfg.Database.PoolMax, PoolMaxIdle: cfg.Database.PoolMaxIdle})
	if err != nil {
		return nil, err
	}
	a.db = db
	if err := db.Migrate(ctx, log); err != nil {
		db.Close()
		return nil, err
	}
	a.store = storage.NewStore(db)
	keys, err := a.secretKeys()
	if err != nil {
		db.Close()
		return nil, err
	}
	kr, err := secret.NewKeyring(keys)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("AURORA_SECRET_KEY: %w", err)
	}
	a.secrets = &secret.Store{Keys: kr, Backend: a.store}
	if cfg.Vault.Addr != "" {
		v := cfg.Vault
		if a.secrets.Vault, err = secret.NewVault(ctx, secret.VaultConfig{Addr: v.Addr, Token: v.Token, RoleID: v.RoleID, SecretID: v.SecretID,
			AppRoleMount: v.AppRoleMount, Mount: v.KVMount, Prefix: v.PathPrefix}); err != nil {
			db.Close()
			return nil, fmt.Errorf("VAULT_ADDR: %w", err)
		}
	}
	if cfg.Redis.URL != "" {
		rdb, err := redisx.New(cfg.Redis.URL, redisx.TLS{CACerts: cfg.Redis.SSLCACerts, CertReqs: cfg.Redis.SSLCertReqs})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		a.redis, a.redisx = rdb, rdb
	}
	a.bus = event.NewBus(a.redis, log)
	a.org, err = a.store.EnsureDefaultOrg(ctx)
	if err != nil {
		a.close()
		return nil, err
	}
	rules := incident.DefaultRules(cfg.Intake.CorrelationWindow)
	if cfg.Intake.CorrelationRules != "" {
		if rules, err = incident.ParseRules(cfg.Intake.CorrelationRules, cfg.Intake.CorrelationWindow); err != nil {
			a.close()
			return nil, fmt.Errorf("AURORA_CORRELATION_RULES: %w", err)
		}
	}
	investigateSev := map[alert.Severity]bool{}
	for _, s := range cfg.Intake.InvestigateSeverities {
		investigateSev[alert.Severity(s)] = true
	}
	a.metrics = metric.New(a.store, func() float64 { return float64(a.bus.Subscribers()) })
	if a.redisx != nil {
		a.metrics.RegisterRedis(a.redisx.Up)
	}
	a.incidents = &incident.Service{Store: a.store, Cfg: incident.Config{Rules: rules, ReopenWindow: cfg.Intake.ReopenWindow, Investigate: investigateSev, RateLimit: cfg.Intake.InvestigationRateLimit},
		Notify: a.bus.Notify, Now: time.Now}
	env, err := toolEnv(cfg)
	if err != nil {
		a.close()
		return nil, err
	}
	a.toolsets = toolconfig.New(a.store, a.secrets, env)
	// Toolset clients are built per org and reused for
	// AURORA_SETUP_CACHE_TTL; disabled, every lookup builds them afresh.
	a.toolsets.CacheTTL = cfg.SetupCache.TTL
	if !cfg.SetupCache.Enabled {
		a.toolsets.CacheTTL = time.Nanosecond
	}
	a.toolsets.CountLookups(a.metrics.CacheRequests)
	if u := cfg.Toolsets.SearXNGURL; u != "" {
		if a.webSearch, err = toolset.NewSearXNG(u, nil); err != nil {
			a.close()
			return nil, fmt.Errorf("SEARXNG_URL: %w", err)
		}
	}
	// Tools are the default org's (its settings, else the environment's)
	// for callers that name no org; each investigation resolves its own
	// org's through ToolsFor.
	envTools, err := a.toolsets.Resolve(ctx, a.org.ID)
	if err != nil {
		a.close()
		return nil, err
	}
	a.runner = &investigate.Runner{Store: a.store, Notify: a.bus.Notify, Now: time.Now, Log: log, StepDelay: cfg.Jobs.DebugStepDelay, Tools: envTools.Tools, ToolsFor: a.toolsFor}
	if err := a.wireAgent(cfg, log); err != nil {
		a.close()
		return nil, err
	}
	if err := a.wireKB(ctx, work); err != nil {
		a.close()
		return nil, err
	}
	if cfg.Jobs.RescueAfter <= cfg.Jobs.JobTimeout {
		a.close()
		return nil, errors.New("AURORA_JOB_RESCUE_AFTER must be greater than AURORA_JOB_TIMEOUT")
	}
	a.queue, err = jobs.New(db, jobs.Options{ProcessID: a.processID, Work: work, Concurrency: cfg.Jobs.WorkerConcurrency,
		JobTimeout: cfg.Jobs.JobTimeout, RescueAfter: cfg.Jobs.RescueAfter, Log: log, Runner: a.runner, Incidents: a.incidents, Store: a.store,
		RawRetention: cfg.Intake.RawPayloadRetention, EventRetention: 7 * 24 * time.Hour, AutoResolveAfter: cfg.Intake.AutoResolveAfter,
		OnInvestigation: func(outcome string, d time.Duration) {
			a.metrics.Investigations.WithLabelValues(outcome).Inc()
			a.metrics.InvestigationDuration.WithLabelValues(outcome).Observe(d.Seconds())
		}, Chat: a.chatRunner(), ChatRetention: cfg.Chat.Retention, KB: a.kb})
	if err != nil {
		a.close()
		return nil, err
	}
	a.incidents.Jobs = a.queue
	a.kb.Queue = a.queue
	if a.kbReindex {
		if err := a.kb.Reindex(ctx); err != nil {
			a.log.Error("knowledge base: re-index", "err", err)
		}
	}
	return a, nil
}

// secretKeys returns the configured key ring, or in embedded mode the key
// generated into the data dir.
func (a *app) secretKeys() ([]secret.Key, error) {
	keys, err := a.cfg.SecretKeys()
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		out := make([]secret.Key, len(keys))
		for i, k := range keys {
			out[i] = secret.Key{ID: k.ID, Bytes: k.Bytes}
		}
		return out, nil
	}
	if !a.cfg.Embedded() {
		return nil, errors.New("AURORA_SECRET_KEY: required when using PostgreSQL so every replica shares it")
	}
	k, created, err := secret.LoadOrCreateKeyFile(a.cfg.Server.DataDir)
	if err != nil {
		return nil, err
	}
	if created {
		a.log.Info("generated the secret encryption key", "file", a.cfg.Server.DataDir+"/secret.key", "hint", "back it up: stored credentials cannot be read without it")
	}
	return []secret.Key{k}, nil
}

func (a *app) close() {
	if a.redis != nil {
		a.redis.Close()
	}
	a.db.Close()
}

// bootstrap creates the first admin user and the admin token on first start.
func (a *app) bootstrap(ctx context.Context) error {
	cfg := a.cfg.Security
	users, err := a.store.ListUsers(ctx, a.org.ID)
	if err != nil {
		return err
	}
	if len(users) == 0 {
		pw, generated := cfg.AdminPassword, false
		if pw == "" {
			pw, generated = auth.RandomPassword(), true
		}
		hash, err := auth.HashPassword(pw)
		if err != nil {
			return fmt.Errorf("AURORA_ADMIN_PASSWORD: %w", err)
		}
		if _, err := a.store.CreateUser(ctx, storage.User{OrgID: a.org.ID, Email: cfg.AdminEmail, Role: string(auth.Admin), PasswordHash: hash}); err != nil && !errors.Is(err, storage.ErrConflict) {
			return err
		}
		if generated {
			fmt.Fprintf(a.out, "\n  First start: admin user created.\n    URL:      %s\n    email:    %s\n    password: %s\n  (shown once; set AURORA_ADMIN_PASSWORD to choose it)\n\n", a.cfg.PublicURL(), cfg.AdminEmail, pw)
		}
	}
	if cfg.AdminToken != "" {
		if _, err := a.store.APITokenByHash(ctx, auth.HashToken(cfg.AdminToken)); errors.Is(err, storage.ErrNotFound) {
			if _, err := a.store.CreateAPIToken(ctx, a.org.ID, "admin (AURORA_ADMIN_TOKEN)", string(auth.Admin), auth.HashToken(cfg.AdminToken)); err != nil && !errors.Is(err, storage.ErrConflict) {
				return err
			}
		} else if err != nil {
			return err
		}
		return nil
	}
	if !a.cfg.Embedded() {
		return nil
	}
	toks, err := a.store.ListAPITokens(ctx, a.org.ID)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		tok := auth.NewToken(auth.APITokenPrefix)
		if _, err := a.store.CreateAPIToken(ctx, a.org.ID, "admin (first start)", string(auth.Admin), auth.HashToken(tok)); err != nil {
			return err
		}
		fmt.Fprintf(a.out, "\n  First start: admin API token (shown once; set AURORA_ADMIN_TOKEN to choose it):\n    %s\n  Send a test alert:\n    curl -X POST %s/webhooks/generic -H 'Authorization: Bearer %s' \\\n      -H 'Content-Type: application/json' -d '{\"title\":\"Test alert\",\"severity\":\"warning\"}'\n\n",
			tok, a.cfg.PublicURL(), tok)
	}
	return nil
}

func redactURL(s string) string {
	if i := strings.Index(s, "@"); i > 0 {
		if j := strings.Index(s, "://"); j > 0 && j < i {
			return s[:j+3] + "…@" + s[i+1:]
		}
	}
	return s
}

// toolEnv reads the toolsets the environment configures: PROMETHEUS_URL
// (and its bearer token or basic auth);
// a kubeconfig (KUBECONFIG) and its contexts (AURORA_KUBE_CONTEXTS, one
// cluster each), or the pod's service account when Aurora runs in a
// cluster. It checks them without connecting.
func toolEnv(cfg *config.Config) (toolconfig.Env, error) {
	var env toolconfig.Env
	if u := cfg.Toolsets.PrometheusURL; u != "" {
		t := cfg.Toolsets
		pc := toolset.PrometheusConfig{URL: u, BearerToken: t.PrometheusBearerToken, Username: t.PrometheusUsername, Password: t.PrometheusPassword}
		if _, err := toolset.NewPrometheus(pc); err != nil {
			return env, fmt.Errorf("PROMETHEUS_URL / PROMETHEUS_BEARER_TOKEN / PROMETHEUS_USERNAME / PROMETHEUS_PASSWORD: %w", err)
		}
		env.Prometheus = &pc
	}
	kc := kubernetes.Config{Kubeconfig: cfg.Toolsets.Kubeconfig, Contexts: cfg.Toolsets.KubeContexts}
	if kc.Kubeconfig == "" && os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		if len(kc.Contexts) > 0 {
			return env, errors.New("AURORA_KUBE_CONTEXTS: contexts need a kubeconfig (KUBECONFIG); in a cluster the pod's service account has none")
		}
		kc.InCluster = true
	}
	if kc.Kubeconfig != "" || kc.InCluster {
		if _, err := kubernetes.Clusters(kc); err != nil {
			if len(kc.Contexts) > 0 {
				return env, fmt.Errorf("KUBECONFIG / AURORA_KUBE_CONTEXTS: %w", err)
			}
			return env, fmt.Errorf("KUBECONFIG: %w", err)
		}
		env.Kubernetes = &kc
	}
	return env, nil
}

// toolsFor gives the investigation runner each org's tools: its own
// toolset settings, else the environment's; the sources it cannot check
// say why (the runner adds the language model's entry).
func (a *app) toolsFor(ctx context.Context, orgID string) (*toolset.Registry, []investigate.NotChecked, error) {
	res, err := a.toolsets.Resolve(ctx, orgID)
	if err == nil {
		res, err = withWebSearch(res, a.webSearch)
	}
	if err != nil {
		return nil, nil, err
	}
	nc := []investigate.NotChecked{}
	for _, s := range investigate.Sources {
		switch s.Source {
		case toolconfig.Kubernetes, toolconfig.Prometheus:
			if why, ok := res.Unavailable[s.Source]; ok {
				nc = append(nc, investigate.NotChecked{Source: s.Source, Reason: why})
			}
		case "logs": // pod logs come through the Kubernetes toolset
			if _, ok := res.Unavailable[toolconfig.Kubernetes]; ok {
				nc = append(nc, s)
			}
		case "llm":
		case "knowledge_base", "past_incidents": // kb.search, below
		default:
			nc = append(nc, s)
		}
	}
	if a.kb == nil {
		return res.Tools, nc, nil
	}
	tools, err := kbtool.With(res.Tools, a.kb, orgID)
	if err != nil {
		return nil, nil, err
	}
	return tools, nc, nil
}

// wireAgent builds the model router once for the process and gives
// investigations the language-model agent when a model for root-cause
// analysis is configured; without one they stay deterministic. A bad LLM
// configuration stops start-up with an error naming the setting.
func (a *app) wireAgent(cfg *config.Config, log *slog.Logger) error {
	lc, err := llm.ConfigFrom(cfg.LLM)
	if err != nil {
		return err
	}
	router, err := llm.NewRouter(lc)
	if err != nil {
		return err
	}
	a.llm, a.redact = router, redact.New(lc.Secrets()...).Redact
	model, ok := router.Model(llm.PurposeRCA)
	if !ok {
		return nil
	}
	a.runner.Agent = agent.ForInvestigations(model, agent.Settings{RecursionLimit: cfg.LLM.AgentRecursionLimit, TokenBudget: cfg.LLM.RCATokenBudget,
		CostBudgetUSD: cfg.LLM.RCACostBudgetUSD, DailyBudgetUSD: cfg.LLM.DailyBudgetUSD}, investigate.Categories, a.redact, a.metrics)
	log.Info("investigations run the language-model agent", "model", model.Ref, "recursion_limit", cfg.LLM.AgentRecursionLimit)
	return nil
}
