package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// readyBody is GET /ready's answer.
type readyBody struct {
	Status string `json:"status"`
	Checks map[string]struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	} `json:"checks"`
}

func readyOf(t *testing.T, p *testenv.Process) (int, readyBody) {
	t.Helper()
	code, body := rawDo(t, http.MethodGet, p.URL+"/ready", nil, nil)
	var r readyBody
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("/ready: %d %s: %v", code, body, err)
	}
	return code, r
}

// A streaming replica (initdb + pg_basebackup) serves the reads; writes go
// to the primary; a lagging or stopped replica is skipped without a single
// failed request, reported in /ready and /metrics, and taken back when it
// recovers.
func TestReadReplica(t *testing.T) {
	t.Parallel()
	pg := testenv.PostgresWithReplica(t)
	p, _ := startAll(t, backend{"replica", func(*testing.T) testenv.Env { return testenv.Env{"DATABASE_URL": pg.PrimaryURL} }}, testenv.Env{
		"POSTGRES_READ_REPLICA_HOST":    pg.ReplicaAddr,
		"POSTGRES_READ_REPLICA_MAX_LAG": "2s",
	})
	p.WaitHealthy(60 * time.Second)
	upMetric := fmt.Sprintf("aurora_db_replica_up{replica=%q}", pg.ReplicaAddr)
	connMetric := fmt.Sprintf("aurora_db_replica_connections_opened_total{replica=%q}", pg.ReplicaAddr)
	replica, err := sql.Open("pgx", pg.ReplicaURL)
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close()
	primary, err := sql.Open("pgx", pg.PrimaryURL)
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close()

	testenv.Eventually(t, 20*time.Second, "the replica to be in use", func() bool { return metricValue(t, p, upMetric) == "1" })
	if code, r := readyOf(t, p); code != http.StatusOK || r.Status != "ready" || r.Checks["database_replicas"].Status != "ok" {
		t.Fatalf("/ready with a healthy replica = %d %+v", code, r)
	}

	// Writes succeed (the replica would refuse them: it is read-only) and
	// land on the primary; reads open their connections on the replica.
	res := postAlerts(t, p.URL, testenv.AdminToken, "generic", genericAlert("Replica read path", "ReplicaRead", "replica-svc"))
	id := res.IncidentIDs[0]
	var onPrimary int
	if err := primary.QueryRow(`SELECT count(*) FROM incidents WHERE id = $1`, id).Scan(&onPrimary); err != nil || onPrimary != 1 {
		t.Fatalf("incident on the primary: %d %v", onPrimary, err)
	}
	testenv.Eventually(t, 10*time.Second, "the incident to reach the replica", func() bool {
		var n int
		return replica.QueryRow(`SELECT count(*) FROM incidents WHERE id = $1`, id).Scan(&n) == nil && n == 1
	})
	// limit=37 makes the list query's text unique ("LIMIT 38") in the
	// servers' statement logs.
	const marker = "LIMIT 38"
	onReplica, onPrimary := strings.Count(pg.ReplicaLog(), marker), strings.Count(pg.PrimaryLog(), marker)
	for range 20 {
		get(t, p, "/api/v1/incidents?limit=37", nil)
		get(t, p, "/api/v1/incidents/"+id, nil)
	}
	if n := strings.Count(pg.ReplicaLog(), marker) - onReplica; n != 20 {
		t.Errorf("the replica ran %d of 20 list queries, want all", n)
	}
	if n := strings.Count(pg.PrimaryLog(), marker) - onPrimary; n != 0 {
		t.Errorf("the primary ran %d of 20 list queries, want none", n)
	}
	if n := strings.Count(pg.ReplicaLog(), "INSERT INTO"); n != 0 {
		t.Errorf("%d INSERTs were sent to the replica", n)
	}
	if n := strings.Count(pg.PrimaryLog(), "INSERT INTO incidents"); n < 1 {
		t.Errorf("the primary's log has no INSERT INTO incidents")
	}
	if n, _ := strconv.Atoi(metricValue(t, p, connMetric)); n < 1 {
		t.Errorf("%s = %d, want ≥ 1", connMetric, n)
	}
	investigationOf(t, p, id) // the worker path reads its own writes on the primary

	// Lag beyond the bound: replay paused, a new incident is still visible
	// once the replica is skipped, and /ready says why.
	if _, err := replica.Exec(`SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	lagged := postAlerts(t, p.URL, testenv.AdminToken, "generic", genericAlert("Written while the replica lags", "ReplicaLag", "replica-svc")).IncidentIDs[0]
	testenv.Eventually(t, 20*time.Second, "the lagging replica to be skipped", func() bool { return metricValue(t, p, upMetric) == "0" })
	if code, r := readyOf(t, p); code != http.StatusOK || r.Status != "degraded" || r.Checks["database_replicas"].Status != "degraded" {
		t.Fatalf("/ready with a lagging replica = %d %+v", code, r)
	}
	get(t, p, "/api/v1/incidents/"+lagged, nil)
	if _, err := replica.Exec(`SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "the caught-up replica to be used again", func() bool { return metricValue(t, p, upMetric) == "1" })

	// Shutdown under traffic: not one request fails.
	stop := make(chan struct{})
	failures := make(chan string, 100)
	done := make(chan int)
	go func() {
		n := 0
		defer func() { done <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, path := range []string{"/api/v1/incidents?limit=20", "/api/v1/incidents/" + id, "/api/v1/alerts"} {
				code, body := rawDo(t, http.MethodGet, p.URL+path, map[string]string{"Authorization": "Bearer " + testenv.AdminToken}, nil)
				n++
				if code != http.StatusOK {
					select {
					case failures <- fmt.Sprintf("GET %s: %d %s", path, code, body):
					default:
					}
				}
			}
		}
	}()
	time.Sleep(500 * time.Millisecond)
	pg.StopReplica()
	afterStop := postAlerts(t, p.URL, testenv.AdminToken, "generic", genericAlert("Written with the replica down", "ReplicaDown", "replica-svc")).IncidentIDs[0]
	get(t, p, "/api/v1/incidents/"+afterStop, nil)
	testenv.Eventually(t, 20*time.Second, "the stopped replica to be reported", func() bool { return metricValue(t, p, upMetric) == "0" })
	time.Sleep(time.Second)
	close(stop)
	reads := <-done
	close(failures)
	for f := range failures {
		t.Errorf("a read failed while the replica stopped: %s", f)
	}
	if reads < 10 {
		t.Errorf("only %d reads ran during the shutdown", reads)
	}
	if code, r := readyOf(t, p); code != http.StatusOK || r.Checks["database_replicas"].Status != "degraded" || r.Checks["database"].Status != "ok" {
		t.Fatalf("/ready with the replica down = %d %+v", code, r)
	}

	// It comes back by itself.
	pg.StartReplica()
	testenv.Eventually(t, 30*time.Second, "the restarted replica to be used again", func() bool { return metricValue(t, p, upMetric) == "1" })
	if code, r := readyOf(t, p); code != http.StatusOK || r.Status != "ready" {
		t.Fatalf("/ready after the replica returned = %d %+v", code, r)
	}
	t.Logf("%d reads during the replica shutdown, none failed", reads)
}
