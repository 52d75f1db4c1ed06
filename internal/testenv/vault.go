package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// VaultServer is a Vault test double speaking the published HTTP API of
// the KV v2 secrets engine (data read/write, metadata delete) and AppRole
// login: https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2,
// https://developer.hashicorp.com/vault/api-docs/auth/approle. Tokens
// can be revoked to test log-in again.
type VaultServer struct {
	*httptest.Server
	mount string
	// RoleID and SecretID are the AppRole credentials it accepts.
	RoleID, SecretID string

	mu       sync.Mutex
	tokens   map[string]bool
	data     map[string][]map[string]any // path → versions
	logins   int
	requests []string
}

// NewVaultServer serves a KV v2 engine at mount that accepts rootToken
// and AppRole log-ins (RoleID, SecretID); it stops when the test ends.
func NewVaultServer(t testing.TB, mount, rootToken string) *VaultServer {
	t.Helper()
	v := &VaultServer{mount: mount, RoleID: "role-1", SecretID: "s3cr3t-id", tokens: map[string]bool{rootToken: true}, data: map[string][]map[string]any{}}
	v.Server = httptest.NewServer(http.HandlerFunc(v.serve))
	t.Cleanup(v.Close)
	return v
}

func vaultErr(w http.ResponseWriter, code int, msg ...string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if msg == nil {
		msg = []string{}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": msg})
}

func vaultJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// RevokeAll revokes every token, the root token too (AppRole log-ins
// still work).
func (v *VaultServer) RevokeAll() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.tokens = map[string]bool{}
}

// Paths lists the secret paths holding data.
func (v *VaultServer) Paths() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for p := range v.data {
		out = append(out, p)
	}
	return out
}

// Logins counts AppRole log-ins.
func (v *VaultServer) Logins() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.logins
}

// Requests lists the requests served, as "METHOD /path".
func (v *VaultServer) Requests() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.requests...)
}

// Latest returns the newest version of the secret at path (nil: none).
func (v *VaultServer) Latest(path string) map[string]any {
	v.mu.Lock()
	defer v.mu.Unlock()
	vers := v.data[path]
	if len(vers) == 0 {
		return nil
	}
	return vers[len(vers)-1]
}

func (v *VaultServer) serve(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.requests = append(v.requests, r.Method+" "+r.URL.Path)
	p, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		vaultErr(w, http.StatusNotFound)
		return
	}
	if p == "auth/approle/login" && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
		var in struct {
			RoleID   string `json:"role_id"`
			SecretID string `json:"secret_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.RoleID != v.RoleID || in.SecretID != v.SecretID {
			vaultErr(w, http.StatusBadRequest, "invalid role or secret ID")
			return
		}
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		tok := "hvs." + hex.EncodeToString(b)
		v.tokens[tok] = true
		v.logins++
		vaultJSON(w, map[string]any{"auth": map[string]any{"client_token": tok, "lease_duration": 3600, "renewable": true, "policies": []string{"aurora"}}})
		return
	}
	if !v.tokens[r.Header.Get("X-Vault-Token")] {
		vaultErr(w, http.StatusForbidden, "permission denied")
		return
	}
	rest, ok := strings.CutPrefix(p, v.mount+"/")
	if !ok {
		vaultErr(w, http.StatusNotFound, "no handler for route")
		return
	}
	switch {
	case strings.HasPrefix(rest, "data/"):
		path := strings.TrimPrefix(rest, "data/")
		switch r.Method {
		case http.MethodGet:
			vers := v.data[path]
			if len(vers) == 0 {
				vaultErr(w, http.StatusNotFound)
				return
			}
			vaultJSON(w, map[string]any{"data": map[string]any{"data": vers[len(vers)-1],
				"metadata": map[string]any{"version": len(vers), "created_time": time.Now().UTC().Format(time.RFC3339Nano), "deletion_time": "", "destroyed": false}}})
		case http.MethodPost, http.MethodPut:
			var in struct {
				Data map[string]any `json:"data"`
			}
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Data == nil {
				vaultErr(w, http.StatusBadRequest, "no data provided")
				return
			}
			v.data[path] = append(v.data[path], in.Data)
			vaultJSON(w, map[string]any{"data": map[string]any{"version": len(v.data[path]), "created_time": time.Now().UTC().Format(time.RFC3339Nano), "deletion_time": "", "destroyed": false}})
		default:
			vaultErr(w, http.StatusMethodNotAllowed)
		}
	case strings.HasPrefix(rest, "metadata/") && r.Method == http.MethodDelete:
		delete(v.data, strings.TrimPrefix(rest, "metadata/"))
		w.WriteHeader(http.StatusNoContent)
	default:
		vaultErr(w, http.StatusNotFound, "no handler for route")
	}
}
