package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The secret and signatures of the three real PagerDuty deliveries in
// testdata/pagerduty (see testdata/SOURCES.md): HMAC-SHA256 of each file's
// bytes exactly as stored.
const pdFixtureSecret = "HvPtlQNKMPpHSSqJpCdndXfo7HnGXa1pnH6w5axpxLFn9aRBNBGh4e8/HlonK5mz"

var pdFixtureSignatures = map[string]string{
	"incident_triggered.json":    "v1=3e3032b45bbe1801c13f182b0e0a7f4f3f530225cef07e3e90cbc57874d01c49",
	"incident_acknowledged.json": "v1=91f533c0411d09f3e68622e2b57fdb561e7113ce7635318a2bbf5cde45d3d876",
	"incident_resolved.json":     "v1=60a745384fb05b03acfc592b157b05e105e498da2f72f53c437c9d7c8d9aa879",
}

func pdSign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

func readPD(t *testing.T, name string) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "pagerduty", name))
	mustNil(t, err)
	return body
}

func TestVerifyPagerDutyRealDeliveries(t *testing.T) {
	t.Parallel()
	for name, sig := range pdFixtureSignatures {
		body := readPD(t, name)
		mustNil(t, VerifyPagerDuty(sig, body, []string{pdFixtureSecret}))
		equal(t, sig, pdSign(pdFixtureSecret, body), name)
		// Each signature belongs to its own body only.
		for other, otherSig := range pdFixtureSignatures {
			if other != name {
				errIs(t, VerifyPagerDuty(otherSig, body, []string{pdFixtureSecret}), ErrSignatureInvalid)
			}
		}
	}
}

func TestVerifyPagerDuty(t *testing.T) {
	t.Parallel()
	body := readPD(t, "incident_triggered.json")
	good := pdFixtureSignatures["incident_triggered.json"]
	const newSecret = "rotated-secret-0123456789abcdef"
	newSig := pdSign(newSecret, body)
	wrongSig := pdSign("not the secret", body)
	tampered := append([]byte(nil), body...)
	i := strings.Index(string(tampered), `"Test"`)
	tampered[i+1] = 'B' // "Best": one byte changed

	cases := []struct {
		name    string
		header  string
		body    []byte
		secrets []string
		want    error // nil: accepted
	}{
		{"real signature", good, body, []string{pdFixtureSecret}, nil},
		{"upper-case hex", "v1=" + strings.ToUpper(strings.TrimPrefix(good, "v1=")), body, []string{pdFixtureSecret}, nil},
		{"spaces around entries", "  " + wrongSig + " , " + good + " ", body, []string{pdFixtureSecret}, nil},
		// Rotation: PagerDuty signs with every active secret; Aurora may hold
		// the old, the new or both.
		{"rotation: two values, old secret", newSig + "," + good, body, []string{pdFixtureSecret}, nil},
		{"rotation: two values, new secret", good + "," + newSig, body, []string{newSecret}, nil},
		{"rotation: two secrets, second matches", good, body, []string{newSecret, pdFixtureSecret}, nil},
		{"rotation: two secrets, two values, one valid", wrongSig + "," + newSig, body, []string{pdFixtureSecret, newSecret}, nil},
		{"rotation: two secrets, two values, none valid", wrongSig + "," + pdSign("also wrong", body), body, []string{pdFixtureSecret, newSecret}, ErrSignatureInvalid},
		{"unknown version skipped", "v2=" + strings.Repeat("ab", 32) + "," + good, body, []string{pdFixtureSecret}, nil},
		{"unknown version with the right value", "v0=" + strings.TrimPrefix(good, "v1="), body, []string{pdFixtureSecret}, ErrSignatureMissing},
		{"missing header", "", body, []string{pdFixtureSecret}, ErrSignatureMissing},
		{"blank header", " , ", body, []string{pdFixtureSecret}, ErrSignatureMissing},
		{"only other versions", "v2=abcd,v3=ef", body, []string{pdFixtureSecret}, ErrSignatureMissing},
		{"malformed header", "garbage", body, []string{pdFixtureSecret}, ErrSignatureMissing},
		{"malformed: v1 without =", "v1", body, []string{pdFixtureSecret}, ErrSignatureMissing},
		{"malformed: empty v1", "v1=", body, []string{pdFixtureSecret}, ErrSignatureInvalid},
		{"malformed: not hex", "v1=" + strings.Repeat("zz", 32), body, []string{pdFixtureSecret}, ErrSignatureInvalid},
		{"malformed: short", good[:len(good)-2], body, []string{pdFixtureSecret}, ErrSignatureInvalid},
		{"malformed: long", good + "00", body, []string{pdFixtureSecret}, ErrSignatureInvalid},
		{"malformed: odd length", good[:len(good)-1], body, []string{pdFixtureSecret}, ErrSignatureInvalid},
		{"malformed entry beside a good one", "v1=xyz," + good, body, []string{pdFixtureSecret}, nil},
		{"tampered body", good, tampered, []string{pdFixtureSecret}, ErrSignatureInvalid},
		{"trailing newline added", good, append(append([]byte(nil), body...), '\n'), []string{pdFixtureSecret}, ErrSignatureInvalid},
		{"wrong secret", good, body, []string{"HvPtlQNKMPpHSSqJpCdndXfo7HnGXa1pnH6w5axpxLFn9aRBNBGh4e8/HlonK5mZ"}, ErrSignatureInvalid},
		{"no secrets", good, body, nil, ErrSignatureInvalid},
		{"empty secret never used", pdSign("", body), body, []string{""}, ErrSignatureInvalid},
		{"empty secret beside a real one", good, body, []string{"", pdFixtureSecret}, nil},
		{"empty body", pdSign(pdFixtureSecret, nil), nil, []string{pdFixtureSecret}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := VerifyPagerDuty(c.header, c.body, c.secrets)
			if c.want == nil {
				mustNil(t, err)
				return
			}
			errIs(t, err, c.want)
			if errors.Is(err, ErrSignatureMissing) == errors.Is(err, ErrSignatureInvalid) {
				t.Errorf("error must wrap exactly one of the signature errors: %v", err)
			}
			if strings.Contains(err.Error(), pdFixtureSecret) || strings.Contains(err.Error(), newSecret) {
				t.Errorf("error reveals a secret: %v", err)
			}
		})
	}
}

func TestSignatureErrorsAreDistinct(t *testing.T) {
	t.Parallel()
	errs := []error{ErrSignatureMissing, ErrSignatureInvalid, ErrMalformed, ErrInvalid, ErrIgnored}
	for i, a := range errs {
		for j, b := range errs {
			equal(t, i == j, errors.Is(a, b))
		}
	}
}

func FuzzVerifyPagerDuty(f *testing.F) {
	for name, sig := range pdFixtureSignatures {
		body, err := os.ReadFile(filepath.Join("testdata", "pagerduty", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sig, body, pdFixtureSecret)
		f.Add(sig+",v1=00,v2=x", body, "other")
	}
	f.Add("", []byte{}, "")
	f.Add("v1=,,,=v1,v1==", []byte("x"), "s")
	f.Fuzz(func(t *testing.T, header string, body []byte, secret string) {
		err := VerifyPagerDuty(header, body, []string{secret, "fixed-second-secret"})
		if err != nil {
			if errors.Is(err, ErrSignatureMissing) == errors.Is(err, ErrSignatureInvalid) {
				t.Fatalf("error must wrap exactly one of the signature errors: %v", err)
			}
			// The message must not depend on the secret, so it cannot
			// reveal it. (Looking for the secret in the message failed on
			// a secret that happens to be a word of the fixed message.)
			other := strings.Repeat("#", len(secret))
			if errOther := VerifyPagerDuty(header, body, []string{other, "fixed-second-secret"}); errOther != nil && errOther.Error() != err.Error() {
				t.Fatalf("the error depends on the secret: %q, with another secret %q", err, errOther)
			}
		}
		// Accepted exactly when some v1 entry is the signature under a
		// non-empty secret, as computed independently here.
		want := false
		for _, e := range strings.Split(header, ",") {
			v, ok := strings.CutPrefix(strings.TrimSpace(e), "v1=")
			if !ok {
				continue
			}
			v = strings.ToLower(strings.TrimSpace(v))
			for _, s := range []string{secret, "fixed-second-secret"} {
				if s != "" && "v1="+v == pdSign(s, body) {
					want = true
				}
			}
		}
		if want != (err == nil) {
			t.Fatalf("VerifyPagerDuty(%q) = %v, independent check says valid=%v", header, err, want)
		}
	})
}
