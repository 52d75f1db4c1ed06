package web

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/auth"
	"github.com/aurora-oss/aurora/internal/storage"
)

var assetHash = regexp.MustCompile(`\?v=[0-9a-f]+`)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestRenderIncidentGolden renders the incident page from a fixed incident,
// report and steps whose fields carry markup, and compares the HTML with
// testdata/incident.golden.html: the citations become links to their steps,
// and every attacker-controlled string is escaped. Run with -update after an
// intended template change, and review the diff.
func TestRenderIncidentGolden(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	h, err := New(Options{Now: func() time.Time { return now }, PublicURL: "http://aurora.example:8080",
		APIRoutes: []string{"POST /api/v1/chat/token"}})
	if err != nil {
		t.Fatal(err)
	}
	evil := `<script>alert(1)</script>"><img src=x onerror=alert(2)>`
	started := now.Add(-5 * time.Minute)
	finished := started.Add(1500 * time.Millisecond)
	inv := storage.Investigation{ID: "inv-1", Status: storage.InvestigationCompleted, Trigger: "alert",
		Report: storage.RawJSON(`{"version":1,"verdict":"LIKELY","confidence":0.7,"summary":"checkout pods were OOM killed [1] after the deploy [2].",
			"root_cause":{"category":"oom_killed","object":"pod/shop/checkout-1","summary":"memory limit 256Mi is below the working set [1]"},
			"findings":[{"text":"checkout-1 OOMKilled 5 times [1]","citations":[1]},{"text":"` + `\u003cb\u003eraw\u003c/b\u003e` + ` deploy at 08:15","citations":[2,9]}],
			"evidence":[{"n":1,"step_seq":1,"tool":"kubernetes.describe","summary":"pod description"},{"n":2,"step_seq":2,"tool":"kubernetes.rollout_history","summary":"rollouts"}],
			"timeline":[{"at":"2026-11-27T08:15:00Z","event":"deploy of checkout v42"}],"impact":"checkout returns 503 [1]",
			"ruled_out":["node pressure"],"not_checked":[{"source":"logs","reason":"no log source is configured"}],
			"next_steps":[{"title":"Raise the memory limit","command":"kubectl -n shop set resources deploy/checkout --limits=memory=512Mi","risk":"medium","undo":"kubectl -n shop rollout undo deploy/checkout"}]}`),
		Steps: []storage.Step{
			{Seq: 1, Kind: "tool", Tool: "kubernetes.describe", Status: storage.StepCompleted, StartedAt: started, FinishedAt: &finished,
				Input: storage.RawJSON(`{"kind":"pod","name":"checkout-1"}`), Output: storage.RawJSON(`{"text":"Last State: Terminated\n  Reason: OOMKilled ` + "\\u003cscript\\u003e" + `"}`)},
			{Seq: 2, Kind: "tool", Tool: "kubernetes.rollout_history", Status: storage.StepFailed, StartedAt: started, FinishedAt: &finished, Error: "forbidden: " + evil},
		}}
	d := incidentData{
		Incident: storage.Incident{ID: "inc-1", Status: storage.IncidentOpen, Severity: "critical", Title: evil, Service: "checkout", Namespace: "shop",
			AlertCount: 2, FiringCount: 1, CreatedAt: now.Add(-10 * time.Minute), LastAlertAt: now.Add(-2 * time.Minute),
			Investigation: &storage.InvestigationRef{ID: "inv-1", Status: storage.InvestigationCompleted}},
		Alerts: []storage.Alert{{ID: "al-1", Source: "alertmanager", Status: "firing", Severity: "critical", Title: evil, Description: evil,
			Labels: map[string]string{"alertname": "KubePodOOM", evil: evil}, Annotations: map[string]string{"runbook": evil},
			StartsAt: now.Add(-10 * time.Minute), ReceivedCount: 3, CorrelationReason: "same service checkout in namespace shop within 30m"}},
		Timeline:       []storage.TimelineEvent{{At: now.Add(-10 * time.Minute), Message: "Incident opened by " + evil}},
		Investigations: []storage.Investigation{inv},
		Latest:         &inv,
		ChatAvailable:  true,
		Chat:           chatBox{Incident: "inc-1", Placeholder: "Why?"},
	}
	rep, err := decodeReport(inv.Report)
	if err != nil {
		t.Fatal(err)
	}
	d.Report = rep
	sess := &session{Email: "editor@example.com", Role: auth.Editor, CSRF: "csrf-token"}
	var buf bytes.Buffer
	if err := h.pages["incident"].ExecuteTemplate(&buf, "layout", page{Title: d.Incident.Title, Nav: "incidents", Session: sess, Data: d, LastEvent: 42}); err != nil {
		t.Fatal(err)
	}
	// Asset URLs carry content hashes; the golden file should not change
	// with every stylesheet edit.
	out := assetHash.ReplaceAll(buf.Bytes(), []byte("?v=HASH"))
	buf.Reset()
	buf.Write(out)
	golden := filepath.Join("testdata", "incident.golden.html")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("incident page differs from %s (run with -update and review the diff):\n%s", golden, buf.String())
	}
	for _, bad := range []string{"<script>alert", "<img src=x", "<b>raw</b>"} {
		if bytes.Contains(buf.Bytes(), []byte(bad)) {
			t.Errorf("unescaped %q in the page", bad)
		}
	}
}
