package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// secretRow is one row of the secrets table.
type secretRow struct{ id, keyID, ciphertext string }

func secretRows(t *testing.T, dbURL string) []secretRow {
	t.Helper()
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, key_id, ciphertext FROM secrets ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []secretRow
	for rows.Next() {
		var r secretRow
		var ct []byte
		if err := rows.Scan(&r.id, &r.keyID, &ct); err != nil {
			t.Fatal(err)
		}
		r.ciphertext = string(ct)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// allKeyID checks every stored secret is under keyID and returns the rows.
func allKeyID(t *testing.T, dbURL, keyID string) []secretRow {
	t.Helper()
	rows := secretRows(t, dbURL)
	if len(rows) < 2 {
		t.Fatalf("%d secrets stored, want at least the signing secret and the toolset credential", len(rows))
	}
	for _, r := range rows {
		if r.keyID != keyID {
			t.Fatalf("secret %s is under %q, want %q (all: %+v)", r.id, r.keyID, keyID, rows)
		}
	}
	return rows
}

// secretsCmd runs `aurora secrets …` and checks its exit code and summary.
func secretsCmd(t *testing.T, env testenv.Env, wantOut string, args ...string) {
	t.Helper()
	out, errOut, code := runAurora(t, env, append([]string{"secrets"}, args...)...)
	if code != 0 || !strings.Contains(out, wantOut) {
		t.Fatalf("aurora secrets %v: exit %d, want output %q\nstdout: %s\nstderr: %s", args, code, wantOut, out, errOut)
	}
	t.Logf("aurora secrets %s: %s", strings.Join(args, " "), strings.TrimSpace(out))
}

// `aurora secrets migrate` and `aurora secrets rotate` through the real
// binary on PostgreSQL: secrets created through the API (a PagerDuty
// signing secret, a Prometheus bearer token) move local → Vault (the KV v2
// test double written from Vault's published API) → local, and are then
// re-sealed under a new AURORA_SECRET_KEY; after each step the server —
// restarted, and once left running under the command — still verifies
// signed webhooks with the secret and reaches Prometheus with the token.
// References never change; the old key can leave the ring after rotate.
func TestSecretsMigrateAndRotate(t *testing.T) {
	t.Parallel()
	const signing, bearer = "pd-signing-secret-7f3a", "prom-token-51c2"
	vault := testenv.NewVaultServer(t, "secret", "vault-root-token")
	var promOK, promRefused atomic.Int64
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer "+bearer {
			promRefused.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"status":"error","errorType":"unauthorized","error":"bad token"}`)
			return
		}
		promOK.Add(1)
		switch r.URL.Path {
		case "/api/v1/status/buildinfo":
			_, _ = io.WriteString(w, `{"status":"success","data":{"version":"2.45.0","revision":"8ef767e","branch":"HEAD","buildUser":"root@x","buildDate":"20230623-15:09:49","goVersion":"go1.20.5"}}`)
		case "/api/v1/query":
			_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"1"]}]}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"status":"error","errorType":"not_found","error":"not found"}`)
		}
	}))
	defer prom.Close()

	dbURL := testenv.Postgres(t)
	base := merge(baseEnv(t), testenv.Env{"DATABASE_URL": dbURL})
	withVault := testenv.Env{"VAULT_ADDR": vault.URL, "VAULT_TOKEN": "vault-root-token"}
	start := func(name string, extra testenv.Env) *testenv.Process {
		p := testenv.Start(t, name, merge(merge(base, extra), testenv.Env{"AURORA_HTTP_ADDR": testenv.FreeAddr(t)}))
		p.WaitHealthy(60 * time.Second)
		return p
	}

	pdBody, err := os.ReadFile("../webhook/testdata/pagerduty/incident_triggered.json")
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, []byte(signing))
	mac.Write(pdBody)
	goodSig := "v1=" + hex.EncodeToString(mac.Sum(nil))
	var integToken string
	// works checks that p reads both secrets: a delivery signed with the
	// signing secret is accepted and a badly signed one refused; the
	// Prometheus connection test sends the bearer token.
	works := func(step string, p *testenv.Process) {
		t.Helper()
		post := func(sig string) (int, string) {
			code, body := rawDo(t, http.MethodPost, p.URL+"/webhooks/pagerduty",
				map[string]string{"X-Aurora-Token": integToken, "Content-Type": "application/json", "X-PagerDuty-Signature": sig}, bytes.NewReader(pdBody))
			return code, string(body)
		}
		if code, body := post(goodSig); code != http.StatusAccepted {
			t.Fatalf("%s: delivery signed with the stored secret: %d %s", step, code, body)
		}
		if code, body := post("v1=" + strings.Repeat("0", 64)); code != http.StatusUnauthorized {
			t.Fatalf("%s: badly signed delivery: %d %s", step, code, body)
		}
		before := promOK.Load()
		var res struct {
			OK      bool   `json:"ok"`
			Message string `json:"message"`
		}
		if code := p.Do(http.MethodPost, "/api/v1/toolsets/prometheus/test", nil, &res); code != http.StatusOK || !res.OK {
			t.Fatalf("%s: Prometheus test with the stored token: %d %+v (refused %d)", step, code, res, promRefused.Load())
		}
		if promOK.Load() == before {
			t.Fatalf("%s: the Prometheus test reached no authorised request", step)
		}
	}

	// 1. Local store: create the secrets through the API.
	p := start("aurora-local", nil)
	var integ struct {
		Token string `json:"token"`
	}
	if code := p.Do(http.MethodPost, "/api/v1/integrations", map[string]string{"source": "pagerduty", "name": "pd", "signing_secret": signing}, &integ); code != http.StatusCreated || integ.Token == "" {
		t.Fatalf("create the PagerDuty integration: %d", code)
	}
	integToken = integ.Token
	if code := p.Do(http.MethodPut, "/api/v1/toolsets/prometheus", map[string]any{"url": prom.URL, "bearer_token": bearer}, nil); code != http.StatusOK {
		t.Fatalf("PUT the Prometheus toolset: %d", code)
	}
	works("local", p)
	local := allKeyID(t, dbURL, "k1")
	n := strconv.Itoa(len(local))
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}

	// 2. Local → Vault. References (row ids) stay; each row now holds its
	// Vault path, where the value is.
	secretsCmd(t, merge(base, withVault), n+" secrets moved to vault, 0 already there", "migrate", "--to", "vault")
	inVault := allKeyID(t, dbURL, "vault:kv2")
	for i, r := range inVault {
		if r.id != local[i].id {
			t.Fatalf("references changed: %v → %v", local, inVault)
		}
		if v := vault.Latest(r.ciphertext); v == nil || v["value"] == nil {
			t.Errorf("secret %s: nothing in Vault at %q (Vault holds %v)", r.id, r.ciphertext, vault.Paths())
		}
	}
	if got := len(vault.Paths()); strconv.Itoa(got) != n {
		t.Errorf("Vault holds %d values, want %s", got, n)
	}
	// Again: nothing left to move.
	secretsCmd(t, merge(base, withVault), "0 secrets moved to vault, "+n+" already there", "migrate", "--to", "vault")
	p = start("aurora-vault", withVault)
	reads := len(vault.Requests())
	works("in Vault", p)
	var got []string
	for _, r := range vault.Requests()[reads:] {
		if strings.HasPrefix(r, "GET /v1/secret/data/") {
			got = append(got, r)
		}
	}
	if len(got) == 0 {
		t.Errorf("the server answered without reading Vault: %v", vault.Requests()[reads:])
	}

	// 3. Vault → local while that server runs: it reads the rows as they
	// are now, so it goes on working; Vault keeps nothing.
	secretsCmd(t, merge(base, withVault), n+" secrets moved to local", "migrate", "--to", "local")
	back := allKeyID(t, dbURL, "k1")
	for i, r := range back {
		if r.id != local[i].id {
			t.Fatalf("references changed: %v → %v", local, back)
		}
	}
	if paths := vault.Paths(); len(paths) != 0 {
		t.Errorf("Vault still holds %v after moving back", paths)
	}
	works("moved back under a running server", p)
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}

	// 4. Rotate: the new key first, the old one still in the ring; every
	// value is re-sealed under k2, after which k1 can go.
	nk := make([]byte, 32)
	_, _ = rand.Read(nk)
	newKey := base64.StdEncoding.EncodeToString(nk)
	ring := testenv.Env{"AURORA_SECRET_KEY": "k2:" + newKey + ",k1:" + testenv.SecretKey}
	secretsCmd(t, merge(base, ring), n+" secrets re-encrypted with key k2", "rotate")
	rotated := allKeyID(t, dbURL, "k2")
	for i, r := range rotated {
		if r.id != local[i].id || r.ciphertext == back[i].ciphertext {
			t.Fatalf("secret %s not re-sealed in place", r.id)
		}
	}
	secretsCmd(t, merge(base, ring), "0 secrets re-encrypted with key k2, "+n+" already there", "rotate")
	p = start("aurora-k2-only", testenv.Env{"AURORA_SECRET_KEY": "k2:" + newKey})
	works("rotated, old key removed", p)
}
