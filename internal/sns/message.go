// Package sns handles Amazon SNS HTTP(S) deliveries: it reads the JSON
// message SNS POSTs to a subscribed endpoint, verifies its signature with
// the AWS signing certificate, and confirms subscriptions.
//
// # Order of checks (for the API)
//
//  1. ParseMessage(body): refuse anything that is not one SNS message
//     (ErrNotSNS, HTTP 400).
//  2. Verifier.Verify(ctx, m): refuse unsigned, tampered or foreign messages
//     (ErrSignature, ErrCertHost, ErrCertUntrusted: 403; ErrCertFetch is
//     transient: 503, so SNS retries).
//  3. Check m.TopicArn against the integration's allowed topics (403).
//  4. For SubscriptionConfirmation: Verifier.Confirm(ctx, m), and stop; for
//     UnsubscribeConfirmation: stop. Only Notification messages go on to
//     the webhook parser.
//
// # Trust
//
// The signing certificate is fetched only over HTTPS (ordinary TLS
// verification) from a host AllowHost accepts — by default IsSNSHost,
// i.e. sns.<region>.amazonaws.com(.cn) — so the primary trust anchor is
// that fetch: nobody but AWS can serve content from those hosts. In
// addition, the certificate must chain to Roots (nil: the system roots),
// using as intermediates any further certificates in the PEM, the TLS chain
// of the fetch, Verifier.Intermediates and, when those do not complete the
// chain, the issuer named in the certificate's Authority Information Access
// (fetched like a browser would, at most two levels). AWS serves only the
// leaf certificate, whose issuing intermediate is not a root, so that last
// fetch is what completes AWS's chain; where it cannot be made (no system
// roots, outbound traffic limited to the SNS hosts), set
// Verifier.SkipChainVerify.
//
// # Parser consistency
//
// The webhook parser reads the same body after verification. So that both
// read the same values, ParseMessage refuses duplicate keys and any key
// that differs only in letter case from an SNS field (encoding/json would
// match those case-insensitively): a body that passes ParseMessage has one
// unambiguous value per field.
package sns

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrNotSNS marks a body that is not one well-formed SNS message.
var ErrNotSNS = errors.New("sns: not an SNS message")

// Message types.
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
	TypeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// Message is one SNS message as delivered to an HTTP(S) endpoint. Fields SNS
// did not send are "". It marshals with the HTTPS field names; it
// unmarshals both those and the Lambda spellings SigningCertUrl and
// UnsubscribeUrl (see UnmarshalJSON).
type Message struct {
	Type             string `json:"Type"`
	MessageID        string `json:"MessageId"`
	Token            string `json:"Token,omitempty"`
	TopicArn         string `json:"TopicArn"`
	Subject          string `json:"Subject,omitempty"`
	Message          string `json:"Message"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
	SubscribeURL     string `json:"SubscribeURL,omitempty"`
	UnsubscribeURL   string `json:"UnsubscribeURL,omitempty"`
}

// fields maps every accepted key spelling to its field.
func (m *Message) fields() map[string]*string {
	return map[string]*string{
		"Type":             &m.Type,
		"MessageId":        &m.MessageID,
		"Token":            &m.Token,
		"TopicArn":         &m.TopicArn,
		"Subject":          &m.Subject,
		"Message":          &m.Message,
		"Timestamp":        &m.Timestamp,
		"SignatureVersion": &m.SignatureVersion,
		"Signature":        &m.Signature,
		"SigningCertURL":   &m.SigningCertURL,
		"SigningCertUrl":   &m.SigningCertURL, // Lambda events
		"SubscribeURL":     &m.SubscribeURL,
		"UnsubscribeURL":   &m.UnsubscribeURL,
		"UnsubscribeUrl":   &m.UnsubscribeURL, // Lambda events
	}
}

// UnmarshalJSON reads one JSON object. Keys are matched exactly, with the
// Lambda spellings SigningCertUrl and UnsubscribeUrl accepted besides the
// HTTPS ones; a key repeated, given in two spellings, or differing from a
// field name only in letter case is refused, so no two readers of the body
// can disagree on a value. Values must be strings; null counts as absent
// (Lambda sends "Subject": null). Other keys (MessageAttributes, …) are
// ignored, except Records: a Lambda event envelope is not a message.
func (m *Message) UnmarshalJSON(data []byte) error {
	var out Message
	fields := out.fields()
	folded := make(map[string]bool, len(fields))
	for k := range fields {
		folded[strings.ToLower(k)] = true
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return notSNS("malformed JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return notSNS("body: must be a JSON object")
	}
	seen := map[*string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return notSNS("malformed JSON: %v", err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return notSNS("malformed JSON: %v", err)
		}
		f, ok := fields[key]
		if !ok {
			switch {
			case key == "Records":
				return notSNS("a Lambda event envelope (Records), not an SNS HTTP(S) message")
			case folded[strings.ToLower(key)]:
				return notSNS("key %q: unexpected spelling of an SNS field", short(key))
			}
			continue
		}
		if prev, dup := seen[f]; dup {
			return notSNS("key %q: duplicate (also given as %q)", key, prev)
		}
		seen[f] = key
		var s *string
		if err := json.Unmarshal(raw, &s); err != nil {
			return notSNS("%s: must be a string", key)
		}
		if s != nil {
			*f = *s
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return notSNS("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return notSNS("malformed JSON: data after the top-level object")
	}
	*m = out
	return nil
}

// ParseMessage decodes an SNS HTTP(S) delivery body (see UnmarshalJSON) and
// checks that Type is one of the three SNS message types and that the
// fields that type always carries are present: MessageId, TopicArn,
// Timestamp (RFC 3339) and Message; for the two confirmation types also
// Token and SubscribeURL. TopicArn's shape is not checked (Lambda test
// events carry "arn:aws:sns:EXAMPLE"); compare it exactly with the topics
// you accept, or split it with ParseTopicArn. Signature fields are not required
// here: Verify checks them. Errors wrap ErrNotSNS.
func ParseMessage(body []byte) (Message, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	var m Message
	if err := m.UnmarshalJSON(body); err != nil {
		return Message{}, err
	}
	if err := m.validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

func (m Message) validate() error {
	required := []struct{ key, val string }{
		{"MessageId", m.MessageID},
		{"TopicArn", m.TopicArn},
		{"Timestamp", m.Timestamp},
		{"Message", m.Message},
	}
	switch m.Type {
	case TypeNotification:
	case TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation:
		required = append(required,
			struct{ key, val string }{"Token", m.Token},
			struct{ key, val string }{"SubscribeURL", m.SubscribeURL})
	case "":
		return notSNS("Type: required")
	default:
		return notSNS("Type: must be %s, %s or %s, got %q", TypeNotification, TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation, short(m.Type))
	}
	for _, r := range required {
		if strings.TrimSpace(r.val) == "" {
			return notSNS("%s: required for a %s", r.key, m.Type)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, m.Timestamp); err != nil {
		return notSNS("Timestamp: must be an RFC 3339 time, got %q", short(m.Timestamp))
	}
	return nil
}

// TopicArn is an SNS topic ARN, arn:<partition>:sns:<region>:<account>:<name>.
type TopicArn struct {
	Partition, Region, Account, Name string
}

// ParseTopicArn splits an SNS topic ARN. Errors wrap ErrNotSNS.
func ParseTopicArn(s string) (TopicArn, error) {
	p := strings.SplitN(s, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[2] != "sns" || p[1] == "" || p[3] == "" || p[4] == "" || p[5] == "" {
		return TopicArn{}, notSNS("TopicArn: must be arn:<partition>:sns:<region>:<account>:<topic>, got %q", short(s))
	}
	return TopicArn{Partition: p[1], Region: p[3], Account: p[4], Name: p[5]}, nil
}

// stringToSign is the canonical text SNS signs: the message's fields in
// byte order of their names, each as "Name\nValue\n". Notifications include
// Subject only when there is one; confirmations sign SubscribeURL and Token
// instead.
func (m Message) stringToSign() (string, error) {
	var keys []struct{ k, v string }
	switch m.Type {
	case TypeNotification:
		keys = []struct{ k, v string }{{"Message", m.Message}, {"MessageId", m.MessageID}}
		if m.Subject != "" {
			keys = append(keys, struct{ k, v string }{"Subject", m.Subject})
		}
		keys = append(keys, []struct{ k, v string }{{"Timestamp", m.Timestamp}, {"TopicArn", m.TopicArn}, {"Type", m.Type}}...)
	case TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation:
		keys = []struct{ k, v string }{
			{"Message", m.Message}, {"MessageId", m.MessageID}, {"SubscribeURL", m.SubscribeURL},
			{"Timestamp", m.Timestamp}, {"Token", m.Token}, {"TopicArn", m.TopicArn}, {"Type", m.Type},
		}
	default:
		return "", fmt.Errorf("%w: unknown message Type %q", ErrSignature, short(m.Type))
	}
	var b strings.Builder
	for _, kv := range keys {
		b.WriteString(kv.k)
		b.WriteByte('\n')
		b.WriteString(kv.v)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

func notSNS(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotSNS, fmt.Sprintf(format, args...))
}

// short keeps sender-controlled text quoted in errors brief.
func short(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
