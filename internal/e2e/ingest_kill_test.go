package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/alert"
	"github.com/aurora-oss/aurora/internal/bench"
	"github.com/aurora-oss/aurora/internal/storage"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// TestIngestKillLosesNothingAcknowledged sends deliveries from 8 concurrent
// senders (so that, embedded, they are committed in groups), kills the
// server with kill -9 while deliveries are in flight, and checks that every
// alert of every delivery answered 202 is in the database: Aurora answers
// only after the transaction that stores a delivery committed.
func TestIngestKillLosesNothingAcknowledged(t *testing.T) {
	t.Parallel()
	for _, b := range []backend{embedded, postgres} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			p, env := startAll(t, b, testenv.Env{"AURORA_INVESTIGATE_SEVERITIES": "none"})
			gen := bench.Generator{RunID: "kill" + strconv.FormatInt(time.Now().UnixNano(), 36), Alerts: 1_000_000, Group: 10}
			var (
				mu    sync.Mutex
				acked []string // alert ids answered 202
				next  int
				wg    sync.WaitGroup
			)
			stop := make(chan struct{})
			client := &http.Client{Timeout: 60 * time.Second}
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						mu.Lock()
						r := next
						next++
						mu.Unlock()
						req, _ := http.NewRequest(http.MethodPost, p.URL+"/webhooks/alertmanager", bytes.NewReader(gen.Payload(r, alert.StatusFiring, time.Now())))
						req.Header.Set("Authorization", "Bearer "+testenv.AdminToken)
						req.Header.Set("Content-Type", "application/json")
						resp, err := client.Do(req)
						if err != nil {
							continue // the server is gone; stop is coming
						}
						body, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusAccepted {
							continue
						}
						var res struct {
							AlertIDs []string `json:"alert_ids"`
						}
						if err := json.Unmarshal(body, &res); err != nil || len(res.AlertIDs) != gen.GroupSize(r) {
							t.Errorf("delivery %d answered 202 with %s (%v)", r, body, err)
							continue
						}
						mu.Lock()
						acked = append(acked, res.AlertIDs...)
						mu.Unlock()
					}
				}()
			}
			// Kill once a few hundred deliveries were acknowledged, with
			// the senders still sending.
			deadline := time.Now().Add(2 * time.Minute)
			for {
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n >= 3000 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("only %d alerts acknowledged in 2 minutes", n)
				}
				time.Sleep(20 * time.Millisecond)
			}
			p.Kill()
			close(stop)
			wg.Wait()

			o := storage.Options{PostgresURL: env["DATABASE_URL"]}
			if o.PostgresURL == "" {
				o.SQLitePath = filepath.Join(env["AURORA_DATA_DIR"], "aurora.db")
			}
			ctx := context.Background()
			db, err := storage.Open(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			stored := map[string]bool{}
			rows, err := db.W.QueryContext(ctx, `SELECT id FROM alerts`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				stored[id] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			lost := 0
			for _, id := range acked {
				if !stored[id] {
					lost++
				}
			}
			t.Logf("%d alerts acknowledged before the kill, %d stored (also those committed but not yet answered)", len(acked), len(stored))
			if lost > 0 {
				t.Fatalf("%d of %d acknowledged alerts are not stored after kill -9", lost, len(acked))
			}
		})
	}
}
