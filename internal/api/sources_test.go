package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aurora-oss/aurora/internal/auth"
)

const pdSecret = "HvPtlQNKMPpHSSqJpCdndXfo7HnGXa1pnH6w5axpxLFn9aRBNBGh4e8/HlonK5mz"

func readFixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile("../webhook/testdata/" + path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *testBundle) integration(t *testing.T, body string) (token, id string) {
	t.Helper()
	code, out := b.do(t, b.tokens[auth.Admin], "POST", "/api/v1/integrations", "application/json", []byte(body))
	if code != 201 {
		t.Fatalf("create integration %s: %d %s", body, code, out)
	}
	var v struct{ Token, ID string }
	_ = json.Unmarshal(out, &v)
	return v.Token, v.ID
}

func (b *testBundle) post(t *testing.T, path string, headers map[string]string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", b.srv.URL+path, strings.NewReader(string(body)))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, sb.String()
}

func TestPagerDutySignatures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := readFixture(t, "pagerduty/incident_triggered.json")
	const sig = "v1=3e3032b45bbe1801c13f182b0e0a7f4f3f530225cef07e3e90cbc57874d01c49"
	unsigned, _ := b.integration(t, `{"source":"pagerduty","name":"nosecret"}`)
	tok, id := b.integration(t, `{"source":"pagerduty","name":"pd","signing_secret":"old-secret\n`+strings.ReplaceAll(pdSecret, "/", "\\/")+`"}`)
	cases := []struct {
		name    string
		token   string
		sig     string
		body    []byte
		want    int
		message string
	}{
		{"valid, second of two rotating secrets", tok, sig, body, 202, ""},
		{"missing header", tok, "", body, 401, "missing X-PagerDuty-Signature"},
		{"tampered body", tok, sig, append([]byte{' '}, body...), 401, "does not match"},
		{"wrong signature", tok, "v1=" + strings.Repeat("0", 64), body, 401, "does not match"},
		{"integration without secret", unsigned, sig, body, 401, "no signing secret"},
		{"editor API token skips sender signature", b.tokens[auth.Editor], "", body, 202, ""},
	}
	for _, c := range cases {
		h := map[string]string{"Authorization": "Bearer " + c.token, "Content-Type": "application/json"}
		if c.sig != "" {
			h["X-PagerDuty-Signature"] = c.sig
		}
		code, out := b.post(t, "/webhooks/pagerduty", h, c.body)
		if code != c.want || !strings.Contains(out, c.message) {
			t.Errorf("%s: %d %s, want %d %q", c.name, code, out, c.want, c.message)
		}
	}
	// Rotating to the new secret alone keeps the signed delivery valid.
	code, out := b.do(t, b.tokens[auth.Admin], "PATCH", "/api/v1/integrations/"+id, "application/json", []byte(`{"signing_secret":"`+strings.ReplaceAll(pdSecret, "/", "\\/")+`"}`))
	if code != 200 || !strings.Contains(string(out), `"has_signing_secret":true`) {
		t.Fatalf("rotate secret: %d %s", code, out)
	}
	if code, out := b.post(t, "/webhooks/pagerduty", map[string]string{"Authorization": "Bearer " + tok, "X-PagerDuty-Signature": sig}, body); code != 202 {
		t.Fatalf("after rotation: %d %s", code, out)
	}
}

func TestIntegrationSettingsValidated(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, body := range []string{
		`{"source":"cloudwatch","name":"a","settings":{"topic_arns":"arn:aws:sns:us-east-1:1:x"}}`,
		`{"source":"cloudwatch","name":"a","settings":{"topic_arns":["nope"]}}`,
		`{"source":"cloudwatch","name":"a","settings":{"insufficient_data":"maybe"}}`,
		`{"source":"cloudwatch","name":"a","settings":{"verify_signatures":"no"}}`,
		`{"source":"generic","name":"a","settings":{"topic_arns":[]}}`,
		`{"source":"generic","name":"a","settings":{"investigate":{"severities":["huge"]}}}`,
		`{"source":"generic","name":"a","settings":{"investigate":{"skip_acknowledged":true}}}`,
		`{"source":"generic","name":"a","settings":{"investigate":"sometimes"}}`,
	} {
		if code, out := b.do(t, b.tokens[auth.Admin], "POST", "/api/v1/integrations", "application/json", []byte(body)); code != 422 {
			t.Errorf("%s: %d %s, want 422", body, code, out)
		}
	}
}

// An integration's own policy decides which of its incidents are investigated.
func TestIntegrationInvestigationPolicy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	never, _ := b.integration(t, `{"source":"generic","name":"never","settings":{"investigate":false}}`)
	warn, _ := b.integration(t, `{"source":"generic","name":"warn","settings":{"investigate":{"severities":["warning"]}}}`)
	check := func(tok, title, sev string, want bool) {
		t.Helper()
		code, out := b.post(t, "/webhooks/generic", map[string]string{"Authorization": "Bearer " + tok}, []byte(`{"title":"`+title+`","severity":"`+sev+`"}`))
		if code != 202 {
			t.Fatalf("%d %s", code, out)
		}
		var res struct {
			IncidentIDs []string `json:"incident_ids"`
		}
		_ = json.Unmarshal([]byte(out), &res)
		_, inc := b.do(t, b.tokens[auth.Viewer], "GET", "/api/v1/incidents/"+res.IncidentIDs[0], "", nil)
		got := !strings.Contains(string(inc), `"investigation":null`)
		if got != want {
			t.Errorf("%s (%s): investigated=%v, want %v", title, sev, got, want)
		}
	}
	check(never, "critical but never", "critical", false)
	check(warn, "warning on warn", "warning", true)
	check(warn, "critical on warn", "critical", false)
	// The server default (critical only in this setup) applies to API tokens.
	check(b.tokens[auth.Editor], "critical default", "critical", true)
}

func TestCloudWatchTopicsAndConfirmation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	notif := readFixture(t, "cloudwatch/https_notification_alarm.json")
	var m map[string]any
	_ = json.Unmarshal(notif, &m)
	topic := m["TopicArn"].(string)

	// Unsigned test messages are accepted only with verification off.
	tok, _ := b.integration(t, `{"source":"cloudwatch","name":"aws","settings":{"topic_arns":["`+topic+`"],"verify_signatures":false}}`)
	other, _ := b.integration(t, `{"source":"cloudwatch","name":"other","settings":{"topic_arns":["arn:aws:sns:eu-west-1:123456789012:other"]}}`)
	signed, _ := b.integration(t, `{"source":"cloudwatch","name":"signed","settings":{"topic_arns":["`+topic+`"]}}`)
	sns := map[string]string{"Content-Type": "text/plain; charset=UTF-8"}

	if code, out := b.post(t, "/webhooks/cloudwatch?token="+tok, sns, notif); code != 202 || !strings.Contains(out, `"accepted":1`) {
		t.Fatalf("notification: %d %s", code, out)
	}
	if code, out := b.post(t, "/webhooks/cloudwatch?token="+other, sns, notif); code != 403 || !strings.Contains(out, "topic_arns") {
		t.Fatalf("other topic: %d %s", code, out)
	}
	if code, out := b.post(t, "/webhooks/cloudwatch", map[string]string{"Authorization": "Bearer " + b.tokens[auth.Editor]}, notif); code != 403 {
		t.Fatalf("API token on cloudwatch: %d %s", code, out)
	}
	// The fixture's signature cannot be checked here (its certificate lives
	// at AWS); with verification on, the certificate host check refuses a
	// non-SNS host before any fetch.
	tampered := strings.Replace(string(notif), "sns.eu-west-1.amazonaws.com", "evil.example.com", 1)
	if code, out := b.post(t, "/webhooks/cloudwatch?token="+signed, sns, []byte(tampered)); code != 401 {
		t.Fatalf("signature on a foreign cert host: %d %s", code, out)
	}
	// Readiness and the integration view report the insecure setting.
	_, ready := b.do(t, "", "GET", "/ready", "", nil)
	if !strings.Contains(string(ready), "insecure") {
		t.Errorf("/ready does not warn: %s", ready)
	}

	// Subscription confirmation: never an alert; the SubscribeURL is fetched.
	var hits atomic.Int32
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer ts.Close()
	b.snsAllow(ts)
	conf, _ := json.Marshal(map[string]string{"Type": "SubscriptionConfirmation", "MessageId": "m1", "Token": "t", "TopicArn": topic,
		"Message": "You have chosen to subscribe", "SubscribeURL": ts.URL + "/?Action=ConfirmSubscription", "Timestamp": "2026-01-01T00:00:00.000Z",
		"SignatureVersion": "1", "Signature": "x", "SigningCertURL": ts.URL + "/cert.pem"})
	if code, out := b.post(t, "/webhooks/cloudwatch?token="+tok, sns, conf); code != 200 || !strings.Contains(out, `"confirmed":true`) || hits.Load() != 1 {
		t.Fatalf("confirmation: %d %s hits=%d", code, out, hits.Load())
	}
	_, alerts := b.do(t, b.tokens[auth.Viewer], "GET", "/api/v1/alerts?source=cloudwatch", "", nil)
	if strings.Count(string(alerts), `"fingerprint"`) != 1 {
		t.Fatalf("confirmation became an alert: %s", alerts)
	}
}
