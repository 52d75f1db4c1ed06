package weaviate

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// TestAuroraOnWeaviate runs the aurora binary with WEAVIATE_HOST set: an
// uploaded runbook is indexed into Weaviate and found by the search API.
func TestAuroraOnWeaviate(t *testing.T) {
	newStore(t, "AuroraE2E") // starts (or skips/fails without) the server
	cfg := server.cfg
	p := testenv.Start(t, "aurora", testenv.Env{
		"AURORA_HTTP_ADDR":   testenv.FreeAddr(t),
		"AURORA_DATA_DIR":    t.TempDir(),
		"AURORA_ADMIN_TOKEN": testenv.AdminToken,
		"AURORA_SECRET_KEY":  testenv.SecretKey,
		"WEAVIATE_HOST":      cfg.Host,
		"WEAVIATE_PORT":      strconv.Itoa(cfg.Port),
		"WEAVIATE_GRPC_PORT": strconv.Itoa(cfg.GRPCPort),
	})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "pgbouncer.md")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte("# PgBouncer runbook\n\n## Symptoms\n\nClients see `no more connections allowed (max_client_conn)`.\n\n## Fix\n\nRaise max_client_conn and the pool size.\n"))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/api/v1/kb/documents", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+testenv.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ ID, Status string }
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 || doc.ID == "" {
		t.Fatalf("upload: %s %+v", resp.Status, doc)
	}
	testenv.Eventually(t, 60*time.Second, "document indexed", func() bool {
		var d struct{ Status, Error string }
		testenv.DoToken(t, p.URL, testenv.AdminToken, http.MethodGet, "/api/v1/kb/documents/"+doc.ID, nil, &d)
		if d.Status == "failed" {
			t.Fatalf("indexing failed: %s", d.Error)
		}
		return d.Status == "ready"
	})
	var out struct {
		Items []struct {
			DocumentID string `json:"document_id"`
			Text       string `json:"text"`
		} `json:"items"`
	}
	if code := testenv.DoToken(t, p.URL, testenv.AdminToken, http.MethodGet, "/api/v1/kb/search?q=max_client_conn+pgbouncer&limit=3", nil, &out); code != http.StatusOK {
		t.Fatalf("search: %d", code)
	}
	if len(out.Items) == 0 || out.Items[0].DocumentID != doc.ID || !strings.Contains(out.Items[0].Text, "max_client_conn") {
		t.Fatalf("search hits %+v, want the uploaded runbook", out.Items)
	}
	// The chunks are in Weaviate, not the database.
	s := newStore(t, "AuroraKB")
	name, dims, err := s.Space(t.Context())
	if err != nil || name == "" || dims == 0 {
		t.Fatalf("Weaviate space after indexing: %q %d %v", name, dims, err)
	}
}
