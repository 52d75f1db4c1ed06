package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/parse"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// bigRunbook is a Markdown document of about size bytes in sections of a
// few paragraphs: thousands of passages, so that indexing it takes seconds.
func bigRunbook(size int) []byte {
	words := strings.Fields(`pod node restart crash memory cpu disk network dns timeout database replica
		failover kafka consumer queue redis cache latency error gateway ingress certificate rollout rollback
		scale quota payment checkout orders billing search login token session worker backup restore`)
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	b.WriteString("# Operations handbook\n\n")
	for s := 0; b.Len() < size; s++ {
		fmt.Fprintf(&b, "## Section %d: %s %s\n\n", s, words[rng.IntN(len(words))], words[rng.IntN(len(words))])
		for range 3 {
			for range 80 {
				b.WriteString(words[rng.IntN(len(words))])
				b.WriteString(" ")
			}
			b.WriteString("\n\n")
		}
	}
	return []byte(b.String())
}

// TestKBWorkerKillResumesIngestion kills the worker (kill -9) while it
// indexes a large document on PostgreSQL. Nothing of the half-done
// indexing is visible (the chunks are replaced in one transaction at the
// end); River hands the job to a new worker once it is older than
// AURORA_JOB_RESCUE_AFTER, and the document ends ready with exactly the
// passages the chunker makes of it, none twice.
func TestKBWorkerKillResumesIngestion(t *testing.T) {
	t.Parallel()
	c := startCluster(t, testenv.Env{
		// One attempt may take this long; the rescuer retries a job
		// still running after AURORA_JOB_RESCUE_AFTER (it must exceed
		// the timeout).
		"AURORA_JOB_TIMEOUT":      "60s",
		"AURORA_JOB_RESCUE_AFTER": "65s",
	}, 1, 1, 0)
	server, worker := c.servers[0], c.workers[0]
	db, err := sql.Open("pgx", c.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	data := bigRunbook(3 << 20)
	parsed, err := parse.Parse(parse.Markdown, data)
	if err != nil {
		t.Fatal(err)
	}
	want := len(kb.Split(parsed, kb.DefaultChunkSize, kb.DefaultChunkOverlap))
	doc := uploadKB(t, server.URL, "handbook.md", "https://wiki.example.com/handbook", data)

	jobState := func() (state string, attempt int) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := db.QueryRowContext(ctx, `SELECT state, attempt FROM river_job WHERE kind = 'kb_document' AND args->>'document_id' = $1`, doc.ID).Scan(&state, &attempt)
		if err != nil && err != sql.ErrNoRows {
			t.Fatalf("read the ingestion job: %v", err)
		}
		return state, attempt
	}
	chunks := func() (n, distinct int) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT (start_off, end_off)) FROM kb_chunks WHERE document_id = $1`, doc.ID).Scan(&n, &distinct); err != nil {
			t.Fatalf("count chunks: %v", err)
		}
		return n, distinct
	}

	testenv.Eventually(t, 60*time.Second, "the worker to start indexing", func() bool {
		if worker.Exited() {
			t.Fatalf("worker exited:\n%s", worker.Output())
		}
		state, _ := jobState()
		if state == "completed" {
			t.Fatalf("the %d-passage document was indexed before the test saw its job run: make it larger", want)
		}
		return state == "running"
	})
	// Well into the work (parsing and embedding thousands of passages),
	// before the replace commits.
	time.Sleep(300 * time.Millisecond)
	worker.Kill()
	killed := time.Now()

	var d kbDoc
	get(t, server, "/api/v1/kb/documents/"+doc.ID, &d)
	if n, _ := chunks(); d.Status != "processing" || n != 0 {
		t.Fatalf("after kill -9: document %s with %d chunks stored, want processing with none (%d passages to index)", d.Status, n, want)
	}
	if state, attempt := jobState(); state != "running" || attempt != 1 {
		t.Fatalf("after kill -9 the job is %s (attempt %d), want running, attempt 1", state, attempt)
	}
	t.Logf("killed the worker mid-indexing of %d passages", want)

	worker2 := testenv.Start(t, "worker2", merge(c.env, testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(t)}), "worker")
	testenv.Eventually(t, 240*time.Second, "the new worker to finish indexing", func() bool {
		if worker2.Exited() {
			t.Fatalf("worker2 exited:\n%s", worker2.Output())
		}
		get(t, server, "/api/v1/kb/documents/"+doc.ID, &d)
		if d.Status == "failed" {
			t.Fatalf("document failed: %s", d.Error)
		}
		return d.Status == "ready"
	})
	// River records the job's completion just after the work returns.
	var state string
	var attempt int
	testenv.Eventually(t, 30*time.Second, "the job to be completed", func() bool {
		state, attempt = jobState()
		return state == "completed"
	})
	n, distinct := chunks()
	t.Logf("ready %s after the kill: job %s at attempt %d, %d chunks", time.Since(killed).Round(time.Second), state, attempt, n)
	if d.Chunks != want || n != want || distinct != want {
		t.Fatalf("document reports %d chunks, %d stored (%d distinct offsets): want %d, each once", d.Chunks, n, distinct, want)
	}
	if attempt < 2 {
		t.Fatalf("job completed at attempt %d: want a retry", attempt)
	}
	// And it is searchable.
	var sr struct {
		Items []struct {
			DocumentID string `json:"document_id"`
		} `json:"items"`
	}
	get(t, server, "/api/v1/kb/search?q=kafka+consumer+failover&limit=3", &sr)
	if len(sr.Items) == 0 || sr.Items[0].DocumentID != doc.ID {
		t.Fatalf("search after recovery: %+v", sr.Items)
	}
}
