package kubernetes

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"

	"github.com/aurora-oss/aurora/internal/toolset"
)

// clusterDir holds the API server's answers: a request for /a/b is served
// from testdata/cluster/a/b.json; a list (a directory, or a cluster-wide
// list of a namespaced resource) is built from the object files; pod logs
// come from <pod>.log, or <pod>.previous.log with previous=true.
const clusterDir = "testdata/cluster"

// testNow is the tests' clock: 84s after cart-7d9f-x2 was last OOMKilled.
var testNow = time.Date(2024, 6, 3, 10, 43, 19, 0, time.UTC)

// fakeAPI replays testdata/cluster as a Kubernetes API server.
type fakeAPI struct {
	t        *testing.T
	mu       sync.Mutex
	requests []string // method + path + query, in order
	// writable accepts PATCH requests (recorded in writes, answered with
	// the unchanged object); otherwise the fake is read-only.
	writable bool
	writes   []write
}

// write is a recorded change request.
type write struct {
	Method, Path, ContentType, Body string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	f.mu.Unlock()
	p := path.Clean(r.URL.Path)
	if r.Method == http.MethodPatch && f.writable {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.writes = append(f.writes, write{r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"), string(body)})
		f.mu.Unlock()
	} else if r.Method != http.MethodGet {
		f.status(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "read-only fake: "+r.Method)
		return
	}
	if strings.HasSuffix(p, "/scale") { // the scale subresource, from the object's spec and status
		b, err := os.ReadFile(filepath.Join(clusterDir, filepath.FromSlash(strings.TrimPrefix(strings.TrimSuffix(p, "/scale"), "/"))) + ".json")
		if err != nil {
			f.status(w, http.StatusNotFound, "NotFound", "not found: "+p)
			return
		}
		var obj struct {
			Metadata map[string]any
			Spec     struct{ Replicas int }
			Status   struct{ Replicas int }
		}
		_ = json.Unmarshal(b, &obj)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Scale", "apiVersion": "autoscaling/v1",
			"metadata": map[string]any{"name": obj.Metadata["name"], "namespace": obj.Metadata["namespace"]},
			"spec":     map[string]any{"replicas": obj.Spec.Replicas}, "status": map[string]any{"replicas": obj.Status.Replicas}})
		return
	}
	base := filepath.Join(clusterDir, filepath.FromSlash(strings.TrimPrefix(p, "/")))
	if strings.HasSuffix(p, "/log") {
		file := strings.TrimSuffix(base, string(filepath.Separator)+"log")
		if r.URL.Query().Get("previous") == "true" {
			file += ".previous"
		}
		b, err := os.ReadFile(file + ".log")
		if err != nil {
			f.status(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("previous terminated container not found for %s", p))
			return
		}
		lines := strings.SplitAfter(string(b), "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if n, err := strconv.Atoi(r.URL.Query().Get("tailLines")); err == nil && n < len(lines) {
			lines = lines[len(lines)-n:]
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(strings.Join(lines, "")))
		return
	}
	if b, err := os.ReadFile(base + ".json"); err == nil {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
		return
	}
	files, listable := f.listFiles(p, base)
	if !listable {
		segs := strings.Split(p, "/")
		name, res := segs[len(segs)-1], ""
		if len(segs) > 1 {
			res = segs[len(segs)-2]
		}
		f.status(w, http.StatusNotFound, "NotFound", fmt.Sprintf("%s %q not found", res, name))
		return
	}
	sel, err := labels.Parse(r.URL.Query().Get("labelSelector"))
	if err != nil {
		f.status(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	items := []map[string]any{}
	listKind := ""
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.t.Errorf("fake API: %v", err)
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(b, &obj); err != nil {
			f.t.Errorf("fake API: %s: %v", file, err)
			continue
		}
		md, _ := obj["metadata"].(map[string]any)
		ls := labels.Set{}
		if m, ok := md["labels"].(map[string]any); ok {
			for k, v := range m {
				ls[k], _ = v.(string)
			}
		}
		if !sel.Matches(ls) {
			continue
		}
		listKind, _ = obj["kind"].(string)
		delete(obj, "kind") // as a real server, items of a list carry no kind
		delete(obj, "apiVersion")
		items = append(items, obj)
	}
	gv := "v1"
	if strings.HasPrefix(p, "/apis/") {
		s := strings.Split(p, "/")
		gv = s[2] + "/" + s[3]
	}
	b, _ := json.Marshal(map[string]any{"kind": listKind + "List", "apiVersion": gv,
		"metadata": map[string]any{"resourceVersion": "42"}, "items": items})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// listFiles returns the object files a list request covers.
func (f *fakeAPI) listFiles(p, base string) ([]string, bool) {
	if st, err := os.Stat(base); err == nil && st.IsDir() {
		files, _ := filepath.Glob(filepath.Join(base, "*.json"))
		sort.Strings(files)
		return files, true
	}
	// cluster-wide list of a namespaced resource: /api/v1/pods,
	// /apis/apps/v1/deployments; or a namespace with none of them.
	segs := strings.Split(strings.Trim(p, "/"), "/")
	var prefix []string
	switch {
	case segs[0] == "api" && len(segs) >= 3:
		prefix = segs[:2]
	case segs[0] == "apis" && len(segs) >= 4:
		prefix = segs[:3]
	default:
		return nil, false
	}
	rest := segs[len(prefix):]
	switch {
	case len(rest) == 1:
		files, _ := filepath.Glob(filepath.Join(append([]string{clusterDir}, append(prefix, "namespaces", "*", rest[0], "*.json")...)...))
		sort.Strings(files)
		return files, true
	case len(rest) == 3 && rest[0] == "namespaces":
		return nil, true // empty list
	}
	return nil, false
}

func (f *fakeAPI) status(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": code})
}

func (t *tool) kube() *kube { return t.cs.byName[t.cs.names[0]] }

// setNow sets the clock of every cluster tl can ask.
func setNow(tl toolset.Tool, now time.Time) {
	var cs *clusterSet
	switch x := tl.(type) {
	case *tool:
		cs = x.cs
	case *writer:
		cs = x.cs
	}
	for _, k := range cs.byName {
		k.now = func() time.Time { return now }
	}
}

// newTestTools starts the fake API server and returns the tools by name.
func newTestTools(t *testing.T) (map[string]toolset.Tool, *fakeAPI) {
	t.Helper()
	api := &fakeAPI{t: t}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	tools, err := NewFromREST(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]toolset.Tool{}
	for _, tl := range tools {
		byName[tl.Name()] = tl
		setNow(tl, testNow)
	}
	return byName, api
}

// httptestServer serves api on a fresh server and returns its URL.
func httptestServer(t *testing.T, api *fakeAPI) string {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv.URL
}
