package incident_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/incident"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// On PostgreSQL a delivery that adds alerts to an open incident,
// re-delivers alerts or resolves some takes two round trips (BEGIN, locks,
// raw payload, episodes, the group's incident, the resolved alerts'
// incidents and their firing count; then every write and COMMIT). Counted
// at the wire, so a statement added to the intake path shows here rather
// than as a slower benchmark.
func TestIngestRoundTripsPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	proxied, roundTrips := testenv.RoundTrips(t, testenv.Postgres(t))
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	_, svc, org := openIntake(t, storage.Options{PostgresURL: proxied, PoolMax: 1}, &now)
	group := func(from, n int) []alert.Alert {
		var out []alert.Alert
		for i := from; i < from+n; i++ {
			labels := map[string]string{"alertname": "HighLatency", "service": "api", "namespace": "prod", "pod": fmt.Sprintf("api-%d", i)}
			out = append(out, alert.Alert{Source: "alertmanager", Fingerprint: alert.Fingerprint(labels), Status: alert.StatusFiring,
				Severity: alert.SeverityWarning, Name: "HighLatency", Title: "HighLatency on api", Service: "api", Namespace: "prod", Labels: labels})
		}
		return out
	}
	resolved := func(alerts []alert.Alert) []alert.Alert {
		for i := range alerts {
			alerts[i].Status = alert.StatusResolved
		}
		return alerts
	}
	ingest := func(alerts []alert.Alert) incident.Result {
		t.Helper()
		now = now.Add(time.Second)
		res, err := svc.Ingest(ctx, incident.Request{OrgID: org.ID, Source: "alertmanager", ContentType: "application/json", Body: []byte(`{}`), Alerts: alerts})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// The first deliveries open the incident and prepare each statement
	// form on the one connection.
	first := ingest(group(0, 10))
	ingest(group(10, 10))
	ingest(group(0, 10))
	ingest(resolved(group(10, 10)))
	for _, c := range []struct {
		name    string
		alerts  []alert.Alert
		outcome string
	}{
		{"new alerts joining the open incident", group(20, 10), incident.OutcomeNew},
		{"re-delivered alerts", group(20, 10), incident.OutcomeDuplicate},
		{"resolved alerts", resolved(group(20, 10)), incident.OutcomeResolved},
	} {
		roundTrips()
		res := ingest(c.alerts)
		if n := roundTrips(); n != 2 {
			t.Errorf("%s: %d round trips, want 2", c.name, n)
		}
		if res.Outcomes[c.outcome] != 10 || len(res.IncidentIDs) != 1 || res.IncidentIDs[0] != first.IncidentIDs[0] {
			t.Errorf("%s: outcomes %v, incidents %v; want 10 %s in incident %v", c.name, res.Outcomes, res.IncidentIDs, c.outcome, first.IncidentIDs)
		}
	}
}
