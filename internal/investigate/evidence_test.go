package investigate_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/investigate"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/toolset"
)

// clusterTool stands in for a live cluster (none can run here): it answers
// with kubectl output recorded in a scenario bundle.
type clusterTool struct {
	name   string
	answer func(args map[string]any) (string, error)
}

func (c clusterTool) Name() string                { return c.name }
func (c clusterTool) Description() string         { return "test double of " + c.name }
func (c clusterTool) Parameters() json.RawMessage { return json.RawMessage(`{"type":"object"}`) }
func (c clusterTool) ReadOnly() bool              { return true }
func (c clusterTool) Timeout() time.Duration      { return time.Second }
func (c clusterTool) Call(_ context.Context, args map[string]any) (toolset.Result, error) {
	out, err := c.answer(args)
	return toolset.Result{Output: out}, err
}

func recorded(t testing.TB, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../testdata/scenarios/oom-cart-api/evidence", file))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), "\n") // drop the bundle header line
	return rest
}

// A webhook-triggered investigation of a Kubernetes-labelled alert gathers
// evidence with the configured tools and reports the cause the analyzers
// find, citing the steps.
func TestLiveInvestigationGathersEvidence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := storage.Open(ctx, storage.Options{SQLitePath: filepath.Join(t.TempDir(), "a.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	store := storage.NewStore(db)
	org, _ := store.EnsureDefaultOrg(ctx)
	svc := &incident.Service{Store: store, Now: time.Now, Jobs: nopQueue{}, Cfg: incident.Config{Rules: incident.DefaultRules(time.Hour), ReopenWindow: time.Hour,
		Investigate: map[alert.Severity]bool{alert.SeverityWarning: true}}}
	labels := map[string]string{"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "cart-api-7d9f8b6c4-x2kqp", "container": "cart-api"}
	res, err := svc.Ingest(ctx, incident.Request{OrgID: org.ID, Source: "alertmanager", Body: []byte("{}"), Alerts: []alert.Alert{{
		Source: "alertmanager", Fingerprint: alert.Fingerprint(labels), Status: alert.StatusFiring, Severity: alert.SeverityWarning,
		Name: "KubePodCrashLooping", Title: "Pod is crash looping.", Namespace: "shop", Labels: labels, StartsAt: time.Now()}}})
	if err != nil {
		t.Fatal(err)
	}
	inc, _ := store.GetIncident(ctx, org.ID, res.IncidentIDs[0])

	reg, err := toolset.NewRegistry(
		clusterTool{"kubernetes.describe", func(args map[string]any) (string, error) {
			if args["kind"] == "pod" {
				return recorded(t, "02-describe-pod-cart-api-7d9f8b6c4-x2kqp.txt"), nil
			}
			return "", errors.New("not found")
		}},
		clusterTool{"kubernetes.logs", func(args map[string]any) (string, error) { return "", errors.New("no logs recorded") }},
		clusterTool{"kubernetes.events", func(map[string]any) (string, error) { return recorded(t, "04-events-shop.txt"), nil }},
		clusterTool{"kubernetes.get", func(map[string]any) (string, error) { return recorded(t, "01-get-pods-shop.txt"), nil }},
	)
	if err != nil {
		t.Fatal(err)
	}
	r := &investigate.Runner{Store: store, Now: time.Now, Tools: reg}
	if err := r.Run(ctx, org.ID, inc.Investigation.ID, false); err != nil {
		t.Fatal(err)
	}
	v, _ := store.GetInvestigation(ctx, org.ID, inc.Investigation.ID)
	var rep investigate.Report
	_ = json.Unmarshal(v.Report, &rep)
	if v.Status != "completed" || rep.Verdict != "CONFIRMED" || rep.RootCause == nil || rep.RootCause.Category != "oom" ||
		rep.RootCause.Object != "pod/shop/cart-api-7d9f8b6c4-x2kqp" || !strings.Contains(rep.RootCause.Summary, "256Mi") {
		t.Fatalf("report: %s", v.Report)
	}
	tools := map[string]int{}
	for _, s := range v.Steps {
		tools[s.Tool]++
	}
	if tools["kubernetes.describe"] != 1 || tools["kubernetes.logs"] != 2 || tools["kubernetes.events"] != 1 || tools["aurora.report"] != 1 {
		t.Fatalf("steps: %v", tools)
	}
	// The root cause cites an evidence step, which holds the output.
	cited := rep.Findings[0].Citations[0]
	if v.Steps[cited-1].Kind != "evidence" {
		t.Fatalf("finding cites step %d: %+v", cited, v.Steps[cited-1])
	}
}

// ToolsFor gives each org its own tools and its own list of sources not
// checked, in place of the Runner's Tools.
func TestToolsForOrg(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := storage.Open(ctx, storage.Options{SQLitePath: filepath.Join(t.TempDir(), "a.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	store := storage.NewStore(db)
	org, _ := store.EnsureDefaultOrg(ctx)
	svc := &incident.Service{Store: store, Now: time.Now, Jobs: nopQueue{}, Cfg: incident.Config{Rules: incident.DefaultRules(time.Hour), ReopenWindow: time.Hour,
		Investigate: map[alert.Severity]bool{alert.SeverityWarning: true}}}
	labels := map[string]string{"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": "cart-api-7d9f8b6c4-x2kqp"}
	res, err := svc.Ingest(ctx, incident.Request{OrgID: org.ID, Source: "alertmanager", Body: []byte("{}"), Alerts: []alert.Alert{{
		Source: "alertmanager", Fingerprint: alert.Fingerprint(labels), Status: alert.StatusFiring, Severity: alert.SeverityWarning,
		Name: "KubePodCrashLooping", Title: "Pod is crash looping.", Namespace: "shop", Labels: labels, StartsAt: time.Now()}}})
	if err != nil {
		t.Fatal(err)
	}
	inc, _ := store.GetIncident(ctx, org.ID, res.IncidentIDs[0])
	orgTools, _ := toolset.NewRegistry(clusterTool{"kubernetes.describe", func(args map[string]any) (string, error) {
		return recorded(t, "02-describe-pod-cart-api-7d9f8b6c4-x2kqp.txt"), nil
	}})
	envTools, _ := toolset.NewRegistry(clusterTool{"kubernetes.events", func(map[string]any) (string, error) {
		t.Error("the environment's tools were used although the org has its own")
		return "", nil
	}})
	var asked string
	r := &investigate.Runner{Store: store, Now: time.Now, Tools: envTools,
		ToolsFor: func(_ context.Context, orgID string) (*toolset.Registry, []investigate.NotChecked, error) {
			asked = orgID
			return orgTools, []investigate.NotChecked{{Source: "prometheus", Reason: "disabled in the org's settings"}}, nil
		}}
	if err := r.Run(ctx, org.ID, inc.Investigation.ID, false); err != nil {
		t.Fatal(err)
	}
	if asked != org.ID {
		t.Fatalf("ToolsFor asked for org %q, want %q", asked, org.ID)
	}
	v, _ := store.GetInvestigation(ctx, org.ID, inc.Investigation.ID)
	var rep investigate.Report
	_ = json.Unmarshal(v.Report, &rep)
	if rep.RootCause == nil || rep.RootCause.Category != "oom" {
		t.Fatalf("report: %s", v.Report)
	}
	sources := map[string]string{}
	for _, n := range rep.NotChecked {
		sources[n.Source] = n.Reason
	}
	if sources["prometheus"] != "disabled in the org's settings" || sources["llm"] == "" || len(sources) != 2 {
		t.Fatalf("not checked: %+v", rep.NotChecked)
	}

	// A failing ToolsFor fails the attempt (the queue retries it).
	failing := &investigate.Runner{Store: store, Now: time.Now, ToolsFor: func(context.Context, string) (*toolset.Registry, []investigate.NotChecked, error) {
		return nil, nil, errors.New("settings unavailable")
	}}
	res2, _ := svc.Reinvestigate(ctx, org.ID, inc.ID, "test")
	if err := failing.Run(ctx, org.ID, res2.Investigation.ID, false); err == nil || !strings.Contains(err.Error(), "settings unavailable") {
		t.Fatalf("failing ToolsFor: %v", err)
	}
}
