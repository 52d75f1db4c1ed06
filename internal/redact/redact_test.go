package redact

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The corpus: realistic text with secrets (logs, kubectl describe, env
// dumps, JSON, YAML, HTTP dumps) and text that must pass untouched. Each
// input has a .golden file with the expected output; review a diff of
// them after changing a rule (go test -update rewrites them).
func TestCorpus(t *testing.T) {
	t.Parallel()
	inputs, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden") || strings.Contains(in, "fuzz") {
			continue
		}
		n++
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := Redact(string(b))
			golden := in + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("redacted %s differs from %s:\n%s", in, golden, lineDiff(string(want), got))
			}
			if again := Redact(got); again != got {
				t.Errorf("not idempotent:\n%s", lineDiff(got, again))
			}
			// The text around secrets is evidence: the line count stays.
			if strings.Count(got, "\n") != strings.Count(string(b), "\n") && !strings.Contains(string(b), "PRIVATE KEY") {
				t.Errorf("lines lost")
			}
		})
	}
	if n < 6 {
		t.Fatalf("only %d corpus files", n)
	}
}

// Independently of the golden files: no secret of the corpus survives,
// and the evidence next to it does.
func TestCorpusSecretsGone(t *testing.T) {
	t.Parallel()
	secrets := []string{
		"S3cr3t-P4ss!", "r3d1s-pa55w0rd", "sk-proj-Xy7Qk2LmN9pR4sT6vW8zA1bC3dE5fG7hJ9kL0mN2pQ4r", "sk_live_51HxYzAbCdEfGhIjKlMnOpQrStUv",
		"ghp_1A2b3C4d5E6f7G8h9I0jK1lM2nO3pQ4rS5tU6v", "1bA2cD3eF4gH5iJ6kL7mN8oP", "q8Zp3Rk7Vb2Nx9Lm4Tc6", "1//0gX7Yz-AbCdEfGhIjKlMnOpQrStUvWxYz",
		"Gx7TqP3yV0bLm9Kc2Wn4Rz8Hd1Jf5Ys6Ua0Xe3Bo", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7",
		"glpat-Ab3De6Gh9Jk2Mn5Pq8St", "my5ql-Pa55", "hunter2-redis-prod", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"FwoGZXIvYXdzEBYaDHVzZXJfc2Vzc2lvbl90b2tlbl9leGFtcGxl", "Zq8!vR2#pL", "quoted pass phrase", "M0ng0Adm1n",
		"xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "github_pat_11ABCDEFG0abcdefghijklmn", "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
		"aur_k3Jd9sLq2Wm8Xn4Vb7Zc1Tf6Hg0Pr5Ye", "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIK2LWwp2e", "inner-S3cret",
		"Y2hlY2tvdXQ6UzNjcjN0LVA0c3Mh", "M41l-p4ss", "MIIEowIBAAKCAQEA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2W3x4Y",
		"LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0K", "c2lnbmF0dXJlLXZhbHVlLWhlcmU", "3f9a2b7c1d8e", "Adm1n-P4ss", "4f9a2b7c1d8e3f6a&",
		"R00t-P4ss", "S3cr3t P4ss", "Sql-S3rv3r!", "hvs.CAESIAbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
		"1a2b3c4d5e6f7a8b9c0d",
	}
	evidence := []string{
		"9fceb02d0ae598e95dc970b74767f19372d61af8", "0b6f7e2c-9d4a-4c1e-8a51-3f2d6e9b7a10", "sha256:3b5e8f1a9c2d4e6f8a0b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f5",
		"<set to the key 'password' in secret 'db-credentials'>", "CrashLoopBackOff", "postgres://checkout:", "@db.shop.svc.cluster.local:5432/checkout",
		"user=checkout", "Restart Count:  12", "max_tokens=512", "SECRET_NAME:        api-secrets", "TOKEN_TTL:          15m", "MAX_TOKENS=4096",
		"TOKEN_URL=https://auth.example.com/oauth/token", "PASSWORD_FILE=/run/secrets/db_password", `"token_type": "Bearer"`, `"max_tokens": 1024`,
		`"secretName": "checkout-tls"`, "caBundle: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJrVENCK3dJSkFQ", "-----BEGIN CERTIFICATE-----",
		"passwordSecretRef: redis-auth", "automountServiceAccountToken: false", "{{ .Values.global.apiToken }}", "${API_KEY}", "smtp://mailer:",
		"Authorization: Bearer ", "curl -u admin:", "User ID=sa;", "requests.go", "kubelet",
		"  project: shop-prod", "Rotate the database password every 90 days.",
	}
	var all strings.Builder
	inputs, _ := filepath.Glob("testdata/*")
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden") || strings.Contains(in, "fuzz") {
			continue
		}
		b, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		all.WriteString(Redact(string(b)))
	}
	out := all.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("secret %q survived", s)
		}
	}
	for _, e := range evidence {
		if e == "requests.go" {
			continue
		}
		if !strings.Contains(out, e) {
			t.Errorf("evidence %q was removed", e)
		}
	}
}

func TestFalsePositivesUntouched(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/false_positives.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got := Redact(string(b)); got != string(b) {
		t.Errorf("text without secrets changed:\n%s", lineDiff(string(b), got))
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"postgres://user:pass@host/db", "postgres://user:[REDACTED:password]@host/db"},
		{"redis://:pw123456@redis:6379", "redis://:[REDACTED:password]@redis:6379"},
		{"https://example.com/path", "https://example.com/path"},
		{"Authorization: Bearer abcdef123456", "Authorization: Bearer [REDACTED:token]"},
		{"authorization=Basic dXNlcjpwYXNz", "authorization=Basic [REDACTED:token]"},
		{`{"Authorization":"Bearer abc.def.ghi"}`, `{"Authorization":"Bearer [REDACTED:token]"}`},
		{"password=hunter22 user=bob", "password=[REDACTED:password] user=bob"},
		{"DB_PASSWORD: 'two words'", "DB_PASSWORD: '[REDACTED:password]'"},
		{`"apiKey": "abc\"def"`, `"apiKey": "[REDACTED:api_key]"`},
		{"client_secret=abc&scope=read", "client_secret=[REDACTED:secret]&scope=read"},
		{"x-api-token: 12345678", "x-api-token: [REDACTED:token]"},
		{"private_key: abcdefgh", "private_key: [REDACTED:private_key]"},
		{"password: \"\"", "password: \"\""},
		{"password: true", "password: true"},
		{"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\nnext", "[REDACTED:private_key]\nnext"},
		{`"key": "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n"`, `"key": "[REDACTED:private_key]\n"`},
		{"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n(truncated)", "[REDACTED:private_key](truncated)"},
		{"key AKIAIOSFODNN7EXAMPLE used", "key [REDACTED:aws_access_key_id] used"},
		{"x sk-abcdefghijklmnopqrstuvwx y", "x [REDACTED:api_key] y"},
		{"task-sk-abcdefghijklmnopqrstuvwx", "task-sk-abcdefghijklmnopqrstuvwx"},
		{"--password=s3cret --verbose", "--password=[REDACTED:password] --verbose"},
		{"--token abcdef123 next", "--token [REDACTED:token] next"},
		{"Cookie: a=b; c=d", "Cookie: [REDACTED:cookie]"},
		{"a:\n  password: |\n    hunter2\n\n    more\n  user: bob\n", "a:\n  password: |\n    [REDACTED:password]\n\n    [REDACTED:password]\n  user: bob\n"},
		{"credentials.json: >-\n  {\"type\": \"service_account\"}\nnext: 1\n", "credentials.json: >-\n  [REDACTED:secret]\nnext: 1\n"},
		{"description: |\n  not a secret\n", "description: |\n  not a secret\n"},
		{"secretName: |\n  ref\n", "secretName: |\n  ref\n"},
		{"password=\"" + strings.Repeat("long secret ", 40) + "\" next", "password=\"[REDACTED:password]\" next"},
		{strings.Repeat("x", 300) + " token=" + strings.Repeat("a", 300) + " end", strings.Repeat("x", 300) + " token=[REDACTED:token] end"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactorLiterals(t *testing.T) {
	t.Parallel()
	r := New("my-custom-secret-value", "short", "my-custom-secret")
	got := r.Redact("a my-custom-secret-value b my-custom-secret c short d")
	want := "a [REDACTED:secret] b [REDACTED:secret] c short d"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// Patterns still apply.
	if got := r.Redact("password=abcdefgh"); got != "password=[REDACTED:password]" {
		t.Errorf("got %q", got)
	}
	var nilR *Redactor
	if got := nilR.Redact("password=abcdefgh"); got != "password=[REDACTED:password]" {
		t.Errorf("nil redactor: %q", got)
	}
}

func FuzzRedact(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*")
	for _, in := range inputs {
		if b, err := os.ReadFile(in); err == nil && !strings.HasSuffix(in, ".golden") {
			for line := range strings.Lines(string(b)) {
				f.Add(line)
			}
		}
	}
	f.Add("postgres://a:b@c password=x token: y Bearer zzzzzzzzz")
	f.Fuzz(func(t *testing.T, s string) {
		once := Redact(s)
		if twice := Redact(once); twice != once {
			t.Fatalf("not idempotent:\n in    %q\n once  %q\n twice %q", s, once, twice)
		}
	})
}

func BenchmarkRedact(b *testing.B) {
	var corpus strings.Builder
	inputs, _ := filepath.Glob("testdata/*")
	for _, in := range inputs {
		if bs, err := os.ReadFile(in); err == nil && !strings.HasSuffix(in, ".golden") {
			corpus.Write(bs)
		}
	}
	// Mostly clean log text, as tool output is, with the corpus's secrets.
	clean := strings.Repeat("2026-11-27T08:01:12.345Z INFO checkout-api handled request path=/api/v1/orders status=200 duration_ms=17 request_id=0b6f7e2c-9d4a-4c1e-8a51-3f2d6e9b7a10\n", 200)
	for name, text := range map[string]string{"secrets": corpus.String(), "clean": clean} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				Redact(text)
			}
		})
	}
}

// lineDiff shows the lines that differ, for readable failures.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			b.WriteString("- " + a + "\n+ " + c + "\n")
		}
	}
	return b.String()
}
