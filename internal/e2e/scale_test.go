package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// TestScaleBehindProxy is the scaled-out deployment of
// docs/operations/scaling.md in miniature: 3 servers, 2 workers, 2 chatbots
// and 2 schedulers on one PostgreSQL database and Redis, reached only
// through a round-robin proxy that routes /ws to the chatbots and the rest
// to the servers (as the Helm chart's ingress does, no affinity). Through
// it: a chat turn over /ws, alerts arriving, live events, and the incident
// lifecycle of an Alertmanager group. Mid-run one worker (while it runs
// investigations) and the chatbot holding the chat client are killed with
// kill -9. Nothing is lost: every acknowledged alert is stored, every
// investigation completes, the chat client reconnects through the proxy to
// the other chatbot and resumes from its last seq without a frame missing
// or repeated, and periodic jobs keep running once per period.
//
// Timing: steps wait AURORA_DEBUG_STEP_DELAY (2s) so work is in flight at
// the kill. The killed worker's jobs stay "running" until they are older
// than AURORA_JOB_RESCUE_AFTER (16s) and River's rescuer (every 30s, on the
// elected worker) hands them back, so recovery takes roughly 20–50s.
func TestScaleBehindProxy(t *testing.T) {
	t.Parallel()
	px := startProxy(t)
	c := startCluster(t, testenv.Env{
		"REDIS_URL":                       testenv.Redis(t),
		"AURORA_PUBLIC_URL":               px.URL, // links Aurora builds point at the ingress
		"AURORA_SCHEDULER_INTERVAL":       "2s",
		"AURORA_DEBUG_STEP_DELAY":         "2s",
		"AURORA_JOB_TIMEOUT":              "15s",
		"AURORA_JOB_RESCUE_AFTER":         "16s",
		"AURORA_CHAT_CONFIRM_TIMEOUT":     "10s",
		"AURORA_INVESTIGATION_RATE_LIMIT": "0", // every incident's investigation starts at once
	}, 3, 2, 2)
	var chatbots []*testenv.Process
	for i := range 2 {
		chatbots = append(chatbots, testenv.Start(t, fmt.Sprintf("chatbot%d", i+1), merge(c.env, testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(t)}), "chatbot"))
	}
	var serverHosts []string
	for _, s := range c.servers {
		serverHosts = append(serverHosts, hostOf(s))
	}
	px.servers.set(serverHosts...)
	px.chatbots.set(hostOf(chatbots[0]), hostOf(chatbots[1]))
	api := testenv.Remote(t, "proxy", px.URL)

	sse := openSSE(t, "sse@proxy", px.URL, "")

	// A chat turn over /ws through the proxy.
	user := newToken(t, px.URL, "editor") // its own rate-limit budget (Redis is shared between tests)
	cc := connect(t, "client", px.URL, user)
	var bot, otherBot *testenv.Process
	for i, b := range chatbots {
		if hostOf(b) == px.chatbots.Last() {
			bot, otherBot = b, chatbots[1-i]
		}
	}
	if bot == nil {
		t.Fatalf("the chat connection was not forwarded to a chatbot (last %q)", px.chatbots.Last())
	}
	cc.send(map[string]any{"type": "query", "text": "What is wrong with deployment cart in namespace store?"})
	s, _ := cc.waitFor(0, 30*time.Second, "session", isType("session"))
	sid := s.str("id")

	// Alerts keep arriving through the proxy across the kills.
	load := make(chan []loadPost, 1)
	go func() { load <- postLoad(px.URL, 20, 250*time.Millisecond) }()

	cc.waitFor(0, 60*time.Second, "first tool_call", isType("tool_call"))
	victim, victimID, inflight := busiestWorker(t, c)
	victim.Kill()
	bot.Kill()
	killed := time.Now()
	// An investigation that finished its last step in the instant between
	// the query and the kill was not interrupted; the rest were. A job the
	// worker had claimed but not yet begun has no attempt recorded: its
	// retry is its first.
	attemptsAtKill := map[string]int{}
	inflight = slices.DeleteFunc(inflight, func(id string) bool {
		var inv investigation
		get(t, api, "/api/v1/investigations/"+id, &inv)
		attemptsAtKill[id] = inv.Attempts
		return inv.Status == "completed" && inv.Attempts == 1
	})
	if len(inflight) == 0 {
		t.Fatalf("%s finished all its investigations before the kill; nothing was interrupted", victim.Name)
	}
	t.Logf("killed %s (running investigations %v) and %s", victim.Name, inflight, bot.Name)

	// The chat client reconnects through the proxy, which can only reach
	// the other chatbot now, and resumes after the last seq it saw.
	var seen []frame
	var last int64
	for _, f := range cc.all() {
		if f.seq() > 0 {
			seen = append(seen, f)
			last = f.seq()
		}
	}
	if findFrame(seen, isType("done")) != nil {
		t.Fatal("the turn finished before the chatbot was killed; nothing was resumed mid-turn")
	}
	cc2 := connect(t, "client-reconnected", px.URL, user)
	if got := px.chatbots.Last(); got != hostOf(otherBot) {
		t.Fatalf("the reconnect went to %s, want the surviving %s (%s)", got, otherBot.Name, hostOf(otherBot))
	}
	cc2.send(map[string]any{"type": "resume", "session_id": sid, "after_seq": last})

	// The incident lifecycle, through the proxy, while the dead worker's
	// jobs wait to be rescued.
	lifecycleIncident := lifecycleThroughProxy(t, api, px.URL)

	// Every alert answered 202 is stored, in the incident it was answered with.
	posts := <-load
	var incidents []string
	for _, p := range posts {
		if p.err != "" {
			t.Errorf("alert %d: %s", p.i, p.err)
			continue
		}
		incidents = append(incidents, p.res.IncidentIDs[0])
		var d incidentDetail
		get(t, api, "/api/v1/incidents/"+p.res.IncidentIDs[0], &d)
		if len(d.Alerts) != 1 || d.Alerts[0].ID != p.res.AlertIDs[0] {
			t.Errorf("alert %d (%s) is not stored in incident %s: %+v", p.i, p.res.AlertIDs[0], d.ID, d.Alerts)
		}
	}
	if len(incidents) != len(posts) {
		t.Fatalf("%d of %d alerts acknowledged", len(incidents), len(posts))
	}

	// Every investigation completes, including those the killed worker held
	// (retried: attempts ≥ 2, finished steps kept).
	for _, id := range append(incidents, lifecycleIncident) {
		testenv.Eventually(t, 150*time.Second, "incident "+id+"'s investigation to complete", func() bool {
			var d incidentDetail
			get(t, api, "/api/v1/incidents/"+id, &d)
			if d.Investigation != nil && (d.Investigation.Status == "failed" || d.Investigation.Status == "cancelled") {
				t.Fatalf("incident %s: investigation %s", id, d.Investigation.Status)
			}
			return d.Investigation != nil && d.Investigation.Status == "completed"
		})
	}
	for _, invID := range inflight {
		var inv investigation
		get(t, api, "/api/v1/investigations/"+invID, &inv)
		if inv.Status != "completed" || inv.Attempts <= attemptsAtKill[invID] || inv.Report == nil {
			t.Errorf("investigation %s held by the killed worker: %s, attempts %d (%d at the kill), report %v; want completed on a retry with a report", invID, inv.Status, inv.Attempts, attemptsAtKill[invID], inv.Report != nil)
		}
		for _, st := range inv.Steps {
			if st.Status != "completed" {
				t.Errorf("investigation %s step %d is %s", invID, st.Seq, st.Status)
			}
		}
	}
	t.Logf("all %d investigations complete %s after the kill", len(incidents)+1, time.Since(killed).Round(time.Second))

	// The live stream (one server, through the proxy) saw every incident
	// created and its investigation completed.
	for _, id := range append(incidents, lifecycleIncident) {
		sse.waitFor(t, 30*time.Second, "incident.created", "id", id)
		sse.waitFor(t, 30*time.Second, "investigation.updated", "incident_id", id, "status", "completed")
	}
	checkOrdered(t, sse.name, sse.Events())

	// The chat turn ends on the other chatbot; across both connections
	// every frame arrived once, in seq order.
	cc2.waitFor(0, 150*time.Second, "done after the resume", isType("done"))
	time.Sleep(300 * time.Millisecond) // nothing may follow done; give a stray frame the chance to show
	for _, f := range cc2.all() {
		if f.seq() > 0 {
			seen = append(seen, f)
		}
	}
	checkTurnOnce(t, seen)
	if text := assistantText(t, seen); !strings.Contains(text, "I investigated deployment cart in namespace store") {
		t.Errorf("answer: %q", text)
	}

	// Periodic jobs ran once per period, before and after the kill, the
	// later ones by the surviving worker.
	after := killed.UTC().Truncate(2 * time.Second).Add(2 * time.Second)
	var runs page[jobRun]
	testenv.Eventually(t, 60*time.Second, "2 periods of retention and auto_resolve after the kill", func() bool {
		get(t, api, "/api/v1/jobs/runs", &runs)
		n := map[string]int{}
		for _, r := range runs.Items {
			if p, err := time.Parse(time.RFC3339, r.Period); err == nil && !p.Before(after) {
				n[r.Kind]++
			}
		}
		return n["retention"] >= 2 && n["auto_resolve"] >= 2
	})
	once := map[string]bool{}
	for _, r := range runs.Items {
		k := r.Kind + " " + r.Period
		if once[k] {
			t.Errorf("%s ran twice", k)
		}
		once[k] = true
		if p, err := time.Parse(time.RFC3339, r.Period); err == nil && !p.Before(after) && r.RanBy == victimID {
			t.Errorf("%s ran by the killed worker %s", k, r.RanBy)
		}
	}
	t.Logf("%d periodic job runs", len(runs.Items))

	// The proxy spread the requests over every server and both chatbots.
	served := px.servers.Served()
	for _, s := range c.servers {
		if served[hostOf(s)] == 0 {
			t.Errorf("%s served no request through the proxy (%v)", s.Name, served)
		}
	}
	t.Logf("requests per server %v, WebSocket upgrades per chatbot %v", served, px.chatbots.Served())
}

// loadPost is one alert of postLoad: its answer or why it failed.
type loadPost struct {
	i   int
	res ingestResult
	err string
}

// postLoad posts n alerts (each its own incident) to base, one every
// `every`, and returns what each got. It runs off the test goroutine, so it
// reports failures instead of stopping the test.
func postLoad(base string, n int, every time.Duration) []loadPost {
	out := make([]loadPost, n)
	for i := range n {
		out[i].i = i
		body := genericAlert(fmt.Sprintf("Scale load %d", i), fmt.Sprintf("ScaleLoad%d", i), "scale")
		code, data, err := postRaw(base+"/webhooks/generic", testenv.AdminToken, body)
		switch {
		case err != nil:
			out[i].err = err.Error()
		case code != http.StatusAccepted:
			out[i].err = fmt.Sprintf("status %d: %s", code, data)
		case json.Unmarshal(data, &out[i].res) != nil || len(out[i].res.IncidentIDs) != 1 || len(out[i].res.AlertIDs) != 1:
			out[i].err = fmt.Sprintf("answer %s", data)
		}
		time.Sleep(every)
	}
	return out
}

// postRaw POSTs JSON with a bearer token, without a *testing.T.
func postRaw(u, token string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

var processIDRe = regexp.MustCompile(`msg="aurora starting".* process=(\S+)`)

// busiestWorker waits until a worker runs at least one investigation job
// and returns the worker running the most, its process id (River's
// attempted_by) and the investigations it runs.
func busiestWorker(t *testing.T, c *cluster) (*testenv.Process, string, []string) {
	t.Helper()
	db, err := sql.Open("pgx", c.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	byID := map[string]*testenv.Process{}
	for _, w := range c.workers {
		m := processIDRe.FindStringSubmatch(w.Output())
		if m == nil {
			t.Fatalf("%s did not log its process id:\n%s", w.Name, w.Output())
		}
		byID[m[1]] = w
	}
	running := map[string][]string{}
	testenv.Eventually(t, 60*time.Second, "a worker to run an investigation", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rows, err := db.QueryContext(ctx, `SELECT attempted_by[array_length(attempted_by, 1)], args->>'investigation_id'
			FROM river_job WHERE state = 'running' AND kind = 'investigation'`)
		if err != nil {
			t.Fatalf("read running jobs: %v", err)
		}
		defer rows.Close()
		clear(running)
		for rows.Next() {
			var who, inv string
			if err := rows.Scan(&who, &inv); err != nil {
				t.Fatal(err)
			}
			running[who] = append(running[who], inv)
		}
		return rows.Err() == nil && len(running) > 0
	})
	best := ""
	for id := range running {
		if best == "" || len(running[id]) > len(running[best]) {
			best = id
		}
	}
	w := byID[best]
	if w == nil {
		t.Fatalf("investigations run by %q, which is none of the workers %v", best, slices.Collect(maps.Keys(byID)))
	}
	return w, best, running[best]
}

// lifecycleThroughProxy follows an Alertmanager group through the proxy:
// firing → one incident whose investigation completes → the same group
// delivered again three times at once (landing on different servers) is
// a duplicate → the resolved group resolves it. It returns the incident.
// Other incidents may exist: it checks only its own.
func lifecycleThroughProxy(t *testing.T, api *testenv.Process, public string) string {
	t.Helper()
	var integ struct {
		Token      string `json:"token"`
		WebhookURL string `json:"webhook_url"`
	}
	if code := api.Do(http.MethodPost, "/api/v1/integrations", map[string]string{"source": "alertmanager", "name": "am-scale"}, &integ); code != http.StatusCreated || integ.Token == "" {
		t.Fatalf("create integration through the proxy: %d %+v", code, integ)
	}
	if want := public + "/webhooks/alertmanager"; integ.WebhookURL != want {
		t.Errorf("webhook_url = %q, want the public (proxy) %q", integ.WebhookURL, want)
	}

	startsAt := time.Now().Add(-3 * time.Minute).Truncate(time.Second)
	firing := alertmanagerGroup("firing", startsAt, time.Time{})
	res := postAlerts(t, api.URL, integ.Token, "alertmanager", firing)
	if res.Accepted != 2 || len(res.AlertIDs) != 2 || len(res.IncidentIDs) != 1 {
		t.Fatalf("firing group: %+v, want 2 alerts in 1 incident", res)
	}
	incID := res.IncidentIDs[0]

	var inv investigation
	testenv.Eventually(t, 150*time.Second, "the group's investigation to complete", func() bool {
		var d incidentDetail
		get(t, api, "/api/v1/incidents/"+incID, &d)
		if d.Investigation == nil {
			return false
		}
		get(t, api, "/api/v1/investigations/"+d.Investigation.ID, &inv)
		if inv.Status == "failed" || inv.Status == "cancelled" {
			t.Fatalf("investigation %s: %s", inv.Status, inv.Error)
		}
		return inv.Status == "completed"
	})
	if inv.Report == nil || inv.Report.Verdict == "" || len(inv.Steps) < 2 {
		t.Errorf("completed investigation: report %+v, %d steps", inv.Report, len(inv.Steps))
	}

	// Re-deliveries racing each other on different servers.
	const again = 3
	var wg sync.WaitGroup
	answers := make([]loadPost, again)
	for i := range again {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, data, err := postRaw(api.URL+"/webhooks/alertmanager", integ.Token, firing)
			switch {
			case err != nil:
				answers[i].err = err.Error()
			case code != http.StatusAccepted:
				answers[i].err = fmt.Sprintf("status %d: %s", code, data)
			case json.Unmarshal(data, &answers[i].res) != nil:
				answers[i].err = fmt.Sprintf("answer %s", data)
			}
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.err != "" {
			t.Errorf("re-delivery %d: %s", i, a.err)
			continue
		}
		if len(a.res.IncidentIDs) != 1 || a.res.IncidentIDs[0] != incID || !sameSet(a.res.AlertIDs, res.AlertIDs) {
			t.Errorf("re-delivery %d: %+v, want alerts %v of incident %s", i, a.res, res.AlertIDs, incID)
		}
	}
	var d incidentDetail
	get(t, api, "/api/v1/incidents/"+incID, &d)
	if d.AlertCount != 2 || len(d.Alerts) != 2 || d.Status != "open" {
		t.Errorf("after re-delivery: %s with %d alerts (%d listed), want open with 2", d.Status, d.AlertCount, len(d.Alerts))
	}
	for _, a := range d.Alerts {
		if a.ReceivedCount != 1+again {
			t.Errorf("alert %s received_count = %d, want %d", a.Fingerprint, a.ReceivedCount, 1+again)
		}
	}

	endsAt := time.Now().Truncate(time.Second)
	code, body := rawDo(t, http.MethodPost, api.URL+"/webhooks/alertmanager?token="+url.QueryEscape(integ.Token),
		map[string]string{"Content-Type": "application/json"}, bytes.NewReader(alertmanagerGroup("resolved", startsAt, endsAt)))
	if code != http.StatusAccepted {
		t.Fatalf("resolved group: %d %s", code, body)
	}
	get(t, api, "/api/v1/incidents/"+incID, &d)
	if d.Status != "resolved" || d.FiringCount != 0 || d.ResolvedAt == nil {
		t.Errorf("after the resolved group: %s, firing %d, resolved_at %v; want resolved, 0, set", d.Status, d.FiringCount, d.ResolvedAt)
	}
	for _, a := range d.Alerts {
		if a.Status != "resolved" || a.EndsAt == nil || !a.EndsAt.Equal(endsAt) {
			t.Errorf("alert %s: %s ending %v, want resolved ending %v", a.Fingerprint, a.Status, a.EndsAt, endsAt)
		}
	}
	return incID
}
