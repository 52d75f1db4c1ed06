package config

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

// randomSecret makes a value unlikely to occur anywhere by chance, with
// the characters that tend to break naive redaction.
func randomSecret(r *mrand.Rand) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@/:?#%+= &"
	b := make([]byte, 16+r.IntN(16))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return "S3cr3t" + string(b)
}

func randomKey(r *mrand.Rand) string {
	b := make([]byte, KeySize)
	_, _ = rand.Read(b)
	switch r.IntN(3) {
	case 0:
		return hex.EncodeToString(b)
	case 1:
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Every secret is set to a random value; none may appear in Redacted, in
// any encoding a URL could give it.
func TestRedactedNeverShowsSecrets(t *testing.T) {
	t.Parallel()
	r := mrand.New(mrand.NewPCG(1, 2))
	for round := range 200 {
		env := map[string]string{}
		var secrets []string
		for _, v := range Variables() {
			if !v.Secret {
				continue
			}
			s := randomSecret(r)
			switch v.Name {
			case "AURORA_SECRET_KEY":
				s = "k2:" + randomKey(r) + ",k1:" + randomKey(r)
				secrets = append(secrets, strings.Split(s, ",")...)
			case "DATABASE_URL", "POSTGRES_DIRECT_URL":
				u := url.URL{Scheme: "postgres", User: url.UserPassword("aurora", s), Host: "db:5432", Path: "/aurora"}
				if r.IntN(2) == 0 {
					u.User = url.User("aurora")
					u.RawQuery = url.Values{"password": {s}}.Encode()
				}
				env[v.Name] = u.String()
				secrets = append(secrets, s)
				continue
			case "REDIS_URL":
				env[v.Name] = (&url.URL{Scheme: "rediss", User: url.UserPassword("", s), Host: "redis:6380"}).String()
				secrets = append(secrets, s)
				continue
			}
			env[v.Name] = s
			secrets = append(secrets, s)
		}
		c := mustLoad(t, env)
		for _, set := range c.Redacted() {
			for _, s := range secrets {
				for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
					if strings.Contains(set.Value, form) {
						t.Fatalf("round %d: %s = %q shows a secret", round, set.Name, set.Value)
					}
				}
			}
			if set.Secret && !strings.Contains(set.Value, redactedMark) {
				t.Errorf("round %d: set secret %s shown as %q", round, set.Name, set.Value)
			}
		}
	}
}

func TestRedactedShape(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, map[string]string{
		"DATABASE_URL":          "postgres://aurora:hunter2@db:5432/aurora?sslmode=require",
		"REDIS_URL":             "redis://default:hunter3@redis:6379/0",
		"AURORA_SECRET_KEY":     testKey,
		"AURORA_ADMIN_PASSWORD": "hunter4",
	})
	got := map[string]string{}
	for _, s := range c.Redacted() {
		got[s.Name] = s.Value
	}
	want := map[string]string{
		"DATABASE_URL":                  "postgres://aurora:<redacted>@db:5432/aurora?sslmode=require",
		"REDIS_URL":                     "redis://default:<redacted>@redis:6379/0",
		"AURORA_SECRET_KEY":             "<redacted>",
		"AURORA_ADMIN_PASSWORD":         "<redacted>",
		"AURORA_ADMIN_TOKEN":            "",
		"POSTGRES_PASSWORD":             "",
		"AURORA_PUBLIC_URL":             "http://localhost:8080",
		"AURORA_MAX_BODY_BYTES":         "4MiB",
		"AURORA_REOPEN_WINDOW":          "1h",
		"AURORA_RAW_PAYLOAD_RETENTION":  "720h",
		"AURORA_INVESTIGATE_SEVERITIES": "critical,high,warning,unknown",
		"STORAGE_CACHE_TTL":             "300",
		"AURORA_PPROF":                  "false",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(Variables()) {
		t.Errorf("Redacted lists %d variables, Variables %d", len(got), len(Variables()))
	}

	c = mustLoad(t, map[string]string{"AURORA_INVESTIGATE_SEVERITIES": "none"})
	for _, s := range c.Redacted() {
		if s.Name == "AURORA_INVESTIGATE_SEVERITIES" && s.Value != "none" {
			t.Errorf("empty severity list shown as %q", s.Value)
		}
	}
}

// Error messages reach logs too: invalid secrets must not be quoted.
func TestErrorsNeverShowSecrets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env    map[string]string
		secret string
	}{
		{map[string]string{"AURORA_SECRET_KEY": "hunter2hunter2"}, "hunter2hunter2"},
		{map[string]string{"AURORA_SECRET_KEY": "k1:" + testKey + ",k2:hunter2hunter2"}, "hunter2hunter2"},
		{map[string]string{"AURORA_SECRET_KEY": "k1:" + testKey + ",k1:" + testKey}, testKey},
		{map[string]string{"DATABASE_URL": "mysql://u:hunter2@db/x"}, "hunter2"},
		{map[string]string{"DATABASE_URL": "postgres://u:hunter2@db:port/x"}, "hunter2"},
		{map[string]string{"REDIS_URL": "http://:hunter2@redis"}, "hunter2"},
		{map[string]string{"POSTGRES_DIRECT_URL": "pg://u:hunter2@db/x"}, "hunter2"},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tc.env)
			if err == nil {
				t.Fatalf("Load(%v) succeeded", tc.env)
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
	k, _ := ParseKeyRing(testKey)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k)} {
		if strings.Contains(s, "0123456789") {
			t.Errorf("formatting a Key shows its bytes: %s", s)
		}
	}
}
