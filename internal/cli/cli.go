// Package cli implements the aurora command: the roles (all, server,
// worker, scheduler), migrate, version, config and management commands.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/oklog/run"

	"github.com/aurora-oss/aurora/internal/api"
	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/chat"
	"github.com/aurora-oss/aurora/internal/config"
	"github.com/aurora-oss/aurora/internal/jobs"
	"github.com/aurora-oss/aurora/internal/sns"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/web"
	"github.com/aurora-oss/aurora/internal/webhook"
)

// Version is set at build time with -ldflags "-X .../cli.Version=…".
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if len(rev) > 12 {
			return "dev-" + rev[:12] + dirty
		}
	}
	return "dev"
}

const usage = `Usage: aurora [command] [flags]

Roles:
  all          every role in one process (the default; SQLite unless PostgreSQL is configured)
  server       REST API, webhooks, live events (PostgreSQL only)
  worker       investigations and maintenance jobs (PostgreSQL only)
  scheduler    enqueues periodic jobs; any number of replicas (PostgreSQL only)
  chatbot      chat WebSocket (/ws); any number of replicas (PostgreSQL only)

Other commands:
  migrate                                     apply database migrations and exit
  version                                     print the version
  config                                      print the effective configuration (secrets redacted)
  integrations create --source S --name N     create a webhook integration; prints its token once
  tokens create --role R [--name N]           create an API token; prints it once
  users create --email E --role R [--password P]
  secrets migrate --to vault|local             move every stored secret to Vault or back into the database
  secrets rotate                              re-encrypt local secrets with the first AURORA_SECRET_KEY key
  bench ingest [flags]                        load-test alert intake against a running Aurora
  bench chat --connections N                  open N idle chat connections to a chatbot; print held count and its memory
  bench load [flags]                          k6's load stages, scaled down, against /health, the API and webhooks
  investigate --bundle DIR [--format F]       investigate an evidence bundle offline (json or markdown)
  snapshot [KIND/NAME] --out DIR [--namespace NS] [--context C]
                                              write an evidence bundle from a live cluster (read-only)
  eval DIR…                                   run scenario bundles against their expected.json
  kb add [--tags T] [--source-url U] PATH…   add or replace knowledge-base files (folders too)
  kb search QUERY…                            search the knowledge base (hybrid)
  kb eval [--dir DIR]                         knowledge-base retrieval quality: recall@5 and MRR per embedder and mode

Configuration comes from environment variables: see docs/configuration.md.
`

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) (string, bool)) int {
	cmd := "all"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "version":
		fmt.Fprintln(stdout, "aurora", version())
		return 0
	case "bench":
		return benchMain(ctx, args, stdout, stderr)
	case "investigate":
		return investigateMain(ctx, args, stdout, stderr)
	case "snapshot":
		return snapshotMain(ctx, args, stdout, stderr, func(k string) string { v, _ := getenv(k); return v })
	case "eval":
		return evalMain(ctx, args, stdout, stderr)
	}
	var addr string
	if cmd == "all" || cmd == "server" || cmd == "chatbot" {
		fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.StringVar(&addr, "addr", "", "listen address (overrides AURORA_HTTP_ADDR)")
		if err := fs.Parse(args); err != nil {
			return 2
		}
		args = fs.Args()
	}
	env := getenv
	if addr != "" {
		env = func(k string) (string, bool) {
			if k == "AURORA_HTTP_ADDR" {
				return addr, true
			}
			return getenv(k)
		}
	}
	cfg, err := config.Load(env)
	if err != nil {
		fmt.Fprintln(stderr, "aurora:", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	switch cmd {
	case "config":
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		for _, s := range cfg.Redacted() {
			fmt.Fprintf(w, "%s\t%s\n", s.Name, s.Value)
		}
		w.Flush()
		return 0
	case "all", "server", "worker", "scheduler", "chatbot":
		if len(args) > 0 {
			fmt.Fprintf(stderr, "aurora %s: unexpected arguments %q\n", cmd, args)
			return 2
		}
		if cmd != "all" && cfg.Embedded() {
			fmt.Fprintf(stderr, "aurora %s: separate role processes need PostgreSQL (set DATABASE_URL or POSTGRES_HOST).\n"+
				"SQLite is single-process: run `aurora` (all roles in one process) instead.\n", cmd)
			return 2
		}
		if err := runRoles(ctx, cfg, log, stdout, cmd); err != nil {
			log.Error("aurora stopped with an error", "err", err)
			return 1
		}
		return 0
	case "migrate":
		a, err := open(ctx, cfg, log, stdout, "migrate", false)
		if err != nil {
			log.Error("migrate failed", "err", err)
			return 1
		}
		a.close()
		fmt.Fprintln(stdout, "migrations applied")
		return 0
	case "integrations", "tokens", "users":
		return manage(ctx, cfg, log, stdout, stderr, cmd, args)
	case "secrets":
		return secretsMain(ctx, cfg, log, stdout, stderr, args)
	case "kb":
		if len(args) > 0 && args[0] == "eval" {
			return kbEvalMain(ctx, cfg, args[1:], stdout, stderr)
		}
		return kbMain(ctx, cfg, log, args, stdout, stderr)
	}
	fmt.Fprintf(stderr, "aurora: unknown command %q\n\n%s", cmd, usage)
	return 2
}

// runRoles runs the roles of cmd as actors of one run group: when any stops,
// all stop, in order (HTTP drains first, then workers hand jobs back).
func runRoles(ctx context.Context, cfg *config.Config, log *slog.Logger, out io.Writer, cmd string) error {
	serve := cmd == "all" || cmd == "server"
	work := cmd == "all" || cmd == "worker"
	schedule := cmd == "all" || cmd == "scheduler"
	chatting := cmd == "all" || cmd == "chatbot"
	a, err := open(ctx, cfg, log, out, cmd, work)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.bootstrap(ctx); err != nil {
		return fmt.Errorf("first-start set-up: %w", err)
	}
	log.Info("aurora starting", "role", cmd, "version", version(), "database", dbName(a), "process", a.processID)
	var g run.Group
	{
		ctx, cancel := context.WithCancel(ctx)
		g.Add(func() error { <-ctx.Done(); return nil }, func(error) { cancel() })
	}
	// On PostgreSQL every role that writes events numbers them in commit
	// order (see storage.Store.SequenceEvents).
	if !cfg.Embedded() {
		ctx, cancel := context.WithCancel(context.Background())
		g.Add(func() error { a.store.RunSequencer(ctx, log, a.bus.Notify); return nil }, func(error) { cancel() })
	}
	// Live-event (and chat frame) wake-ups from other replicas. Every
	// event commit also NOTIFYs on PostgreSQL, so LISTEN runs even with
	// Redis: while Redis is down wake-ups still cross replicas.
	if (serve || chatting) && !cfg.Embedded() {
		if a.redis != nil {
			ctx, cancel := context.WithCancel(context.Background())
			g.Add(func() error { return a.bus.ListenRedis(ctx) }, func(error) { cancel() })
		}
		// LISTEN holds session state: never through a transaction pooler.
		ctx, cancel := context.WithCancel(context.Background())
		g.Add(func() error { return a.bus.ListenPostgres(ctx, a.db.DirectURL()) }, func(error) { cancel() })
	}
	{
		checks := []api.Check{{Name: "database", Fn: a.db.Ping}, {Name: "queue", Fn: func(ctx context.Context) error {
			_, err := a.store.QueueCounts(ctx)
			return err
		}}}
		if a.redis != nil {
			// Without Redis, rate limits count in the database and wake-ups
			// fall back to polling: degraded, still ready.
			checks = append(checks, api.Check{Name: "redis", Degraded: true, Fn: func(ctx context.Context) error { return a.redis.Ping(ctx).Err() }})
		}
		if len(a.db.Replicas()) > 0 {
			checks = append(checks, api.Check{Name: "database_replicas", Degraded: true, Fn: a.db.ReplicaCheck})
		}
		// The SNS signing certificate is trusted because it is fetched over
		// verified HTTPS from an SNS host, as AWS's own SDK validators do;
		// AWS serves no chain with it, and walking to a root would need
		// outbound access to certificate issuers' hosts.
		opts := api.Options{Store: a.store, Incidents: a.incidents, Secrets: a.secrets, SNS: &sns.Verifier{SkipChainVerify: true}, Bus: a.bus, Metrics: a.metrics, Log: log,
			PublicURL: cfg.PublicURL(), MaxBodyBytes: int64(cfg.Intake.MaxBodyBytes), Checks: checks, Pprof: cfg.Server.Pprof, Version: version()}
		opts.ChatURL = cfg.Server.ChatURL
		opts.Toolsets = a.toolsets
		opts.LLM = a.llm
		opts.KB = a.kb
		// Workers and schedulers serve only health and metrics.
		h := api.NewOps(opts)
		if serve {
			// The web UI is served next to the API; the API also accepts
			// its session cookie (with a CSRF token on writes).
			ui, err := web.New(web.Options{Store: a.store, Log: log, PublicURL: cfg.PublicURL(), SessionTTL: cfg.Server.SessionTTL,
				ChatURL: cfg.Server.ChatURL, Version: version(), APIRoutes: api.Routes()})
			if err != nil {
				return err
			}
			opts.UI, opts.Sessions = ui, ui
			h = api.New(opts)
		}
		ln, err := net.Listen("tcp", cfg.Server.HTTPAddr)
		if err != nil {
			return fmt.Errorf("AURORA_HTTP_ADDR: listen on %s: %w", cfg.Server.HTTPAddr, err)
		}
		var handler http.Handler = h
		var cs *chat.Server
		if chatting {
			cs = a.chatServer()
			handler = withChat(h, cs)
		}
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
		srv.RegisterOnShutdown(h.CloseStreams)
		if cs != nil {
			srv.RegisterOnShutdown(cs.CloseAll)
		}
		g.Add(func() error {
			log.Info("listening", "addr", ln.Addr().String(), "url", cfg.PublicURL())
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		}, func(error) {
			sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				log.Warn("http shutdown", "err", err)
				srv.Close()
			}
		})
	}
	if work {
		ctx, cancel := context.WithCancel(context.Background())
		g.Add(func() error {
			if err := a.queue.Client.Start(ctx); err != nil {
				return fmt.Errorf("start job queue: %w", err)
			}
			<-a.queue.Client.Stopped()
			return nil
		}, func(error) {
			// Let running jobs finish; past the timeout, cancel them so River
			// marks them for retry and another worker resumes them.
			sctx, scancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
			defer scancel()
			if err := a.queue.Client.Stop(sctx); err != nil {
				log.Warn("jobs did not finish in time; handing them back", "err", err)
				hctx, hcancel := context.WithTimeout(context.Background(), 10*time.Second)
				_ = a.queue.Client.StopAndCancel(hctx)
				hcancel()
			}
			cancel()
		})
	}
	if schedule {
		ctx, cancel := context.WithCancel(context.Background())
		s := &jobs.Scheduler{Store: a.store, Queue: a.queue, Holder: a.processID, Interval: cfg.Jobs.SchedulerInterval, Log: log,
			OnLeader: func(l bool) {
				v := 0.0
				if l {
					v = 1
				}
				a.metrics.SchedulerLeader.Set(v)
			}}
		g.Add(func() error { return s.Run(ctx) }, func(error) { cancel() })
	}
	err = g.Run()
	log.Info("aurora stopped", "role", cmd)
	return err
}

func dbName(a *app) string {
	if a.db.Dialect == storage.SQLite {
		return "sqlite:" + a.db.Path()
	}
	return "postgres:" + redactURL(a.cfg.PostgresURL())
}

// manage runs the management commands.
func manage(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout, stderr io.Writer, cmd string, args []string) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintf(stderr, "usage: aurora %s create …\n", cmd)
		return 2
	}
	fs := flag.NewFlagSet(cmd+" create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	source := fs.String("source", "", "integrations: "+strings.Join(webhook.Sources(), ", "))
	name := fs.String("name", "", "integrations, tokens: a name")
	role := fs.String("role", "", "tokens, users: viewer, editor or admin")
	email := fs.String("email", "", "users: email address")
	password := fs.String("password", "", "users: password (generated and printed when empty)")
	secretFlag := fs.String("signing-secret", "", "integrations: the sender's signing secret, when the source signs requests")
	settingsFlag := fs.String("settings", "", `integrations: settings as JSON, e.g. {"topic_arns":["arn:aws:sns:…"]}`)
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	// Validate before touching the database.
	var r auth.Role
	var err error
	switch cmd {
	case "integrations":
		if *source == "" || *name == "" {
			fmt.Fprintln(stderr, "aurora integrations create: --source and --name are required")
			return 2
		}
		if !contains(webhook.Sources(), *source) {
			fmt.Fprintf(stderr, "aurora integrations create: unknown source %q (known: %s)\n", *source, strings.Join(webhook.Sources(), ", "))
			return 2
		}
	case "tokens", "users":
		if r, err = auth.ParseRole(*role); err != nil {
			fmt.Fprintf(stderr, "aurora %s create: --role: %v\n", cmd, err)
			return 2
		}
		if cmd == "users" && !strings.Contains(*email, "@") {
			fmt.Fprintln(stderr, "aurora users create: --email must be an email address")
			return 2
		}
	}
	a, err := open(ctx, cfg, log, stdout, "cli", false)
	if err != nil {
		log.Error("open storage", "err", err)
		return 1
	}
	defer a.close()
	switch cmd {
	case "integrations":
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "/", nil)
		srv := api.New(api.Options{Store: a.store, Secrets: a.secrets, Metrics: a.metrics, Log: log, PublicURL: cfg.PublicURL(), Bus: a.bus})
		var settings map[string]any
		if *settingsFlag != "" {
			if err := json.Unmarshal([]byte(*settingsFlag), &settings); err != nil {
				fmt.Fprintln(stderr, "aurora integrations create: --settings must be a JSON object:", err)
				return 2
			}
		}
		v, err := api.CreateIntegration(req, srv, a.org.ID, api.IntegrationInput{Source: *source, Name: *name, SigningSecret: *secretFlag, Settings: settings})
		if err != nil {
			fmt.Fprintln(stderr, "aurora integrations create:", err)
			return 1
		}
		fmt.Fprintf(stdout, "integration %s created (id %s)\nwebhook URL: %s\ntoken (shown once): %s\n", v.Name, v.ID, v.WebhookURL, v.Token)
	case "tokens":
		if *name == "" {
			*name = string(r) + " token"
		}
		tok := auth.NewToken(auth.APITokenPrefix)
		t, err := a.store.CreateAPIToken(ctx, a.org.ID, *name, string(r), auth.HashToken(tok))
		if err != nil {
			fmt.Fprintln(stderr, "aurora tokens create:", err)
			return 1
		}
		fmt.Fprintf(stdout, "token %q (%s, id %s), shown once:\n%s\n", t.Name, t.Role, t.ID, tok)
	case "users":
		pw := *password
		if pw == "" {
			pw = auth.RandomPassword()
			fmt.Fprintf(stdout, "generated password (shown once): %s\n", pw)
		}
		hash, err := auth.HashPassword(pw)
		if err != nil {
			fmt.Fprintln(stderr, "aurora users create: --password:", err)
			return 2
		}
		u, err := a.store.CreateUser(ctx, storage.User{OrgID: a.org.ID, Email: *email, Role: string(r), PasswordHash: hash})
		if err != nil {
			fmt.Fprintln(stderr, "aurora users create:", err)
			return 1
		}
		fmt.Fprintf(stdout, "user %s created (%s, id %s)\n", u.Email, u.Role, u.ID)
	}
	return 0
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
