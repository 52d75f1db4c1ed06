package library_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/blob"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/kb"
	"github.com/aurora-oss/aurora/internal/kb/kbtool"
	"github.com/aurora-oss/aurora/internal/kb/library"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/storage/storagetest"
)

// queue records enqueued jobs instead of running them: the test runs
// Process itself, as a worker would, including after a "kill".
type queue struct{ jobs []job }

type job struct{ org, doc, sha string }

func (q *queue) EnqueueKBDocument(_ context.Context, _ *storage.Tx, org, doc, sha string) error {
	q.jobs = append(q.jobs, job{org, doc, sha})
	return nil
}

type testBundle struct {
	svc   *library.Service
	store *storage.Store
	q     *queue
	org   string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, org := storagetest.SQLite(t)
	db := store.DB
	blobs, _ := blob.NewLocal(t.TempDir())
	e := kb.NewHashEmbedder(256)
	chunks := storage.NewKBStore(db)
	if err := chunks.Reset(ctx, e.Name(), e.Dimensions()); err != nil {
		t.Fatal(err)
	}
	q := &queue{}
	return &testBundle{svc: &library.Service{Store: store, Chunks: chunks, Embedder: e, Blobs: blobs, Queue: q, Log: log}, store: store, q: q, org: org.ID}
}

func (b *testBundle) runJobs(t *testing.T) {
	t.Helper()
	for _, j := range b.q.jobs {
		if err := b.svc.Process(context.Background(), j.org, j.doc, j.sha, false); err != nil && !errors.Is(err, library.ErrPermanent) {
			t.Fatal(err)
		}
	}
	b.q.jobs = nil
}

const runbook = `# Checkout runbook

## CheckoutHighErrorRate

Roll back the last checkout deploy, then check the payment provider status page.

## CheckoutLatency

Scale the checkout deployment.
`

func TestRunbookURLResolvesAndToolCitesIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	doc, err := b.svc.Upload(ctx, b.org, library.Upload{Filename: "checkout.md", Data: []byte(runbook), SourceURL: "https://wiki.example.com/checkout"})
	if err != nil {
		t.Fatal(err)
	}
	// Another document that also matches the words, to show runbook_url
	// puts its own document first.
	if _, err := b.svc.Upload(ctx, b.org, library.Upload{Filename: "other.md", Data: []byte("# Errors\n\nCheckoutHighErrorRate high error rate roll back deploy checkout payment\n")}); err != nil {
		t.Fatal(err)
	}
	b.runJobs(t)
	rb, err := b.svc.RunbookPassages(ctx, b.org, library.RunbookQuery{AlertName: "CheckoutHighErrorRate", Service: "checkout", RunbookURL: "https://wiki.example.com/checkout"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Document == nil || rb.Document.ID != doc.ID || len(rb.Hits) != 2 || rb.Hits[0].Chunk.DocumentID != doc.ID ||
		strings.Join(rb.Hits[0].Chunk.HeadingPath, "/") != "Checkout runbook/CheckoutHighErrorRate" {
		t.Fatalf("runbook passages: %+v", rb)
	}
	tool := kbtool.Tool{KB: b.svc, OrgID: b.org}
	res, err := tool.Call(ctx, map[string]any{"query": "CheckoutHighErrorRate checkout", "runbook_url": "https://wiki.example.com/checkout", "limit": float64(1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`is the uploaded document "Checkout runbook"`, "[1] Checkout runbook › CheckoutHighErrorRate", "Roll back the last checkout deploy", "https://wiki.example.com/checkout"} {
		if !strings.Contains(res.Output, want) {
			t.Errorf("tool output lacks %q:\n%s", want, res.Output)
		}
	}
	res, _ = tool.Call(ctx, map[string]any{"query": "x", "runbook_url": "https://wiki.example.com/unknown"})
	if !strings.Contains(res.Output, "is not an uploaded document") {
		t.Errorf("unknown runbook_url: %s", res.Output)
	}
	for _, bad := range []map[string]any{{}, {"query": " "}, {"query": "x", "kind": "postmortem"}, {"query": "x", "limit": float64(11)}, {"query": "x", "limit": "3"}} {
		if _, err := tool.Call(ctx, bad); err == nil {
			t.Errorf("tool accepted %v", bad)
		}
	}
}

// TestProcessIsIdempotentAndVersioned: a job run twice (a worker killed
// after indexing, before River recorded the job done) stores the same
// chunks once; a job for a replaced version changes nothing.
func TestProcessIsIdempotentAndVersioned(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	if _, err := b.svc.Upload(ctx, b.org, library.Upload{Filename: "a.md", Data: []byte(runbook)}); err != nil {
		t.Fatal(err)
	}
	first := b.q.jobs[0]
	b.runJobs(t)
	if err := b.svc.Process(ctx, first.org, first.doc, first.sha, false); err != nil {
		t.Fatalf("re-run: %v", err)
	}
	hits, _ := b.svc.Search(ctx, kb.Query{OrgID: b.org, Text: "checkout", Limit: 50}, kb.ModeLexical)
	if len(hits) != 3 {
		t.Fatalf("after a repeated job: %d chunks, want 3", len(hits))
	}
	if _, err := b.svc.Upload(ctx, b.org, library.Upload{Filename: "a.md", Data: []byte("# New\n\nnothing about that service\n")}); err != nil {
		t.Fatal(err)
	}
	// The stale job (old sha) runs after the re-upload: skipped.
	if err := b.svc.Process(ctx, first.org, first.doc, first.sha, false); err != nil {
		t.Fatal(err)
	}
	d, _ := b.store.KBDocument(ctx, b.org, first.doc)
	if d.Status != storage.KBProcessing {
		t.Fatalf("a stale job changed the new version's status to %s", d.Status)
	}
	b.runJobs(t)
	if hits, _ := b.svc.Search(ctx, kb.Query{OrgID: b.org, Text: "checkout", Limit: 50}, kb.ModeLexical); len(hits) != 0 {
		t.Fatalf("old version's chunks survived the replace: %d", len(hits))
	}
	// The same bytes again: nothing to do, no job.
	if _, err := b.svc.Upload(ctx, b.org, library.Upload{Filename: "a.md", Data: []byte("# New\n\nnothing about that service\n")}); err != nil || len(b.q.jobs) != 0 {
		t.Fatalf("unchanged re-upload enqueued %d jobs (%v)", len(b.q.jobs), err)
	}
}

func TestHelpfulIncidentsBecomeSimilar(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	svc := &incident.Service{Store: b.store, Now: time.Now, Notify: func(string) {}, Cfg: incident.Config{Rules: incident.DefaultRules(time.Minute), ReopenWindow: time.Hour}}
	past := newIncident(t, svc, b.org, "KafkaConsumerLag", "orders", `{"verdict":"CONFIRMED","root_cause":{"explanation":"the orders consumer group lost a member after an OOM kill"}}`)
	other := newIncident(t, svc, b.org, "DiskFull", "billing", `{"verdict":"LIKELY","root_cause":{"explanation":"logs filled the volume"}}`)
	if _, err := b.svc.Feedback(ctx, b.org, past.ID, "helpful", "spot on"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Feedback(ctx, b.org, other.ID, "not_helpful", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Feedback(ctx, b.org, past.ID, "great", ""); !errors.Is(err, library.ErrInvalid) {
		t.Fatalf("bad rating: %v", err)
	}
	if _, err := b.svc.Feedback(ctx, b.org, "nope", "helpful", ""); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown incident: %v", err)
	}
	// Today's incident: the same alert on the same service, after the
	// correlation window (so a new incident, not the old one reopened).
	now := newIncident(t, svc, b.org, "KafkaConsumerLagHigh", "orders", `{"verdict":"INCONCLUSIVE"}`)
	if now.ID == past.ID {
		t.Fatal("the test's incidents were correlated into one")
	}
	sim, err := b.svc.SimilarIncidents(ctx, now, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(sim) != 1 || sim[0].IncidentID != past.ID || !strings.Contains(sim[0].Reason, "orders") {
		t.Fatalf("similar incidents: %+v", sim)
	}
	// The helpful incident itself does not list itself.
	if sim, _ := b.svc.SimilarIncidents(ctx, past, 5); len(sim) != 0 {
		t.Fatalf("an incident is similar to itself: %+v", sim)
	}
	// not_helpful later removes it from the index.
	if _, err := b.svc.Feedback(ctx, b.org, past.ID, "not_helpful", "wrong after all"); err != nil {
		t.Fatal(err)
	}
	if sim, _ := b.svc.SimilarIncidents(ctx, now, 5); len(sim) != 0 {
		t.Fatalf("unrated incident still similar: %+v", sim)
	}
}

func newIncident(t *testing.T, svc *incident.Service, org, name, service, report string) storage.Incident {
	t.Helper()
	ctx := context.Background()
	a := alert.Alert{Source: "generic", Fingerprint: name + service + time.Now().String(), Status: alert.StatusFiring, Severity: alert.SeverityCritical,
		Name: name, Title: name + " on " + service, Service: service, StartsAt: time.Now().UTC()}
	raw, _ := json.Marshal(a)
	res, err := svc.Ingest(ctx, incident.Request{OrgID: org, Source: a.Source, ContentType: "application/json", Body: raw,
		Alerts: []alert.Alert{a}, Policy: &incident.Policy{Severities: map[alert.Severity]bool{}}})
	if err != nil || len(res.IncidentIDs) == 0 {
		t.Fatalf("ingest: %v %v", res, err)
	}
	id := res.IncidentIDs[0]
	_, err = svc.Store.InTx(ctx, func(tx *storage.Tx) error {
		inc, err := tx.IncidentForUpdate(ctx, org, id)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		v, err := tx.InsertInvestigation(ctx, org, id, "test", now, nil)
		if err != nil {
			return err
		}
		if err := tx.SetInvestigationStatus(ctx, &v, storage.InvestigationRunning, "", now); err != nil {
			return err
		}
		v.Report = storage.RawJSON(report)
		if err := tx.SetInvestigationStatus(ctx, &v, storage.InvestigationCompleted, "", now); err != nil {
			return err
		}
		inc.Investigation = &storage.InvestigationRef{ID: v.ID, Status: v.Status}
		return tx.SaveIncident(ctx, inc)
	})
	if err != nil {
		t.Fatal(err)
	}
	inc, err := svc.Store.GetIncident(ctx, org, id)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}
