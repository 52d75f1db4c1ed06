package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

type kbDoc struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Status    string `json:"status"`
	Error     string `json:"error"`
	SourceURL string `json:"source_url"`
	Chunks    int    `json:"chunks"`
}

// uploadKB posts a file to POST /api/v1/kb/documents as the UI's upload
// form does (multipart: file, title, source_url) and wants 202 or 201.
func uploadKB(t *testing.T, base, name, sourceURL string, data []byte) kbDoc {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	if sourceURL != "" {
		mw.WriteField("source_url", sourceURL)
	}
	mw.Close()
	code, raw := rawDo(t, http.MethodPost, base+"/api/v1/kb/documents", map[string]string{
		"Authorization": "Bearer " + testenv.AdminToken, "Content-Type": mw.FormDataContentType(),
	}, bytes.NewReader(body.Bytes()))
	var d kbDoc
	if err := json.Unmarshal(raw, &d); err != nil || (code != http.StatusAccepted && code != http.StatusCreated) || d.ID == "" {
		t.Fatalf("upload %s: status %d: %s", name, code, raw)
	}
	return d
}

// waitKBReady waits until a document is indexed and returns it.
func waitKBReady(t *testing.T, p *testenv.Process, id string, d time.Duration) kbDoc {
	t.Helper()
	var doc kbDoc
	testenv.Eventually(t, d, "document "+id+" to be ready", func() bool {
		get(t, p, "/api/v1/kb/documents/"+id, &doc)
		if doc.Status == "failed" {
			t.Fatalf("document %s failed: %s", id, doc.Error)
		}
		return doc.Status == "ready"
	})
	return doc
}

// amAlert is an Alertmanager webhook body of one firing alert.
func amAlert(alertname, service, summary, runbookURL string) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "4", "status": "firing", "receiver": "aurora", "groupKey": "{}:{alertname=\"" + alertname + "\"}",
		"groupLabels": map[string]string{"alertname": alertname},
		"alerts": []map[string]any{{
			"status":      "firing",
			"labels":      map[string]string{"alertname": alertname, "service": service, "severity": "critical"},
			"annotations": map[string]string{"summary": summary, "runbook_url": runbookURL},
			"startsAt":    time.Now().Add(-2 * time.Minute).UTC().Format(time.RFC3339),
			"endsAt":      "0001-01-01T00:00:00Z", "fingerprint": "kbcited" + alertname,
		}},
	})
	return b
}

// TestKBRunbookCitedByNextInvestigation is the knowledge base's "done
// when": a runbook uploaded the way the UI uploads it (the same multipart
// POST) is cited by the report of the next investigation of a matching
// alert — found through the alert's runbook_url and by its words — on the
// real binary with the embedded defaults (SQLite, built-in embedder).
func TestKBRunbookCitedByNextInvestigation(t *testing.T) {
	t.Parallel()
	p, _ := startAll(t, embedded, nil)
	const url = "https://wiki.example.com/runbooks/payment-gateway-timeouts"
	runbook := "# Payment gateway timeouts\n\n## Symptoms\n\nCheckout requests to the card processor time out after 30 s; " +
		"PaymentGatewayTimeouts fires for the payments service.\n\n## Mitigation\n\n" +
		"Fail over to the secondary card processor with `payctl failover --to secondary`, then page the payments on-call.\n"
	other := "# Redis memory full\n\n## Symptoms\n\nRedis refuses writes with OOM command not allowed.\n\n## Mitigation\n\nRaise maxmemory or evict keys.\n"
	doc := uploadKB(t, p.URL, "payment-gateway-timeouts.md", url, []byte(runbook))
	distractor := uploadKB(t, p.URL, "redis-memory.md", "", []byte(other))
	doc = waitKBReady(t, p, doc.ID, 60*time.Second)
	waitKBReady(t, p, distractor.ID, 60*time.Second)
	if doc.Chunks != 3 || doc.Title != "Payment gateway timeouts" {
		t.Fatalf("document %+v: want 3 passages titled from its heading", doc)
	}

	res := postAlerts(t, p.URL, testenv.AdminToken, "alertmanager", amAlert("PaymentGatewayTimeouts", "payments", "Card processor requests time out", url))
	invID := investigationOf(t, p, res.IncidentIDs[0]).ID
	var inv struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Steps  []struct {
			Seq    int             `json:"seq"`
			Tool   string          `json:"tool"`
			Input  map[string]any  `json:"input"`
			Output json.RawMessage `json:"output"`
		} `json:"steps"`
		Report *struct {
			Findings []struct {
				Text      string `json:"text"`
				Citations []int  `json:"citations"`
			} `json:"findings"`
			Evidence []struct {
				StepSeq int    `json:"step_seq"`
				Tool    string `json:"tool"`
			} `json:"evidence"`
		} `json:"report"`
	}
	testenv.Eventually(t, 120*time.Second, "the investigation to complete", func() bool {
		get(t, p, "/api/v1/investigations/"+invID, &inv)
		if inv.Status == "failed" {
			t.Fatalf("investigation failed: %s", inv.Error)
		}
		return inv.Status == "completed"
	})

	// The kb.search step resolved the runbook_url to the upload and
	// returned its passages.
	seq := 0
	for _, s := range inv.Steps {
		if s.Tool != "kb.search" || s.Input["kind"] == "incident" {
			continue
		}
		var out struct {
			Text string `json:"text"`
		}
		json.Unmarshal(s.Output, &out)
		if !strings.Contains(out.Text, "is the uploaded document \"Payment gateway timeouts\" ("+doc.ID+")") ||
			!strings.Contains(out.Text, "[1] Payment gateway timeouts") || !strings.Contains(out.Text, "payctl failover") {
			t.Fatalf("kb.search step %d (input %v) output:\n%s", s.Seq, s.Input, out.Text)
		}
		seq = s.Seq
	}
	if seq == 0 {
		t.Fatalf("no kb.search step for documents: %+v", inv.Steps)
	}
	// The report cites that step like any other evidence.
	if inv.Report == nil {
		t.Fatal("completed investigation without a report")
	}
	cited := false
	for _, f := range inv.Report.Findings {
		for _, c := range f.Citations {
			if c == seq && strings.Contains(f.Text, "Payment gateway timeouts") && strings.Contains(f.Text, fmt.Sprintf("[%d]", seq)) {
				cited = true
			}
		}
	}
	inEvidence := false
	for _, e := range inv.Report.Evidence {
		inEvidence = inEvidence || e.StepSeq == seq && e.Tool == "kb.search"
	}
	for _, f := range inv.Report.Findings {
		t.Logf("finding: %s", f.Text)
	}
	if !cited || !inEvidence {
		t.Fatalf("report does not cite the runbook step %d: %+v", seq, *inv.Report)
	}
}
