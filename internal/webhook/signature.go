package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// PagerDutySignatureHeader is the header PagerDuty v3 webhooks carry their
// signatures in.
const PagerDutySignatureHeader = "X-PagerDuty-Signature"

// ErrSignatureMissing marks a request without a signature the verifier can
// check: no header, or a header without any v1= entry. The API answers 401.
var ErrSignatureMissing = errors.New("signature missing")

// ErrSignatureInvalid marks a request whose signatures all fail to match
// (tampered body, wrong or rotated-out secret, garbled signature). The API
// answers 401.
var ErrSignatureInvalid = errors.New("signature invalid")

// VerifyPagerDuty checks the X-PagerDuty-Signature header of a v3 webhook
// against the raw request body. The header is a comma-separated list of
// "v1=<hex HMAC-SHA256(secret, body)>", one per active signing secret while
// PagerDuty rotates them; the request is genuine when any v1 value matches
// the HMAC under any of secrets. Entries of other versions (v2=…) are
// skipped, so a future scheme does not break verification while v1 is still
// sent. Comparisons are constant-time (hmac.Equal). Empty secrets are never
// used: anyone could sign with them.
//
// Errors: ErrSignatureMissing for an empty header or one with no v1 entry;
// ErrSignatureInvalid when nothing matches, including v1 values that are not
// 64 hex digits and an empty list of secrets. The body must be the bytes as
// received, before any decoding or re-encoding.
func VerifyPagerDuty(header string, body []byte, secrets []string) error {
	var sigs [][]byte
	found := false
	for entry := range strings.SplitSeq(header, ",") {
		value, ok := strings.CutPrefix(strings.TrimSpace(entry), "v1=")
		if !ok {
			continue
		}
		found = true
		sig, err := hex.DecodeString(strings.TrimSpace(value))
		if err != nil || len(sig) != sha256.Size {
			continue // garbled: cannot match; others still may
		}
		sigs = append(sigs, sig)
	}
	if !found {
		if strings.TrimSpace(header) == "" {
			return fmt.Errorf("%w: no %s header", ErrSignatureMissing, PagerDutySignatureHeader)
		}
		return fmt.Errorf("%w: %s has no v1= signature", ErrSignatureMissing, PagerDutySignatureHeader)
	}
	usable := 0
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		usable++
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		want := mac.Sum(nil)
		for _, sig := range sigs {
			if hmac.Equal(want, sig) {
				return nil
			}
		}
	}
	if usable == 0 {
		return fmt.Errorf("%w: no signing secret to check it with", ErrSignatureInvalid)
	}
	return fmt.Errorf("%w: no v1 signature in %s matches the body", ErrSignatureInvalid, PagerDutySignatureHeader)
}
