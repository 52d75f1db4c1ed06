package investigate_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/bundle"
	"github.com/aurora-oss/aurora/internal/investigate"
)

// largeBundleFiles is the size of the generated bundle (issue 4's target:
// a 2,000-file bundle investigated in under 5 s).
const largeBundleFiles = 2000

// writeLargeBundle writes a bundle of files evidence files: the real
// incident of the missing-env-ledger scenario (a pod crash-looping on a
// missing environment variable) buried in a cluster's worth of noise —
// healthy pods' descriptions and chatty logs, namespaces' pod tables and
// events with unrelated warnings (probe failures, back-offs, evictions,
// slow queries, retried connections) from other workloads. The noise is
// seeded, so every run sees the same bundle.
func writeLargeBundle(tb testing.TB, dir string, files int) {
	tb.Helper()
	src := "../../testdata/scenarios/missing-env-ledger"
	if err := os.MkdirAll(filepath.Join(dir, "evidence"), 0o755); err != nil {
		tb.Fatal(err)
	}
	copyFile := func(from, to string) {
		b, err := os.ReadFile(filepath.Join(src, from))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	copyFile("alert.json", "alert.json")
	real, _ := filepath.Glob(filepath.Join(src, "evidence", "*.txt"))
	rng := rand.New(rand.NewPCG(4, 2000))
	// The real evidence sits at random places among the noise, as a
	// snapshot's file order would put it.
	at := map[int]string{}
	for _, f := range real {
		for {
			i := rng.IntN(files)
			if _, taken := at[i]; !taken {
				at[i] = filepath.Base(f)
				break
			}
		}
	}
	namespaces := []string{"checkout", "catalog", "search", "payments", "identity", "notifications", "shipping", "analytics",
		"recommendations", "inventory", "pricing", "reviews", "media", "gateway", "billing", "reporting"}
	apps := []string{"api", "worker", "consumer", "scheduler", "cache", "frontend", "indexer", "exporter"}
	noise := 0
	for i := 0; i < files; i++ {
		name := fmt.Sprintf("%04d", i+1)
		if f, ok := at[i]; ok {
			copyFile(filepath.Join("evidence", f), filepath.Join("evidence", name+"-"+f))
			continue
		}
		noise++
		ns := namespaces[rng.IntN(len(namespaces))]
		app := apps[rng.IntN(len(apps))]
		pod := fmt.Sprintf("%s-%s-%x-%s", ns, app, rng.Uint32()&0xffffff, randSuffix(rng))
		var header, body string
		switch noise % 5 {
		case 0, 1:
			header = fmt.Sprintf(`{"tool":"kubernetes.describe","args":{"kind":"pod","name":%q,"namespace":%q}}`, pod, ns)
			body = healthyPodDescribe(rng, pod, ns, app)
		case 2, 3:
			header = fmt.Sprintf(`{"tool":"kubernetes.logs","args":{"pod":%q,"namespace":%q}}`, pod, ns)
			body = chattyLogs(rng, app)
		default:
			if noise%10 == 4 {
				header = fmt.Sprintf(`{"tool":"kubernetes.get","args":{"kind":"pod","namespace":%q}}`, ns)
				body = podTable(rng, ns, apps)
			} else {
				header = fmt.Sprintf(`{"tool":"kubernetes.events","args":{"namespace":%q}}`, ns)
				body = noisyEvents(rng, ns, apps)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "evidence", name+".txt"), []byte(header+"\n"+body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

func randSuffix(rng *rand.Rand) string {
	const chars = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	for i := range b {
		b[i] = chars[rng.IntN(len(chars))]
	}
	return string(b)
}

func healthyPodDescribe(rng *rand.Rand, pod, ns, app string) string {
	node := fmt.Sprintf("ip-10-0-%d-%d.eu-west-1.compute.internal", rng.IntN(4), 10+rng.IntN(200))
	ip := fmt.Sprintf("10.244.%d.%d", rng.IntN(40), 2+rng.IntN(250))
	return fmt.Sprintf(`Name:             %[1]s
Namespace:        %[2]s
Priority:         0
Service Account:  %[3]s
Node:             %[4]s/10.0.1.%[6]d
Start Time:       Mon, 01 Jul 2024 0%[7]d:12:44 +0000
Labels:           app.kubernetes.io/name=%[3]s
                  pod-template-hash=%[8]x
Annotations:      prometheus.io/scrape: true
Status:           Running
IP:               %[5]s
IPs:
  IP:           %[5]s
Controlled By:  ReplicaSet/%[2]s-%[3]s-%[8]x
Containers:
  %[3]s:
    Container ID:   containerd://%[9]x
    Image:          registry.example.com/%[2]s/%[3]s:1.%[7]d.%[6]d
    Image ID:       registry.example.com/%[2]s/%[3]s@sha256:%[9]x
    Port:           8080/TCP
    Host Port:      0/TCP
    State:          Running
      Started:      Mon, 01 Jul 2024 0%[7]d:12:51 +0000
    Ready:          True
    Restart Count:  0
    Limits:
      cpu:     1
      memory:  512Mi
    Requests:
      cpu:      250m
      memory:   256Mi
    Liveness:   http-get http://:8080/healthz delay=10s timeout=1s period=10s #success=1 #failure=3
    Readiness:  http-get http://:8080/ready delay=5s timeout=1s period=5s #success=1 #failure=3
    Environment:
      LOG_LEVEL:     info
      OTEL_SERVICE:  %[3]s
    Mounts:
      /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access-%[10]s (ro)
Conditions:
  Type              Status
  Initialized       True 
  Ready             True 
  ContainersReady   True 
  PodScheduled      True 
Volumes:
  kube-api-access-%[10]s:
    Type:                    Projected (a volume that contains injected data from multiple sources)
    TokenExpirationSeconds:  3607
QoS Class:                   Burstable
Node-Selectors:              <none>
Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                             node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
Events:                      <none>
`, pod, ns, app, node, ip, rng.IntN(250), rng.IntN(9), rng.Uint32(), rng.Uint64(), randSuffix(rng))
}

// chattyLogs is a healthy service's log: requests, cache stats and the
// warnings every production log has that are not the incident.
func chattyLogs(rng *rand.Rand, app string) string {
	var b strings.Builder
	t := time.Date(2024, 7, 2, 7, 0, 0, 0, time.UTC)
	lines := 80 + rng.IntN(80)
	for i := 0; i < lines; i++ {
		t = t.Add(time.Duration(rng.IntN(4000)) * time.Millisecond)
		ts := t.Format("2006-01-02T15:04:05.000Z")
		switch r := rng.IntN(100); {
		case r < 70:
			fmt.Fprintf(&b, "%s level=info msg=\"request served\" method=GET path=/v1/items/%d status=200 duration=%dms\n", ts, rng.IntN(99999), 2+rng.IntN(80))
		case r < 85:
			fmt.Fprintf(&b, "%s level=info msg=\"cache stats\" hits=%d misses=%d evictions=%d\n", ts, rng.IntN(9000), rng.IntN(400), rng.IntN(20))
		case r < 92:
			fmt.Fprintf(&b, "%s level=warn msg=\"slow request\" path=/v1/search duration=%dms threshold=500ms\n", ts, 500+rng.IntN(900))
		case r < 96:
			fmt.Fprintf(&b, "%s level=warn msg=\"retrying\" attempt=1 err=\"context deadline exceeded\" upstream=%s\n", ts, app)
		default:
			fmt.Fprintf(&b, "%s level=info msg=\"config reloaded\" version=%d\n", ts, rng.IntN(300))
		}
	}
	return b.String()
}

func podTable(rng *rand.Rand, ns string, apps []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-44s %-7s %-10s %-9s %s\n", "NAME", "READY", "STATUS", "RESTARTS", "AGE")
	for i := 0; i < 20+rng.IntN(30); i++ {
		status, ready, restarts := "Running", "1/1", "0"
		if rng.IntN(25) == 0 {
			status, ready = "Completed", "0/1"
		}
		fmt.Fprintf(&b, "%-44s %-7s %-10s %-9s %dd\n", fmt.Sprintf("%s-%s-%x-%s", ns, apps[rng.IntN(len(apps))], rng.Uint32()&0xffffff, randSuffix(rng)),
			ready, status, restarts, 1+rng.IntN(30))
	}
	return b.String()
}

// noisyEvents is a namespace's event list with the warnings a busy cluster
// always has about workloads other than the incident's.
func noisyEvents(rng *rand.Rand, ns string, apps []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-11s %-9s %-20s %-50s %s\n", "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE")
	for i := 0; i < 15+rng.IntN(25); i++ {
		pod := fmt.Sprintf("pod/%s-%s-%x-%s", ns, apps[rng.IntN(len(apps))], rng.Uint32()&0xffffff, randSuffix(rng))
		age := fmt.Sprintf("%dm", 1+rng.IntN(59))
		switch r := rng.IntN(100); {
		case r < 55:
			fmt.Fprintf(&b, "%-11s %-9s %-20s %-50s %s\n", age, "Normal", "Pulled", pod, "Container image already present on machine")
		case r < 75:
			fmt.Fprintf(&b, "%-11s %-9s %-20s %-50s %s\n", age, "Normal", "Scheduled", pod, "Successfully assigned "+ns+"/"+strings.TrimPrefix(pod, "pod/")+" to ip-10-0-1-88.eu-west-1.compute.internal")
		case r < 85:
			fmt.Fprintf(&b, "%-11s %-9s %-20s %-50s %s\n", age, "Normal", "SuccessfulCreate", "replicaset/"+ns+"-api-6d9f", "Created pod: "+strings.TrimPrefix(pod, "pod/"))
		case r < 93:
			fmt.Fprintf(&b, "%-11s %-9s %-20s %-50s %s\n", age, "Warning", "Unhealthy", pod, "Readiness probe failed: HTTP probe failed with statuscode: 503")
		default:
			fmt.Fprintf(&b, "%-11s %-9s %-20s %-50s %s\n", age, "Warning", "FailedMount", pod, `MountVolume.SetUp failed for volume "kube-api-access-x" : object "`+ns+`"/"kube-root-ca.crt" not registered`)
		}
	}
	return b.String()
}

// BenchmarkLargeBundle investigates the generated 2,000-file bundle:
// loading it from disk (parsing every header) and the whole investigation
// (every analyzer over every file, ranking, the report). The answer is
// checked first, so a fast wrong answer cannot pass.
func BenchmarkLargeBundle(b *testing.B) {
	dir := b.TempDir()
	writeLargeBundle(b, dir, largeBundleFiles)
	bd, err := bundle.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	if len(bd.Items) != largeBundleFiles {
		b.Fatalf("bundle has %d files", len(bd.Items))
	}
	rep := investigate.Bundle(bd)
	if rep.RootCause == nil || rep.RootCause.Category != "missing_config" || rep.RootCause.Object != "pod/finance/ledger-api-7b6d5f8c9-k2m4p" ||
		!strings.Contains(rep.RootCause.Summary, "LEDGER_DB_DSN") {
		b.Fatalf("wrong answer in the noise: %s %+v", rep.Verdict, rep.RootCause)
	}
	b.Run("load+investigate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bd, err := bundle.Load(dir)
			if err != nil {
				b.Fatal(err)
			}
			_ = investigate.Bundle(bd)
		}
		b.ReportMetric(float64(largeBundleFiles), "files")
	})
	b.Run("investigate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = investigate.Bundle(bd)
		}
		b.ReportMetric(float64(largeBundleFiles), "files")
	})
}

// TestLargeBundle runs the 2,000-file investigation once, checks its
// answer and prints the time against issue 4's 5 s target. It does not
// fail on time: a shared machine slows runs at random, and figures belong
// to the benchmark above (docs/benchmarks.md).
func TestLargeBundle(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 2,000-file bundle")
	}
	dir := t.TempDir()
	writeLargeBundle(t, dir, largeBundleFiles)
	start := time.Now()
	bd, err := bundle.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	loaded := time.Since(start)
	rep := investigate.Bundle(bd)
	took := time.Since(start)
	t.Logf("2,000-file bundle: load %s, load+investigate %s (target < 5s)", loaded.Round(time.Millisecond), took.Round(time.Millisecond))
	if rep.RootCause == nil || rep.RootCause.Category != "missing_config" || rep.RootCause.Object != "pod/finance/ledger-api-7b6d5f8c9-k2m4p" {
		t.Fatalf("wrong answer in the noise: %+v", rep.RootCause)
	}
}
