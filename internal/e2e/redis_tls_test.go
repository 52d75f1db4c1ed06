package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/redisx"
	"github.com/aurora-oss/aurora/internal/testenv"
)

// REDIS_URL=rediss://… through the binary, against a real redis-server
// speaking only TLS: with the CA that signed its certificate in
// REDIS_SSL_CA_CERTS Aurora is ready, Redis up, and its live-event
// subscription runs over TLS; with another CA (REDIS_SSL_CERT_REQS
// required, the default) it stays up, degraded, and /ready says the
// certificate was refused and which settings to check; with
// REDIS_SSL_CERT_REQS=none the same wrong CA works. Each /ready answer is
// checked against the schema openapi.json gives it.
func TestRedisTLS(t *testing.T) {
	t.Parallel()
	srv := testenv.StartRedisTLS(t)
	for _, tc := range []struct {
		name     string
		env      testenv.Env
		degraded string // "": ready; else in the redis check's error
	}{
		{"ca verifies", testenv.Env{"REDIS_SSL_CA_CERTS": srv.CAFile}, ""},
		{"wrong ca required", testenv.Env{"REDIS_SSL_CA_CERTS": srv.OtherCAFile, "REDIS_SSL_CERT_REQS": "required"}, "certificate signed by unknown authority"},
		{"wrong ca none", testenv.Env{"REDIS_SSL_CA_CERTS": srv.OtherCAFile, "REDIS_SSL_CERT_REQS": "none"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, _ := startAll(t, postgres, merge(testenv.Env{"REDIS_URL": srv.URL("localhost")}, tc.env))
			p.WaitHealthy(60 * time.Second)
			if tc.degraded == "" {
				testenv.Eventually(t, 30*time.Second, "/ready with redis ok", func() bool {
					code, rb := readyOf(t, p)
					return code == http.StatusOK && rb.Status == "ready" && rb.Checks["redis"].Status == "ok"
				})
				testenv.Eventually(t, 10*time.Second, "aurora_redis_up 1", func() bool { return metricValue(t, p, "aurora_redis_up") == "1" })
				// The server's live-event subscription is on the TLS server.
				c, err := redisx.New(srv.URL("localhost"), redisx.TLS{CACerts: srv.CAFile})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				testenv.Eventually(t, 30*time.Second, "the server to subscribe over TLS", func() bool {
					n, err := c.PubSubNumSub(context.Background(), "aurora_events").Result()
					return err == nil && n["aurora_events"] >= 1
				})
			} else {
				var rb readyBody
				testenv.Eventually(t, 30*time.Second, "/ready to say degraded with the certificate error", func() bool {
					var code int
					code, rb = readyOf(t, p)
					return code == http.StatusOK && rb.Status == "degraded" && rb.Checks["redis"].Status == "degraded" &&
						strings.Contains(rb.Checks["redis"].Error, tc.degraded)
				})
				msg := rb.Checks["redis"].Error
				for _, want := range []string{"REDIS_SSL_CERT_REQS=required", "REDIS_SSL_CA_CERTS=" + srv.OtherCAFile} {
					if !strings.Contains(msg, want) {
						t.Errorf("/ready's redis error %q does not name %q", msg, want)
					}
				}
				if v := metricValue(t, p, "aurora_redis_up"); v != "0" {
					t.Errorf("aurora_redis_up = %s with the certificate refused", v)
				}
				// Degraded, not broken: webhooks still work.
				if ids, errs := sendAlerts(t, p, "RedisTLS", 1, 0); len(ids) != 1 {
					t.Errorf("webhook with Redis TLS refused: %v", errs)
				}
			}
			checkReadySchema(t, p)
		})
	}
}

// checkReadySchema checks the live /ready answer against the schema
// openapi.json documents for it (as served by the same binary): required
// fields, no undocumented field, statuses among the documented values, an
// error on each failed check, and the HTTP code the status implies.
func checkReadySchema(t *testing.T, p *testenv.Process) {
	t.Helper()
	code, raw := rawDo(t, http.MethodGet, p.URL+"/api/v1/openapi.json", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("openapi.json: %d", code)
	}
	type prop struct {
		Enum []string `json:"enum"`
	}
	type schema struct {
		Required             []string        `json:"required"`
		Properties           map[string]prop `json:"properties"`
		AdditionalProperties *struct {
			Required   []string        `json:"required"`
			Properties map[string]prop `json:"properties"`
		} `json:"additionalProperties"`
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Schema struct {
						Required   []string `json:"required"`
						Properties struct {
							Status prop   `json:"status"`
							Checks schema `json:"checks"`
						} `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	code, body := rawDo(t, http.MethodGet, p.URL+"/ready", nil, nil)
	resp, ok := doc.Paths["/ready"]["get"].Responses[map[int]string{200: "200", 503: "503"}[code]]
	if !ok {
		t.Fatalf("/ready answered %d, which openapi.json does not document", code)
	}
	s := resp.Content["application/json"].Schema
	if len(s.Required) == 0 || s.Properties.Checks.AdditionalProperties == nil {
		t.Fatalf("openapi.json gives /ready %d no usable schema: %+v", code, s)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range s.Required {
		if _, ok := got[k]; !ok {
			t.Errorf("/ready lacks required %q: %s", k, body)
		}
	}
	for k := range got {
		if !slices.Contains([]string{"status", "checks", "warnings"}, k) {
			t.Errorf("/ready has %q, which the schema does not document", k)
		}
	}
	var rb readyBody
	_ = json.Unmarshal(body, &rb)
	if !slices.Contains(s.Properties.Status.Enum, rb.Status) {
		t.Errorf("/ready status %q not among %v", rb.Status, s.Properties.Status.Enum)
	}
	if (rb.Status == "not_ready") != (code == http.StatusServiceUnavailable) {
		t.Errorf("/ready status %q with HTTP %d", rb.Status, code)
	}
	checkEnum := s.Properties.Checks.AdditionalProperties.Properties["status"].Enum
	for name, c := range rb.Checks {
		if !slices.Contains(checkEnum, c.Status) {
			t.Errorf("check %s: status %q not among %v", name, c.Status, checkEnum)
		}
		if (c.Status != "ok") != (c.Error != "") {
			t.Errorf("check %s: status %q with error %q", name, c.Status, c.Error)
		}
	}
}
