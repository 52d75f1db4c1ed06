package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// bundleTarGz packs a scenario directory as `tar czf` would.
func bundleTarGz(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	base := filepath.Base(dir)
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if err := tw.WriteHeader(&tar.Header{Name: base + "/" + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// TestChatIncident: an incident's chat answers from its stored report (the
// verdict, the culprit and citations of the evidence) and shows the
// evidence asked for — "the logs of the pod you cited" — from the steps
// the investigation stored.
func TestChatIncident(t *testing.T) {
	t.Parallel()
	p, _ := startAll(t, embedded, nil)
	code, body := rawDo(t, "POST", p.URL+"/api/v1/investigations", map[string]string{"Authorization": "Bearer " + testenv.AdminToken, "Content-Type": "application/gzip"},
		bytes.NewReader(bundleTarGz(t, "../../testdata/scenarios/crashloop-panic-inventory")))
	if code != 201 {
		t.Fatalf("upload bundle: %d %s", code, body)
	}
	var up struct {
		IncidentID    string `json:"incident_id"`
		Investigation struct {
			ID string `json:"id"`
		} `json:"investigation"`
	}
	if err := json.Unmarshal(body, &up); err != nil {
		t.Fatal(err)
	}
	c := connect(t, "client", p.URL, testenv.AdminToken)
	sid, turn := c.ask(map[string]any{"incident_id": up.IncidentID, "text": "why did it fail?"}, 30*time.Second)
	text := assistantText(t, turn)
	for _, want := range []string{"Verdict: CONFIRMED", "inventory-sync-6f9b8d7c5d-8wz4r", "No language model is configured"} {
		if !strings.Contains(text, want) {
			t.Errorf("report answer lacks %q:\n%s", want, text)
		}
	}
	msg := findFrame(turn, func(f frame) bool { return f.typ() == "message" && f.str("role") == "assistant" })
	cites, _ := msg["citations"].([]any)
	if len(cites) == 0 {
		t.Fatalf("report answer cites nothing: %v", msg)
	}
	if c0, _ := cites[0].(map[string]any); c0["investigation_id"] != up.Investigation.ID {
		t.Errorf("citation does not point at the investigation: %v", c0)
	}
	if tc := findFrame(turn, isType("tool_call")); tc == nil || tc.str("tool") != "aurora.report" {
		t.Errorf("no aurora.report tool call: %s", dump(turn))
	}

	// Evidence on request, in the same session.
	_, turn = c.ask(map[string]any{"session_id": sid, "text": "show me the logs of the pod you cited"}, 30*time.Second)
	text = assistantText(t, turn)
	if !strings.Contains(text, "assignment to entry in nil map") || !strings.Contains(text, "kubernetes.logs") {
		t.Errorf("logs answer:\n%s", text)
	}
	if tc := findFrame(turn, func(f frame) bool { return f.typ() == "tool_call" && f.str("tool") == "aurora.evidence" }); tc == nil {
		t.Errorf("no aurora.evidence call: %s", dump(turn))
	}
	// The session is listed under the incident.
	var list struct {
		Items []struct {
			ID         string `json:"id"`
			IncidentID string `json:"incident_id"`
		} `json:"items"`
	}
	if p.Do("GET", "/api/v1/chat/sessions?incident_id="+up.IncidentID, nil, &list); len(list.Items) != 1 || list.Items[0].ID != sid {
		t.Errorf("sessions of the incident: %+v", list)
	}
}

// TestChatBenchCommand: `aurora bench chat` holds its connections on a
// running Aurora, reads the chatbot's gauge and memory, and measures turns.
func TestChatBenchCommand(t *testing.T) {
	t.Parallel()
	p, env := startAll(t, embedded, nil)
	out, errOut, code := runAurora(t, testenv.Env{"AURORA_ADMIN_TOKEN": env["AURORA_ADMIN_TOKEN"]},
		"bench", "chat", "--url", p.URL, "--connections", "200", "--hold", "1s", "--turns", "3")
	if code != 0 {
		t.Fatalf("bench chat: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"opened 200 of 200 connections", "holds 200 connections", "RSS", "query → done", "(3 turns)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
