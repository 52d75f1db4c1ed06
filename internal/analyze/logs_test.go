package analyze

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func logsItem(t *testing.T, id int, file string, args map[string]any) Item {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "logs", file))
	if err != nil {
		t.Fatal(err)
	}
	a := map[string]any{"pod": "app-7d9f-x2", "namespace": "shop", "container": "app"}
	for k, v := range args {
		a[k] = v
	}
	return Item{ID: id, Tool: "kubernetes.logs", Args: a, Output: string(b)}
}

func TestLogSignatures(t *testing.T) {
	prev := map[string]any{"previous": true}
	tests := []struct {
		file     string
		args     map[string]any
		category string
		culprit  string
		direct   bool
		minScore float64
		related  string
		inSumm   string
	}{
		{"env_envconfig.log", prev, CategoryMissingConfig, "DATABASE_URL", true, 0.85, "", `"DATABASE_URL"`},
		{"env_json.log", nil, CategoryMissingConfig, "REDIS_URL", true, 0.85, "", "REDIS_URL"},
		{"env_python_keyerror.log", nil, CategoryMissingConfig, "STRIPE_API_KEY", true, 0.85, "", "/app/payments/settings.py:23"},
		{"env_must_be_set.log", nil, CategoryMissingConfig, "SMTP_PASSWORD", true, 0.85, "", "SMTP_PASSWORD"},
		{"cmd_exec.log", nil, CategoryApplicationErr, "gunicorn", true, 0.85, "", `"gunicorn"`},
		{"cmd_sh.log", nil, CategoryApplicationErr, "migrate", true, 0.85, "", `"migrate"`},
		{"conn_refused_go.log", nil, CategoryDependency, "10.0.0.5:5432", false, 0.75, "", "6 times"},
		{"conn_refused_node.log", nil, CategoryDependency, "redis-master.cache.svc.cluster.local:6379", false, 0.75, "service/cache/redis-master", "connection refused"},
		// "no such host" right before the fatal exit names the cause outright.
		{"dns_lookup.log", nil, CategoryDNS, "db.prod.svc", true, 0.85, "service/prod/db", "no such host"},
		{"timeout_grpc.log", nil, CategoryDependency, "payments:9090", false, 0.55, "service/shop/payments", "timed out"},
		{"pg_refused_python.log", prev, CategoryDependency, "postgres.data.svc.cluster.local:5432", false, 0.75, "service/data/postgres", ""},
		{"cert_expired.log", nil, CategoryCertificate, "api.partner.example.com", true, 0.85, "", "expired"},
		{"cert_unknown_ca.log", nil, CategoryCertificate, "hooks.internal.corp:8443", true, 0.85, "", "unknown authority"},
		{"auth_pg.log", nil, CategoryAuth, `user "app"`, true, 0.85, "service/shop/pg-main", "password authentication failed"},
		{"auth_mysql.log", prev, CategoryAuth, `user "orders"`, true, 0.85, "", "Access denied"},
		{"auth_redis.log", nil, CategoryAuth, "redis:6379", true, 0.85, "service/shop/redis", "NOAUTH"},
		{"auth_401.log", nil, CategoryAuth, "https://inventory.shop.svc:8080/v2/stock", true, 0.85, "service/shop/inventory", "401 Unauthorized"},
		{"syntax_yaml.log", prev, CategoryApplicationErr, "/etc/app/config.yaml: line 12", false, 0.75, "", "mapping values"},
		{"syntax_sql.log", nil, CategoryApplicationErr, `syntax error at or near "INDEXX"`, false, 0.75, "", "INDEXX"},
		{"syntax_python.log", prev, CategoryApplicationErr, "/app/worker.py:57", false, 0.75, "", "expected ':'"},
		{"syntax_nginx.log", prev, CategoryApplicationErr, "/etc/nginx/conf.d/default.conf:14", false, 0.75, "", "proxy_passs"},
		{"perm_denied.log", prev, CategoryApplicationErr, "/data/uploads/.lock", false, 0.75, "", "permission denied"},
		{"perm_eacces.log", prev, CategoryApplicationErr, "/var/lib/app/cache", false, 0.75, "", "/var/lib/app/cache"},
		{"disk_full.log", nil, CategorySaturation, "/var/lib/ingest/wal/000123.log", true, 0.85, "", "no space left"},
		{"disk_full_pg.log", prev, CategorySaturation, "pg_wal/xlogtemp.57", true, 0.85, "", "No space left"},
		{"too_many_open_files.log", nil, CategorySaturation, "too many open files", true, 0.85, "", "file descriptors"},
		{"pool_exhausted.log", nil, CategorySaturation, "HikariPool-1", false, 0.4, "", "connection pool"},
		{"too_many_conns.log", nil, CategorySaturation, "pg-main.shop.svc", false, 0.55, "service/shop/pg-main", "too many clients"},
		{"panic_go.log", nil, CategoryApplicationErr, "panic: runtime error: invalid memory address or nil pointer dereference at /src/internal/handler/cart.go:142", false, 0.75, "", "cart.go:142"},
		{"panic_java.log", prev, CategoryApplicationErr, "java.lang.IllegalStateException: Unknown currency code: XBT at Prices.java:88", true, 0.75, "", "XBT"},
		{"panic_python.log", prev, CategoryApplicationErr, "ZeroDivisionError: division by zero at /app/billing/invoice.py:41", true, 0.75, "", "division by zero"},
		{"panic_node.log", nil, CategoryApplicationErr, "TypeError: Cannot read properties of undefined (reading 'id') at /app/src/routes/users.js:42", false, 0.75, "", "reading 'id'"},
		{"exec_format.log", prev, CategoryApplicationErr, "/usr/local/bin/server", true, 0.85, "", "exec format error"},
		{"exec_format_python.log", prev, CategoryApplicationErr, "/opt/app/bin/worker", true, 0.85, "", "another CPU architecture"},
		// The info line about a file it chose not to modify is not the cause;
		// the failed mkdir right before the exit is.
		{"readonly_nginx.log", prev, CategoryApplicationErr, "/var/cache/nginx/client_temp", true, 0.85, "", "read-only file system"},
		{"readonly_node.log", nil, CategoryApplicationErr, "/app/.next/cache/images/Hk2c.webp", true, 0.85, "", "readOnlyRootFilesystem"},
		{"unhandled_rejection.log", nil, CategoryApplicationErr, "UnhandledPromiseRejection: Kafka broker unavailable", false, 0.75, "", "Kafka broker unavailable"},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSuffix(tc.file, ".log"), func(t *testing.T) {
			it := logsItem(t, 4, tc.file, tc.args)
			fs := logsAnalyzer{}.Analyze(&Input{Items: []Item{it}})
			if len(fs) == 0 {
				t.Fatalf("no findings")
			}
			f := fs[0]
			if f.Category != tc.category || f.Culprit != tc.culprit {
				for _, g := range fs {
					t.Logf("got %s %q score=%v direct=%v", g.Category, g.Culprit, g.Score, g.Direct)
				}
				t.Fatalf("top finding = %s %q, want %s %q", f.Category, f.Culprit, tc.category, tc.culprit)
			}
			if f.Direct != tc.direct {
				t.Errorf("direct = %v, want %v", f.Direct, tc.direct)
			}
			if f.Score < tc.minScore || f.Score > 1 {
				t.Errorf("score = %v, want >= %v", f.Score, tc.minScore)
			}
			if f.Object != "pod/shop/app-7d9f-x2" || f.Analyzer != "logs" {
				t.Errorf("object/analyzer = %q/%q", f.Object, f.Analyzer)
			}
			if len(f.Evidence) != 1 || f.Evidence[0] != 4 {
				t.Errorf("evidence = %v", f.Evidence)
			}
			if tc.related != "" && (len(f.Related) != 1 || f.Related[0] != tc.related) {
				t.Errorf("related = %v, want %q", f.Related, tc.related)
			}
			if tc.related == "" && len(f.Related) != 0 {
				t.Errorf("related = %v, want none", f.Related)
			}
			if !strings.Contains(f.Summary, tc.inSumm) || !strings.Contains(f.Summary, `container "app"`) {
				t.Errorf("summary %q lacks %q or the container", f.Summary, tc.inSumm)
			}
			// one finding per (signature, culprit)
			seen := map[string]bool{}
			for _, g := range fs {
				k := g.Category + "|" + g.Culprit
				if seen[k] {
					t.Errorf("duplicate finding %s", k)
				}
				seen[k] = true
			}
		})
	}
}

func TestLogHealthyProducesNothing(t *testing.T) {
	for _, file := range []string{"healthy_text.log", "healthy_json.log"} {
		for _, prev := range []bool{false, true} {
			it := logsItem(t, 1, file, map[string]any{"previous": prev})
			if fs := (logsAnalyzer{}).Analyze(&Input{Items: []Item{it}}); len(fs) != 0 {
				t.Errorf("%s previous=%v: unexpected findings %+v", file, prev, fs)
			}
		}
	}
	benign := []string{
		"INFO processed 1200 records, 0 errors",
		"level=info msg=\"stats\" error_rate=0 errors=0",
		"DEBUG dial tcp 10.0.0.5:5432: connect: connection refused (probe of optional sidecar)",
		"WARN environment variable LOG_FORMAT is not set, using default text",
		"INFO no errors found; permission checks passed",
		"2026-11-27T06:00:00Z INFO  connection pool size=10 timeout=5s",
	}
	it := Item{ID: 2, Tool: "kubernetes.logs", Args: map[string]any{"pod": "p", "namespace": "n"}, Output: strings.Join(benign, "\n")}
	if fs := (logsAnalyzer{}).Analyze(&Input{Items: []Item{it}}); len(fs) != 0 {
		t.Errorf("benign lines matched: %+v", fs)
	}
	// Other tools are not logs.
	it.Tool = "kubernetes.describe"
	it.Output = "dial tcp 10.0.0.5:5432: connect: connection refused"
	if fs := (logsAnalyzer{}).Analyze(&Input{Items: []Item{it}}); len(fs) != 0 {
		t.Errorf("non-log tool analyzed: %+v", fs)
	}
}

func TestLogDefaultWarningIgnored(t *testing.T) {
	it := logsItem(t, 1, "env_default_warn.log", nil)
	if fs := (logsAnalyzer{}).Analyze(&Input{Items: []Item{it}}); len(fs) != 0 {
		t.Errorf("unexpected findings %+v", fs)
	}
}

func TestLogMultipleSignaturesFatalLastRanksFirst(t *testing.T) {
	it := logsItem(t, 9, "multi.log", nil)
	fs := logsAnalyzer{}.Analyze(&Input{Items: []Item{it}})
	want := []struct {
		cat, culprit string
		direct       bool
	}{
		{CategoryMissingConfig, "PAYMENTS_API_TOKEN", true},
		{CategoryDependency, "10.0.0.7:6379", false},
		{CategoryDependency, "10.0.9.9:9091", false},
	}
	if len(fs) != len(want) {
		t.Fatalf("got %d findings: %+v", len(fs), fs)
	}
	for i, w := range want {
		if fs[i].Category != w.cat || fs[i].Culprit != w.culprit || fs[i].Direct != w.direct {
			t.Errorf("finding %d = %s %q direct=%v, want %s %q direct=%v", i, fs[i].Category, fs[i].Culprit, fs[i].Direct, w.cat, w.culprit, w.direct)
		}
	}
	// The early one-off amid healthy traffic is weak evidence.
	if last := fs[2]; last.Score > 0.4 || last.Direct {
		t.Errorf("one-off finding score=%v direct=%v, want <= 0.4 and not direct", last.Score, last.Direct)
	}
	if fs[0].Score <= fs[1].Score {
		t.Errorf("fatal last line should rank first: %v <= %v", fs[0].Score, fs[1].Score)
	}
}

func TestLogOneOffAmidHealthyTraffic(t *testing.T) {
	it := logsItem(t, 3, "oneoff_auth.log", nil)
	fs := logsAnalyzer{}.Analyze(&Input{Items: []Item{it}})
	if len(fs) != 1 {
		t.Fatalf("got %+v", fs)
	}
	f := fs[0]
	if f.Category != CategoryAuth || f.Culprit != `user "bob@example.com"` || f.Direct || f.Score != 0.4 {
		t.Errorf("got %s %q direct=%v score=%v", f.Category, f.Culprit, f.Direct, f.Score)
	}
}

func TestLogPreviousMakesSpecificDirect(t *testing.T) {
	// The same envconfig line in the current (running) log, not at the end of
	// the log, is not direct; in the previous container's log it is.
	out := "2026/11/27 06:01:02 envconfig.Process: required key CACHE_TTL missing value\n" +
		strings.Repeat("2026/11/27 06:01:03 INFO serving request path=/ status=200\n", 80)
	it := Item{ID: 1, Tool: "kubernetes.logs", Args: map[string]any{"pod": "p", "namespace": "n"}, Output: out}
	fs := logsAnalyzer{}.Analyze(&Input{Items: []Item{it}})
	if len(fs) != 1 || fs[0].Direct || fs[0].Score != 0.4 {
		t.Fatalf("current log: %+v", fs)
	}
	it.Args["previous"] = "true"
	it.Output = strings.Repeat("2026/11/27 06:01:03 INFO booting\n", 10) + "2026/11/27 06:01:02 envconfig.Process: required key CACHE_TTL missing value\n"
	fs = logsAnalyzer{}.Analyze(&Input{Items: []Item{it}})
	if len(fs) != 1 || !fs[0].Direct || fs[0].Culprit != "CACHE_TTL" || fs[0].Object != "pod/n/p" {
		t.Fatalf("previous log: %+v", fs)
	}
}

func TestLogDeterministicOrderAcrossItems(t *testing.T) {
	a := logsItem(t, 1, "auth_pg.log", map[string]any{"pod": "b-pod"})
	b := logsItem(t, 2, "auth_pg.log", map[string]any{"pod": "a-pod"})
	fs := logsAnalyzer{}.Analyze(&Input{Items: []Item{a, b}})
	if len(fs) != 2 || fs[0].Object != "pod/shop/a-pod" || fs[1].Object != "pod/shop/b-pod" {
		t.Fatalf("order: %+v", fs)
	}
	if fs[0].Evidence[0] != 2 || fs[1].Evidence[0] != 1 {
		t.Errorf("evidence ids: %v %v", fs[0].Evidence, fs[1].Evidence)
	}
	if got := LogAnalyzers(); len(got) != 1 || got[0].Name() != "logs" {
		t.Errorf("LogAnalyzers = %v", got)
	}
}

func TestLogServiceRef(t *testing.T) {
	cases := map[string]string{
		"db":                          "service/ns1/db",
		"db.prod":                     "service/prod/db",
		"db.prod.svc":                 "service/prod/db",
		"db.prod.svc.cluster.local":   "service/prod/db",
		"db.prod.svc.cluster.local.":  "service/prod/db",
		"api.stripe.com":              "",
		"example.com":                 "",
		"10.0.0.5":                    "",
		"localhost":                   "",
		"Bad_Name":                    "",
		"ip-10-0-0-1.ec2.internal":    "",
		"db.prod.svc.cluster.example": "",
	}
	for host, want := range cases {
		if got := logsServiceRef(host, "ns1"); got != want {
			t.Errorf("logsServiceRef(%q) = %q, want %q", host, got, want)
		}
	}
}

func BenchmarkLogsLarge(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "logs", "healthy_text.log"))
	if err != nil {
		b.Fatal(err)
	}
	out := strings.Repeat(string(raw), 20) // ~12,000 lines
	in := &Input{Items: []Item{{ID: 1, Tool: "kubernetes.logs", Args: map[string]any{"pod": "p", "namespace": "n"}, Output: out}}}
	for b.Loop() {
		logsAnalyzer{}.Analyze(in)
	}
}

func TestLogFalsePositiveGuards(t *testing.T) {
	lines := []string{
		"2026-11-27T06:00:00Z WARN  .env file missing, reading the process environment",
		`10.244.1.7 - - [27/Nov/2026:06:00:01 +0000] "GET /admin HTTP/1.1" 401 Unauthorized 17 "-" "curl/8.5.0"`,
		"2026-11-27T06:00:02Z INFO  environment production is ready",
	}
	it := Item{ID: 1, Tool: "kubernetes.logs", Args: map[string]any{"pod": "p", "namespace": "n", "previous": true}, Output: strings.Join(lines, "\n")}
	if fs := (logsAnalyzer{}).Analyze(&Input{Items: []Item{it}}); len(fs) != 0 {
		t.Errorf("unexpected findings %+v", fs)
	}
}

func TestLogPanicNamingMissingEnvIsOneFinding(t *testing.T) {
	out := strings.Join([]string{
		`{"level":"info","ts":1764223200.1,"msg":"starting","version":"1.4.0"}`,
		"panic: required key SESSION_SECRET missing value",
		"",
		"goroutine 1 [running]:",
		"main.mustConfig(...)",
		"\t/src/cmd/api/main.go:57 +0x1c5",
		"main.main()",
		"\t/src/cmd/api/main.go:31 +0x45",
		"exit status 2",
	}, "\n")
	it := Item{ID: 5, Tool: "kubernetes.logs", Args: map[string]any{"pod": "api-0", "namespace": "web"}, Output: out}
	fs := logsAnalyzer{}.Analyze(&Input{Items: []Item{it}})
	if len(fs) != 1 {
		t.Fatalf("got %+v", fs)
	}
	f := fs[0]
	if f.Category != CategoryMissingConfig || f.Culprit != "SESSION_SECRET" || !f.Direct || !strings.Contains(f.Summary, "/src/cmd/api/main.go:57") {
		t.Errorf("got %+v", f)
	}
}

func TestLogDNSTransientIsNotDirect(t *testing.T) {
	out := strings.Repeat("2026-11-27T06:00:00Z INFO booting\n", 5) +
		"2026-11-27T06:00:01Z ERROR db ping failed: dial tcp: lookup db.prod.svc on 10.96.0.10:53: i/o timeout\n" +
		"2026-11-27T06:00:02Z FATAL cannot start: dial tcp: lookup db.prod.svc on 10.96.0.10:53: server misbehaving\n"
	it := Item{ID: 1, Tool: "kubernetes.logs", Args: map[string]any{"pod": "p", "namespace": "n"}, Output: out}
	fs := logsAnalyzer{}.Analyze(&Input{Items: []Item{it}})
	if len(fs) != 1 || fs[0].Category != CategoryDNS || fs[0].Direct {
		t.Fatalf("a timed-out or failing resolver is not direct: %+v", fs)
	}
	// A missing name repeated in the previous run's log is direct.
	it.Args["previous"] = true
	it.Output = strings.Repeat("2026-11-27T06:00:01Z ERROR send failed: dial tcp: lookup smtp.mail.svc.cluster.local on 10.96.0.10:53: no such host\n", 3) +
		strings.Repeat("2026-11-27T06:00:02Z INFO retrying\n", 60)
	fs = logsAnalyzer{}.Analyze(&Input{Items: []Item{it}})
	if len(fs) != 1 || !fs[0].Direct || fs[0].Culprit != "smtp.mail.svc.cluster.local" || fs[0].Related[0] != "service/mail/smtp" {
		t.Fatalf("previous no such host: %+v", fs)
	}
}

func TestLogRelatedFromRecordFieldsAndEvidence(t *testing.T) {
	// The error shows the dialled IP; the record's addr field names the
	// service.
	out := `{"level":"info","msg":"connecting to redis","addr":"redis:6379"}
{"level":"fatal","msg":"cannot start without session store","addr":"redis:6379","error":"dial tcp 10.52.201.7:6379: connect: connection refused"}`
	it := Item{ID: 3, Tool: "kubernetes.logs", Args: map[string]any{"pod": "api-1", "namespace": "shop", "previous": true}, Output: out}
	fs := logsAnalyzer{}.Analyze(&Input{Items: []Item{it}})
	if len(fs) != 1 || fs[0].Culprit != "10.52.201.7:6379" || len(fs[0].Related) != 1 || fs[0].Related[0] != "service/shop/redis" {
		t.Fatalf("addr field: %+v", fs)
	}
	// A logfmt host field on another port is another peer.
	it.Output = `level=error msg="upstream failed" host=cache:11211 err="dial tcp 10.52.201.7:6379: connect: connection refused"`
	it.Args["previous"] = false
	if fs := (logsAnalyzer{}).Analyze(&Input{Items: []Item{it}}); len(fs) != 1 || len(fs[0].Related) != 0 {
		t.Fatalf("other port: %+v", fs)
	}
	// With only the IP, the evidence says whose endpoint it is.
	it.Output = `2024/06/25 09:35:00 [error] 41#41: *1 connect() failed (111: Connection refused) while connecting to upstream, client: 10.0.1.187, upstream: "http://10.244.1.12:8081/api", host: "shop.acme.io"`
	svc := Item{ID: 1, Tool: "kubernetes.describe", Args: map[string]any{"kind": "service", "name": "inventory", "namespace": "shop"}, Output: netMustRead(t, "network/svc_inventory_describe.txt")}
	fs = logsAnalyzer{}.Analyze(&Input{Items: []Item{svc, it}})
	if len(fs) != 1 || fs[0].Culprit != "10.244.1.12:8081" || len(fs[0].Related) != 1 || fs[0].Related[0] != "service/shop/inventory" {
		t.Fatalf("endpoint IP: %+v", fs)
	}
	// A cluster IP names the service too; an unknown IP nothing.
	it.Output = "ERROR dial tcp 10.96.77.3:80: connect: connection refused"
	if fs := (logsAnalyzer{}).Analyze(&Input{Items: []Item{svc, it}}); len(fs) != 1 || len(fs[0].Related) != 1 || fs[0].Related[0] != "service/shop/inventory" {
		t.Fatalf("cluster IP: %+v", fs)
	}
	it.Output = "ERROR dial tcp 10.1.2.3:80: connect: connection refused"
	if fs := (logsAnalyzer{}).Analyze(&Input{Items: []Item{svc, it}}); len(fs) != 1 || len(fs[0].Related) != 0 {
		t.Fatalf("unknown IP: %+v", fs)
	}
}
