package api_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aurora-oss/aurora/internal/auth"
)

// tarGz packs a directory the way `tar czf x.tgz -C parent dir` does.
func tarGz(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	base := filepath.Base(dir)
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
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

func TestUploadBundle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	archive := tarGz(t, "../../testdata/scenarios/oom-cart-api")
	code, out := b.post(t, "/api/v1/investigations", map[string]string{"Authorization": "Bearer " + b.tokens[auth.Editor], "Content-Type": "application/gzip"}, archive)
	if code != 201 {
		t.Fatalf("upload: %d %s", code, out)
	}
	var res struct {
		IncidentID    string `json:"incident_id"`
		Investigation struct {
			Status string `json:"status"`
			Steps  []struct {
				Tool   string `json:"tool"`
				Status string `json:"status"`
			} `json:"steps"`
			Report struct {
				Verdict   string `json:"verdict"`
				RootCause struct {
					Category, Object string
				} `json:"root_cause"`
			} `json:"report"`
		} `json:"investigation"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	inv := res.Investigation
	if res.IncidentID == "" || inv.Status != "completed" || len(inv.Steps) == 0 || inv.Report.Verdict != "CONFIRMED" || inv.Report.RootCause.Category != "oom" {
		t.Fatalf("bundle investigation: %s", out)
	}
	// The incident shows it like any investigation, and no other one was queued.
	_, raw := b.do(t, b.tokens[auth.Viewer], "GET", "/api/v1/incidents/"+res.IncidentID, "", nil)
	var inc struct {
		Investigation  struct{ Status string } `json:"investigation"`
		Investigations []struct{ Trigger string }
	}
	_ = json.Unmarshal(raw, &inc)
	if inc.Investigation.Status != "completed" || len(inc.Investigations) != 1 || inc.Investigations[0].Trigger != "bundle" {
		t.Fatalf("incident: %+v", inc)
	}

	// Bad uploads: a viewer, a wrong type, a path escaping the bundle, no bundle files.
	if code, _ := b.post(t, "/api/v1/investigations", map[string]string{"Authorization": "Bearer " + b.tokens[auth.Viewer], "Content-Type": "application/gzip"}, archive); code != 403 {
		t.Errorf("viewer upload: %d", code)
	}
	if code, _ := b.post(t, "/api/v1/investigations", map[string]string{"Authorization": "Bearer " + b.tokens[auth.Editor], "Content-Type": "application/json"}, []byte(`{}`)); code != 415 {
		t.Errorf("json upload: %d", code)
	}
	var evil bytes.Buffer
	tw := tar.NewWriter(&evil)
	_ = tw.WriteHeader(&tar.Header{Name: "../../etc/x", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("x"))
	tw.Close()
	if code, out := b.post(t, "/api/v1/investigations", map[string]string{"Authorization": "Bearer " + b.tokens[auth.Editor], "Content-Type": "application/x-tar"}, evil.Bytes()); code != 422 || !strings.Contains(out, "leaves the bundle") {
		t.Errorf("path traversal: %d %s", code, out)
	}
	var empty bytes.Buffer
	tw = tar.NewWriter(&empty)
	_ = tw.WriteHeader(&tar.Header{Name: "notes.md", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("hi"))
	tw.Close()
	if code, out := b.post(t, "/api/v1/investigations", map[string]string{"Authorization": "Bearer " + b.tokens[auth.Editor], "Content-Type": "application/x-tar"}, empty.Bytes()); code != 422 || !strings.Contains(out, "alert.json or question.txt") || strings.Contains(out, os.TempDir()) {
		t.Errorf("no bundle files (the message names the archive, not the server's directory): %d %s", code, out)
	}
	var clash bytes.Buffer
	tw = tar.NewWriter(&clash)
	for _, name := range []string{"inc/alert.json", "inc/alert.json"} {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte("{}"))
	}
	tw.Close()
	if code, out := b.post(t, "/api/v1/investigations", map[string]string{"Authorization": "Bearer " + b.tokens[auth.Editor], "Content-Type": "application/x-tar"}, clash.Bytes()); code != 422 || !strings.Contains(out, `collides with another entry`) || strings.Contains(out, os.TempDir()) {
		t.Errorf("an entry twice: %d %s", code, out)
	}
	// Over the 32 MiB upload limit: 413, as for any other body.
	var big bytes.Buffer
	tw = tar.NewWriter(&big)
	_ = tw.WriteHeader(&tar.Header{Name: "alert.json", Mode: 0o644, Size: 33 << 20, Typeflag: tar.TypeReg})
	_, _ = tw.Write(make([]byte, 33<<20))
	tw.Close()
	if code, out := b.post(t, "/api/v1/investigations", map[string]string{"Authorization": "Bearer " + b.tokens[auth.Editor], "Content-Type": "application/x-tar"}, big.Bytes()); code != 413 {
		t.Errorf("archive over 32 MiB: %d %s", code, out)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("bundle", "big.tar")
	_, _ = fw.Write(big.Bytes())
	mw.Close()
	if code, out := b.post(t, "/api/v1/investigations", map[string]string{"Authorization": "Bearer " + b.tokens[auth.Editor], "Content-Type": mw.FormDataContentType()}, form.Bytes()); code != 413 {
		t.Errorf("multipart archive over 32 MiB: %d %s", code, out)
	}
}
