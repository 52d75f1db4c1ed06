package sns

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
)

func FuzzParseMessage(f *testing.F) {
	for _, file := range []string{"testdata/https_notification_alarm.json", "testdata/sns_subscription_confirmation_docs.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"Type":"Notification"}`,
		`{"Type":"Notification","MessageId":"1","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"m","Timestamp":"2025-01-01T00:00:00Z","Subject":null,"SigningCertUrl":"x"}`,
		`{"Type":"Notification","type":"x"}`,
		`{"Records":[{"Sns":{}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseMessage(body)
		if err != nil {
			if !errors.Is(err, ErrNotSNS) {
				t.Fatalf("error does not wrap ErrNotSNS: %v", err)
			}
			if m != (Message{}) {
				t.Fatalf("message returned with error: %#v", m)
			}
			return
		}
		switch m.Type {
		case TypeNotification, TypeSubscriptionConfirmation, TypeUnsubscribeConfirmation:
		default:
			t.Fatalf("accepted Type %q", m.Type)
		}
		if m.MessageID == "" || m.TopicArn == "" || m.Message == "" || m.Timestamp == "" {
			t.Fatalf("accepted without a required field: %#v", m)
		}
		if _, err := m.stringToSign(); err != nil {
			t.Fatalf("accepted message cannot be signed: %v", err)
		}
		// What it accepts, it reads the same way as a plain map decoder
		// (which is how the webhook parser sees the body): no differential.
		var generic map[string]any
		if err := json.Unmarshal(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")), &generic); err != nil {
			t.Fatalf("accepted body is not a JSON object for encoding/json: %v", err)
		}
		for key, field := range map[string]string{"Type": m.Type, "MessageId": m.MessageID, "TopicArn": m.TopicArn, "Message": m.Message, "Timestamp": m.Timestamp, "Subject": m.Subject, "Token": m.Token, "SubscribeURL": m.SubscribeURL} {
			got, _ := generic[key].(string)
			if got != field {
				t.Fatalf("%s: ParseMessage read %q, a map decoder %q", key, field, got)
			}
		}
		// It round-trips through its own JSON form.
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseMessage(out)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", out, err)
		}
		if again != m {
			t.Fatalf("round trip changed the message:\n%#v\n%#v", m, again)
		}
	})
}

func FuzzIsSNSHost(f *testing.F) {
	for _, s := range []string{
		"sns.us-east-1.amazonaws.com", "sns.cn-north-1.amazonaws.com.cn", "sns.us-gov-west-1.amazonaws.com:443",
		"sns.us-east-1.amazonaws.com.evil.com", "evilsns.us-east-1.amazonaws.com", "127.0.0.1:443", "a@sns.us-east-1.amazonaws.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		if !IsSNSHost(host) {
			return
		}
		name, port, hasPort := strings.Cut(host, ":")
		if hasPort && port != "443" {
			t.Fatalf("accepted port %q", port)
		}
		if !strings.HasPrefix(name, "sns.") || !(strings.HasSuffix(name, ".amazonaws.com") || strings.HasSuffix(name, ".amazonaws.com.cn")) {
			t.Fatalf("accepted %q", host)
		}
		labels := 4
		if strings.HasSuffix(name, ".cn") {
			labels = 5
		}
		if len(strings.Split(name, ".")) != labels {
			t.Fatalf("accepted %q: unexpected number of labels", host)
		}
		// An https URL built on it connects to exactly that name.
		u, err := url.Parse("https://" + host + "/x.pem")
		if err != nil || u.Hostname() != name || u.User != nil {
			t.Fatalf("accepted %q, which a URL reads as host %q (err %v)", host, u.Hostname(), err)
		}
	})
}
