package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// The webhook → incident → investigation path, the API and live events run
// through PgBouncer in transaction pooling mode; migrations' advisory lock
// and LISTEN take the direct connection (POSTGRES_DIRECT_URL).
func TestThroughPgBouncer(t *testing.T) {
	t.Parallel()
	direct := testenv.Postgres(t)
	pooled := testenv.PgBouncer(t, direct)
	b := backend{"pgbouncer", func(*testing.T) testenv.Env { return testenv.Env{"DATABASE_URL": pooled} }}
	p, _ := startAll(t, b, testenv.Env{"POSTGRES_DIRECT_URL": direct})
	p.WaitHealthy(60 * time.Second)
	sse := openSSE(t, "sse", p.URL, "")
	var ids []string
	for i := range 5 {
		res := postAlerts(t, p.URL, testenv.AdminToken, "generic", genericAlert("Through the pooler", "PgBouncer"+string(rune('A'+i)), "pooled"))
		ids = append(ids, res.IncidentIDs...)
	}
	for _, id := range ids {
		inv := investigationOf(t, p, id)
		testenv.Eventually(t, 60*time.Second, "investigation "+inv.ID+" to finish", func() bool {
			get(t, p, "/api/v1/investigations/"+inv.ID, &inv)
			return inv.Status == "completed"
		})
		if inv.Report == nil {
			t.Errorf("investigation %s completed without a report", inv.ID)
		}
		sse.waitFor(t, 30*time.Second, "incident.created", "id", id)
	}
	// PATCH (a write answered from the primary) and lists work through it.
	if code := testenv.DoToken(t, p.URL, testenv.AdminToken, http.MethodPatch, "/api/v1/incidents/"+ids[0], map[string]any{"status": "acknowledged"}, nil); code != http.StatusOK {
		t.Fatalf("PATCH through pgbouncer: %d", code)
	}
	get(t, p, "/api/v1/incidents?limit=10", nil)
	if code, r := readyOf(t, p); code != http.StatusOK || r.Status != "ready" {
		t.Fatalf("/ready through pgbouncer = %d %+v", code, r)
	}
}
