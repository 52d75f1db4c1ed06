package chat

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/secret"
	"github.com/aurora-oss/aurora/internal/storage"
)

func TestParseClientFrame(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in      string
		wantErr string
		check   func(ClientFrame) bool
	}{
		{`{"type":"ping"}`, "", nil},
		{` {"type":"query","text":"  why?  "} `, "", func(f ClientFrame) bool { return f.Text == "why?" && f.Mode == ModeAsk }},
		{`{"type":"query","text":"x","mode":"agent","incident_id":"i"}`, "", func(f ClientFrame) bool { return f.Mode == ModeAgent && f.IncidentID == "i" }},
		{`{"type":"query","text":"x","extra":1}`, "", nil},
		{`{"type":"resume","session_id":"s","after_seq":0}`, "", func(f ClientFrame) bool { return *f.AfterSeq == 0 }},
		{`{"type":"confirm","confirmation_id":"c","answer":"no"}`, "", nil},
		{`{"type":"cancel","session_id":"s"}`, "", nil},
		{``, "JSON object", nil},
		{`null`, "JSON object", nil},
		{`"ping"`, "JSON object", nil},
		{`{"type":`, "invalid JSON", nil},
		{`{"type":1}`, "invalid JSON", nil},
		{`{"type":"ping"} {"type":"ping"}`, "one JSON object", nil},
		{`{"type":"query","text":"a\u0000b"}`, "text: must not contain a NUL character", nil},
		{`{"type":"resume","session_id":"\u0000","after_seq":0}`, "session_id: must not contain a NUL character", nil},
		{`{}`, "type is required", nil},
		{`{"type":"nope"}`, "unknown frame type", nil},
		{`{"type":"query"}`, "text is required", nil},
		{`{"type":"query","text":"x","mode":"root"}`, "mode must be", nil},
		{`{"type":"query","text":"x","session_id":"s","incident_id":"i"}`, "incident_id only starts", nil},
		{`{"type":"query","text":"` + strings.Repeat("é", maxQueryRunes+1) + `"}`, "at most", nil},
		{`{"type":"confirm","answer":"yes"}`, "confirmation_id is required", nil},
		{`{"type":"confirm","confirmation_id":"c","answer":"YES"}`, "yes or no", nil},
		{`{"type":"cancel"}`, "session_id is required", nil},
		{`{"type":"resume","session_id":"s"}`, "after_seq is required", nil},
		{`{"type":"resume","session_id":"s","after_seq":-1}`, "≥ 0", nil},
		{`{"type":"resume","after_seq":1}`, "session_id is required", nil},
	} {
		f, err := ParseClientFrame([]byte(tc.in))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.in, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%.60s: error %v, want %q", tc.in, err, tc.wantErr)
		case err == nil && tc.check != nil && !tc.check(f):
			t.Errorf("%s: parsed %+v", tc.in, f)
		}
	}
}

// FuzzParseClientFrame: any input is either refused with an error or
// accepted as a frame that validates again (and never panics).
func FuzzParseClientFrame(f *testing.F) {
	for _, s := range []string{`{"type":"ping"}`, `{"type":"query","text":"what is wrong with pod a/b"}`, `{"type":"resume","session_id":"s","after_seq":3}`,
		`{"type":"confirm","confirmation_id":"c","answer":"yes"}`, `[`, `{"type":"query","text":"\u0000"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseClientFrame(b)
		if err != nil {
			return
		}
		if fr.Validate() != nil {
			t.Fatalf("accepted frame does not validate: %+v", fr)
		}
		if fr.Type == TypeQuery && (fr.Text == "" || (fr.Mode != ModeAsk && fr.Mode != ModeAgent)) {
			t.Fatalf("accepted query without text or mode: %+v", fr)
		}
	})
}

func TestWireFrame(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fr   storage.ChatFrame
		want string
	}{
		{storage.ChatFrame{SessionID: "s", TurnID: "t", Seq: 7, Type: "delta", Data: []byte(`{"text":"a\"b"}`)},
			`{"type":"delta","session_id":"s","turn_id":"t","seq":7,"text":"a\"b"}`},
		{storage.ChatFrame{SessionID: "s", TurnID: "t", Seq: 8, Type: "done", Data: []byte(`{}`)},
			`{"type":"done","session_id":"s","turn_id":"t","seq":8}`},
		{storage.ChatFrame{SessionID: "s\"x", TurnID: "t", Seq: 9, Type: "done", Data: []byte(` { "a" : 1 } `)},
			`{"type":"done","session_id":"s\"x","turn_id":"t","seq":9, "a" : 1 }`},
	} {
		got := WireFrame(tc.fr)
		if string(got) != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
		if !json.Valid(got) {
			t.Errorf("not JSON: %s", got)
		}
	}
}

func testKeys(t *testing.T, id string, b byte) *secret.Keyring {
	t.Helper()
	k := make([]byte, 32)
	for i := range k {
		k[i] = b
	}
	kr, err := secret.NewKeyring([]secret.Key{{ID: id, Bytes: k}})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestToken(t *testing.T) {
	t.Parallel()
	kr := testKeys(t, "k1", 1)
	now := time.Now()
	tok, exp, err := IssueToken(kr, "org1", "token:admin", "editor", now)
	if err != nil || !strings.HasPrefix(tok, TokenPrefix) || !exp.After(now) {
		t.Fatal(tok, err)
	}
	if strings.Contains(tok, "org1") || strings.Contains(tok, "admin") {
		t.Error("the token shows its claims")
	}
	c, err := ParseToken(kr, tok, now)
	if err != nil || c.OrgID != "org1" || c.UserID != "token:admin" || c.Role != "editor" || c.ID == "" {
		t.Fatalf("parse: %+v %v", c, err)
	}
	other, _, _ := IssueToken(kr, "org1", "token:admin", "editor", now)
	if o, _ := ParseToken(kr, other, now); o.ID == c.ID {
		t.Error("two tokens share an id")
	}
	if _, err := ParseToken(kr, tok, now.Add(TokenTTL+time.Second)); err != ErrTokenExpired {
		t.Errorf("after TTL: %v", err)
	}
	for name, bad := range map[string]string{
		"other key":  mustIssue(t, testKeys(t, "k1", 2)),
		"unknown id": mustIssue(t, testKeys(t, "k9", 1)),
		"no prefix":  strings.TrimPrefix(tok, TokenPrefix),
		"flipped":    tok[:len(tok)-3] + "AAA",
		"no dot":     TokenPrefix + "abc",
		"empty body": TokenPrefix + "k1.",
		"not base64": TokenPrefix + "k1.!!!",
	} {
		if _, err := ParseToken(kr, bad, now); err != ErrTokenInvalid {
			t.Errorf("%s: %v, want ErrTokenInvalid", name, err)
		}
	}
}

func mustIssue(t *testing.T, kr *secret.Keyring) string {
	tok, _, err := IssueToken(kr, "org1", "u", "admin", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestParseTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want target
		ok   bool
	}{
		{"what is wrong with pod checkout-7d9f in namespace shop?", target{"pod", "shop", "checkout-7d9f"}, true},
		{"What's wrong with deployment shop/checkout", target{"deployment", "shop", "checkout"}, true},
		{"what’s going on with deploy web in prod", target{"deployment", "prod", "web"}, true},
		{"why is node ip-10-0-0-1.ec2.internal", target{"node", "", "ip-10-0-0-1.ec2.internal"}, true},
		{"investigate checkout", target{"", "", "checkout"}, true},
		{"what is wrong with the svc payments on ns billing", target{"service", "billing", "payments"}, true},
		{"what is wrong with it", target{}, false},
		{"why did checkout fail?", target{}, false},
		{"hello", target{}, false},
	} {
		got, ok := parseTarget(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%q: %+v %v, want %+v %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if l := (target{"", "shop", "checkout"}).labels(); l["service"] != "checkout" || l["deployment"] != "checkout" || l["namespace"] != "shop" {
		t.Errorf("labels: %v", l)
	}
	if l := (target{"pod", "shop", "p-1"}).labels(); l["pod"] != "p-1" || l["service"] != "" {
		t.Errorf("pod labels: %v", l)
	}
}

func TestIntents(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"acknowledge this incident":     "acknowledged",
		"Please resolve it":             "resolved",
		"reopen":                        "open",
		"mark it as resolved":           "resolved",
		"why did the connection close?": "",
		"what did the ack do":           "",
		"show me the logs":              "",
	} {
		if got := statusIntent(in); got != want {
			t.Errorf("statusIntent(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"show me the logs of the pod you cited": "kubernetes.logs",
		"show evidence [2]":                     "#2",
		"what does step 3 say":                  "#3",
		"any events?":                           "kubernetes.events",
		"describe it":                           "kubernetes.describe",
		"why did it fail?":                      "",
	} {
		if got := evidenceIntent(in); got != want {
			t.Errorf("evidenceIntent(%q) = %q, want %q", in, got, want)
		}
	}
}
