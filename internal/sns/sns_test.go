package sns

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestVerifyValid(t *testing.T) {
	t.Parallel()
	p := getPKI(t)
	s := newSNSServer(t, p)
	for _, version := range []string{"1", "2"} {
		for _, kind := range []string{"notification", "notification without subject", "subscription", "unsubscribe"} {
			t.Run(kind+" v"+version, func(t *testing.T) {
				var m Message
				switch kind {
				case "notification":
					m = s.notification(t, p, version)
				case "notification without subject":
					m = s.notification(t, p, version)
					m.Subject = ""
					sign(t, &m, p.leafKey, version)
				case "subscription":
					m = s.confirmation(t, p, version)
				case "unsubscribe":
					m = s.confirmation(t, p, version)
					m.Type = TypeUnsubscribeConfirmation
					sign(t, &m, p.leafKey, version)
				}
				// Through the wire format, as the API sees it.
				got, err := ParseMessage(body(t, m))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(m, got) {
					t.Fatalf("round trip:\n got %#v\nwant %#v", got, m)
				}
				if err := s.verifier(p).Verify(context.Background(), got); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	p := getPKI(t)
	s := newSNSServer(t, p)
	other := getPKI(t).directKey // a key whose certificate is not at the URL
	cases := []struct {
		name   string
		edit   func(m *Message)
		v      func(v *Verifier)
		want   error
		wantIn string
	}{
		{"tampered message", func(m *Message) { m.Message = `{"AlarmName":"api-5xx","NewStateValue":"OK"}` }, nil, ErrSignature, "does not match"},
		{"tampered subject", func(m *Message) { m.Subject = "OK" }, nil, ErrSignature, "does not match"},
		{"subject dropped", func(m *Message) { m.Subject = "" }, nil, ErrSignature, "does not match"},
		{"tampered topic", func(m *Message) { m.TopicArn = "arn:aws:sns:us-east-1:123456789012:other" }, nil, ErrSignature, "does not match"},
		{"type changed", func(m *Message) { m.Type = TypeSubscriptionConfirmation }, nil, ErrSignature, "does not match"},
		{"signed by another key", func(m *Message) { sign(t, m, other, "2") }, nil, ErrSignature, "does not match"},
		{"v1 signature claimed as v2", func(m *Message) { m.SignatureVersion = "2" }, nil, ErrSignature, "does not match"},
		{"garbled signature", func(m *Message) { m.Signature = "AAAA" + m.Signature[4:] }, nil, ErrSignature, "does not match"},
		{"signature not base64", func(m *Message) { m.Signature = "not base64!" }, nil, ErrSignature, "not base64"},
		{"no signature", func(m *Message) { m.Signature = "" }, nil, ErrSignature, "no Signature"},
		{"unknown version", func(m *Message) { m.SignatureVersion = "3" }, nil, ErrSignature, `unsupported SignatureVersion "3"`},
		{"no version", func(m *Message) { m.SignatureVersion = "" }, nil, ErrSignature, "unsupported SignatureVersion"},
		{"unknown type", func(m *Message) { m.Type = "Foo" }, nil, ErrSignature, "unknown message Type"},
		{"default hosts refuse 127.0.0.1", nil, func(v *Verifier) { v.AllowHost = nil }, ErrCertHost, "is not an SNS endpoint"},
		{"http cert URL", func(m *Message) { m.SigningCertURL = strings.Replace(m.SigningCertURL, "https:", "http:", 1) }, nil, ErrCertHost, "not an https URL"},
		{"user info", func(m *Message) {
			m.SigningCertURL = strings.Replace(m.SigningCertURL, "https://", "https://sns.us-east-1.amazonaws.com@", 1)
		}, nil, ErrCertHost, "plain https"},
		{"no cert URL", func(m *Message) { m.SigningCertURL = "" }, nil, ErrCertHost, "not an https URL"},
		{"relative cert URL", func(m *Message) { m.SigningCertURL = "/SimpleNotificationService-chain.pem" }, nil, ErrCertHost, "not an https URL"},
		{"cert 404", func(m *Message) { m.SigningCertURL = s.URL + "/missing.pem" }, nil, ErrCertFetch, "404"},
		{"cert redirect", func(m *Message) { m.SigningCertURL = s.URL + "/redirect.pem" }, nil, ErrCertFetch, "redirects are refused"},
		{"not PEM", func(m *Message) { m.SigningCertURL = s.URL + "/SimpleNotificationService-garbage.pem" }, nil, ErrCertFetch, "no PEM certificate"},
		{"PEM key", func(m *Message) { m.SigningCertURL = s.URL + "/SimpleNotificationService-key.pem" }, nil, ErrCertFetch, "unexpected PEM block"},
		{"too large", func(m *Message) { m.SigningCertURL = s.URL + "/SimpleNotificationService-huge.pem" }, nil, ErrCertFetch, "over 65536 bytes"},
		{"leaf without its intermediate", func(m *Message) { m.SigningCertURL = s.URL + "/SimpleNotificationService-leaf.pem" }, nil, ErrCertUntrusted, "unknown authority"},
		{"system roots do not know the test CA", nil, func(v *Verifier) { v.Roots = nil }, ErrCertUntrusted, ""},
		{"expired certificate", nil, func(v *Verifier) { v.now = func() time.Time { return p.notAfter.Add(time.Minute) } }, ErrCertUntrusted, "valid from"},
		{"cancelled", nil, func(v *Verifier) { v.Timeout = time.Nanosecond }, ErrCertFetch, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := s.notification(t, p, "1")
			if c.edit != nil {
				c.edit(&m)
			}
			v := s.verifier(p)
			if c.v != nil {
				c.v(v)
			}
			err := v.Verify(context.Background(), m)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.wantIn) {
				t.Fatalf("err = %q, want it to contain %q", err, c.wantIn)
			}
		})
	}
}

func TestVerifyNeverFetchesFromRefusedHosts(t *testing.T) {
	t.Parallel()
	p := getPKI(t)
	s := newSNSServer(t, p)
	v := s.verifier(p)
	v.AllowHost = nil // production default: IsSNSHost
	m := s.notification(t, p, "2")
	errIs(t, v.Verify(context.Background(), m), ErrCertHost)
	m.SigningCertURL = strings.Replace(m.SigningCertURL, "https:", "http:", 1)
	errIs(t, s.verifier(p).Verify(context.Background(), m), ErrCertHost)
	if n := s.certHits.Load(); n != 0 {
		t.Fatalf("%d certificate fetches, want 0", n)
	}
}

func TestChain(t *testing.T) {
	t.Parallel()
	p := getPKI(t)
	s := newSNSServer(t, p)
	leafOnly := func(t *testing.T) Message {
		m := s.notification(t, p, "2")
		m.SigningCertURL = s.URL + "/SimpleNotificationService-leaf.pem"
		return m
	}
	t.Run("intermediate in the PEM", func(t *testing.T) {
		mustNil(t, s.verifier(p).Verify(context.Background(), s.notification(t, p, "2")))
	})
	t.Run("intermediate configured", func(t *testing.T) {
		v := s.verifier(p)
		v.Intermediates = p.intermediates
		before := p.intermediates.Clone()
		mustNil(t, v.Verify(context.Background(), leafOnly(t)))
		isTrue(t, before.Equal(p.intermediates), "Verifier.Intermediates was modified")
	})
	t.Run("issued by the root directly", func(t *testing.T) {
		m := s.notification(t, p, "1")
		m.SigningCertURL = s.URL + "/SimpleNotificationService-direct.pem"
		sign(t, &m, p.directKey, "1")
		mustNil(t, s.verifier(p).Verify(context.Background(), m))
	})
	t.Run("skip chain verification", func(t *testing.T) {
		v := s.verifier(p)
		v.Roots = nil
		v.SkipChainVerify = true
		mustNil(t, v.Verify(context.Background(), leafOnly(t)))
		// Still refused: an expired certificate, a wrong signature.
		v2 := s.verifier(p)
		v2.SkipChainVerify = true
		v2.now = func() time.Time { return p.notBefore.Add(-time.Minute) }
		errIs(t, v2.Verify(context.Background(), leafOnly(t)), ErrCertUntrusted)
		m := leafOnly(t)
		m.Message += " "
		errIs(t, v.Verify(context.Background(), m), ErrSignature)
	})
}

// AWS serves the signing certificate alone; its issuer is fetched from the
// certificate's Authority Information Access URL.
func TestChainViaAIA(t *testing.T) {
	t.Parallel()
	p := getPKI(t)
	var issuerHits atomic.Int64
	mux := http.NewServeMux()
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	serve := func(path string, body []byte, count bool) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			if count {
				issuerHits.Add(1)
			}
			_, _ = w.Write(body)
		})
	}
	// root → inter (p.inter) → inter2 → leaf2: two issuers to fetch.
	inter2Key, inter2 := mkCert(t, "Test RSA 2048 M02", p.inter, p.interKey, true, p.notBefore, p.notAfter, srv.URL+"/m01.cer")
	leafDERKey, leafDER := mkCert(t, "sns.amazonaws.com", p.inter, p.interKey, false, p.notBefore, p.notAfter, "ldap://ignored.example", srv.URL+"/m01.cer")
	leafPEMKey, leafPEM := mkCert(t, "sns.amazonaws.com", p.inter, p.interKey, false, p.notBefore, p.notAfter, srv.URL+"/m01.pem")
	leaf2Key, leaf2 := mkCert(t, "sns.amazonaws.com", inter2, inter2Key, false, p.notBefore, p.notAfter, srv.URL+"/m02.cer")
	badKey, bad := mkCert(t, "sns.amazonaws.com", p.inter, p.interKey, false, p.notBefore, p.notAfter, srv.URL+"/not-a-ca.cer")
	goneKey, gone := mkCert(t, "sns.amazonaws.com", p.inter, p.interKey, false, p.notBefore, p.notAfter, srv.URL+"/missing.cer")
	serve("/m01.cer", p.inter.Raw, true)
	serve("/m01.pem", p.interPEM, true)
	serve("/m02.cer", inter2.Raw, true)
	serve("/not-a-ca.cer", p.leaf.Raw, true)
	for name, c := range map[string]*x509.Certificate{"der": leafDER, "pem": leafPEM, "two": leaf2, "bad": bad, "gone": gone} {
		serve("/"+name+".pem", pemOf(c), false)
	}
	host := strings.TrimPrefix(srv.URL, "https://")
	cases := []struct {
		name  string
		key   *rsa.PrivateKey
		want  error
		hits  int64
		again bool
	}{
		{"der", leafDERKey, nil, 1, true},
		{"pem", leafPEMKey, nil, 1, false},
		{"two", leaf2Key, nil, 2, false},
		{"bad", badKey, ErrCertUntrusted, 1, false},
		{"gone", goneKey, ErrCertUntrusted, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := &Verifier{Client: srv.Client(), AllowHost: func(h string) bool { return h == host }, Roots: p.roots}
			m := Message{Type: TypeNotification, MessageID: "1", TopicArn: "arn:aws:sns:us-east-1:123456789012:t", Message: "m",
				Timestamp: "2025-09-01T10:00:00.000Z", SigningCertURL: srv.URL + "/" + c.name + ".pem"}
			sign(t, &m, c.key, "2")
			before := issuerHits.Load()
			err := v.Verify(context.Background(), m)
			if c.want == nil {
				mustNil(t, err)
			} else {
				errIs(t, err, c.want)
			}
			equal(t, c.hits, issuerHits.Load()-before, "issuer fetches")
			if c.again {
				mustNil(t, v.Verify(context.Background(), m))
				equal(t, c.hits, issuerHits.Load()-before, "the verified key is cached")
			}
		})
	}
}

func TestCertCache(t *testing.T) {
	t.Parallel()
	p := getPKI(t)
	s := newSNSServer(t, p)
	v := s.verifier(p)
	clock := time.Now()
	var mu sync.Mutex
	v.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	v.TTL = time.Hour
	mustNil(t, v.Verify(context.Background(), s.notification(t, p, "1")))
	mustNil(t, v.Verify(context.Background(), s.confirmation(t, p, "2")))
	if n := s.certHits.Load(); n != 1 {
		t.Fatalf("2 verifications made %d fetches, want 1", n)
	}
	// A failed verification does not evict the certificate.
	m := s.notification(t, p, "1")
	m.Message = "tampered"
	errIs(t, v.Verify(context.Background(), m), ErrSignature)
	equal(t, int64(1), s.certHits.Load())
	// After the TTL it is fetched again.
	mu.Lock()
	clock = clock.Add(time.Hour + time.Second)
	mu.Unlock()
	mustNil(t, v.Verify(context.Background(), s.notification(t, p, "2")))
	equal(t, int64(2), s.certHits.Load())
}

func TestCertCacheConcurrent(t *testing.T) {
	t.Parallel()
	p := getPKI(t)
	s := newSNSServer(t, p)
	v := s.verifier(p)
	m := s.notification(t, p, "2")
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() { errs <- v.Verify(context.Background(), m) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		mustNil(t, err)
	}
	equal(t, int64(1), s.certHits.Load())
}

func TestCertCacheBounded(t *testing.T) {
	t.Parallel()
	p := getPKI(t)
	s := newSNSServer(t, p)
	v := s.verifier(p)
	v.MaxCerts = 2
	for i := range 5 {
		m := s.notification(t, p, "2")
		// Distinct URLs of the same certificate.
		m.SigningCertURL += "?v=" + string(rune('a'+i))
		mustNil(t, v.Verify(context.Background(), m))
	}
	v.mu.Lock()
	n := len(v.cache)
	v.mu.Unlock()
	equal(t, 2, n)
	equal(t, int64(5), s.certHits.Load())
}

func TestCertFetchFailureNotCached(t *testing.T) {
	t.Parallel()
	p := getPKI(t)
	s := newSNSServer(t, p)
	v := s.verifier(p)
	m := s.notification(t, p, "2")
	m.SigningCertURL = s.URL + "/SimpleNotificationService-garbage.pem"
	errIs(t, v.Verify(context.Background(), m), ErrCertFetch)
	errIs(t, v.Verify(context.Background(), m), ErrCertFetch)
	equal(t, int64(2), s.certHits.Load())
}

func TestConfirm(t *testing.T) {
	t.Parallel()
	p := getPKI(t)
	t.Run("hits the SubscribeURL once", func(t *testing.T) {
		s := newSNSServer(t, p)
		v := s.verifier(p)
		m := s.confirmation(t, p, "1")
		mustNil(t, v.Verify(context.Background(), m))
		mustNil(t, v.Confirm(context.Background(), m))
		equal(t, int64(1), s.confirmHits.Load())
	})
	cases := []struct {
		name   string
		edit   func(s *snsServer, m *Message)
		v      func(v *Verifier)
		want   error
		wantIn string
	}{
		{"default hosts refuse the test server", nil, func(v *Verifier) { v.AllowHost = nil }, ErrSubscribeHost, "is not an SNS endpoint"},
		{"lookalike host", func(s *snsServer, m *Message) {
			m.SubscribeURL = "https://sns.us-east-1.amazonaws.com.evil.example/?Action=ConfirmSubscription"
		}, func(v *Verifier) { v.AllowHost = nil }, ErrSubscribeHost, "is not an SNS endpoint"},
		{"http", func(s *snsServer, m *Message) { m.SubscribeURL = strings.Replace(m.SubscribeURL, "https:", "http:", 1) }, nil, ErrSubscribeHost, "not an https URL"},
		{"not a confirmation", func(s *snsServer, m *Message) { m.Type = TypeNotification }, nil, ErrSubscribeHost, "not SubscriptionConfirmation"},
		{"unsubscribe is not confirmed", func(s *snsServer, m *Message) { m.Type = TypeUnsubscribeConfirmation }, nil, ErrSubscribeHost, "not SubscriptionConfirmation"},
		{"redirect to another host", func(s *snsServer, m *Message) { m.SubscribeURL = s.URL + "/redirect" }, nil, ErrConfirm, "redirects are refused"},
		{"redirect to the same host", func(s *snsServer, m *Message) { m.SubscribeURL = s.URL + "/redirect-same-host" }, nil, ErrConfirm, "redirects are refused"},
		{"non-200", func(s *snsServer, m *Message) { m.SubscribeURL = s.URL + "/fail" }, nil, ErrConfirm, "403"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSNSServer(t, p)
			m := s.confirmation(t, p, "2")
			if c.edit != nil {
				c.edit(s, &m)
			}
			v := s.verifier(p)
			if c.v != nil {
				c.v(v)
			}
			err := v.Confirm(context.Background(), m)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			contains(t, err.Error(), c.wantIn)
			equal(t, int64(0), s.confirmHits.Load(), "confirmations")
		})
	}
}

func TestClientNotModified(t *testing.T) {
	t.Parallel()
	p := getPKI(t)
	s := newSNSServer(t, p)
	c := s.Client()
	v := s.verifier(p)
	v.Client = c
	m := s.confirmation(t, p, "2")
	m.SubscribeURL = s.URL + "/redirect-same-host"
	errIs(t, v.Confirm(context.Background(), m), ErrConfirm)
	if c.CheckRedirect != nil {
		t.Fatal("Verifier changed the caller's http.Client")
	}
}

func TestStringToSign(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/sns_subscription_confirmation_docs.json")
	mustNil(t, err)
	m, err := ParseMessage(b)
	mustNil(t, err)
	got, err := m.stringToSign()
	mustNil(t, err)
	want := "Message\nYou have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\nTo confirm the subscription, visit the SubscribeURL included in this message.\n" +
		"MessageId\n165545c9-2a5c-472c-8df2-7ff2be2b3b1b\n" +
		"SubscribeURL\nhttps://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37...\n" +
		"Timestamp\n2012-04-26T20:45:04.751Z\n" +
		"Token\n2336412f37...\n" +
		"TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\n" +
		"Type\nSubscriptionConfirmation\n"
	equal(t, want, got)

	b, err = os.ReadFile("testdata/https_notification_alarm.json")
	mustNil(t, err)
	m, err = ParseMessage(b)
	mustNil(t, err)
	got, err = m.stringToSign()
	mustNil(t, err)
	if !strings.HasPrefix(got, "Message\n{\"AlarmName\":\"bucketbytesAlarm\"") ||
		!strings.HasSuffix(got, "\nMessageId\ne288882d-4281-5be4-8fde-dccc11c8cb01\nSubject\nALARM: \"bucketbytesAlarm\" in EU (Ireland)\nTimestamp\n2019-02-15T23:53:45.134Z\nTopicArn\narn:aws:sns:eu-west-1:1234567890:alerta-test\nType\nNotification\n") {
		t.Fatalf("string to sign:\n%s", got)
	}
	equal(t, canonical(m), got)
}

// The published samples' signatures cannot be checked offline, but they
// must get as far as the certificate host check, and no further than
// fetching when AWS is unreachable.
func TestPublishedSamplesReachCertFetch(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"testdata/https_notification_alarm.json", "testdata/sns_subscription_confirmation_docs.json"} {
		b, err := os.ReadFile(f)
		mustNil(t, err)
		m, err := ParseMessage(b)
		mustNil(t, err)
		isTrue(t, IsSNSHost(hostOf(m.SigningCertURL)), "%s: cert host", f)
	}
}

func hostOf(u string) string {
	u = strings.TrimPrefix(u, "https://")
	h, _, _ := strings.Cut(u, "/")
	return h
}

func TestParseMessage(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/https_notification_alarm.json")
	mustNil(t, err)
	m, err := ParseMessage(b)
	mustNil(t, err)
	equal(t, TypeNotification, m.Type)
	equal(t, "e288882d-4281-5be4-8fde-dccc11c8cb01", m.MessageID)
	equal(t, "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-6aad65c2f9911b05cd53efda11f913f9.pem", m.SigningCertURL)
	isTrue(t, strings.HasPrefix(m.UnsubscribeURL, "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"))
	isTrue(t, strings.HasPrefix(m.Message, `{"AlarmName":"bucketbytesAlarm"`))

	b, err = os.ReadFile("testdata/sns_subscription_confirmation_docs.json")
	mustNil(t, err)
	m, err = ParseMessage(b)
	mustNil(t, err)
	equal(t, TypeSubscriptionConfirmation, m.Type)
	equal(t, "2336412f37...", m.Token)
	isTrue(t, strings.HasPrefix(m.SubscribeURL, "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription"))

	// Lambda's spellings, a null Subject and extra members.
	lambda := `{"Type":"Notification","MessageId":"1","TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Subject":null,"Message":"hi","Timestamp":"2015-06-03T17:43:27.123Z","SignatureVersion":"1","Signature":"EXAMPLE","SigningCertUrl":"https://c","UnsubscribeUrl":"https://u","MessageAttributes":{"a":{"Type":"String","Value":"b"}}}`
	m, err = ParseMessage([]byte("\xef\xbb\xbf" + lambda))
	mustNil(t, err)
	equal(t, Message{Type: "Notification", MessageID: "1", TopicArn: "arn:aws:sns:us-east-1:123456789012:t", Message: "hi", Timestamp: "2015-06-03T17:43:27.123Z", SignatureVersion: "1", Signature: "EXAMPLE", SigningCertURL: "https://c", UnsubscribeURL: "https://u"}, m)
	// It marshals with the HTTPS spellings.
	out, err := json.Marshal(m)
	mustNil(t, err)
	contains(t, string(out), `"SigningCertURL":"https://c"`)
	contains(t, string(out), `"UnsubscribeURL":"https://u"`)
	contains(t, string(out), `"MessageId":"1"`)
	// json.Unmarshal uses the same strict rules.
	var viaJSON Message
	mustNil(t, json.Unmarshal([]byte(lambda), &viaJSON))
	equal(t, m, viaJSON)
	errIs(t, json.Unmarshal([]byte(`{"type":"Notification"}`), &viaJSON), ErrNotSNS)
}

func TestParseMessageRefuses(t *testing.T) {
	t.Parallel()
	const (
		n    = `"Type":"Notification","MessageId":"1","TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Message":"hi","Timestamp":"2025-01-01T00:00:00Z"`
		conf = `"Type":"SubscriptionConfirmation","MessageId":"1","TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Message":"hi","Timestamp":"2025-01-01T00:00:00Z","Token":"t","SubscribeURL":"https://x"`
	)
	mustParse := func(s string) {
		t.Helper()
		if _, err := ParseMessage([]byte(s)); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	mustParse(`{` + n + `}`)
	mustParse(`{` + conf + `}`)
	cases := []struct{ body, want string }{
		{``, "malformed JSON"},
		{`not json`, "malformed JSON"},
		{`[]`, "must be a JSON object"},
		{`"x"`, "must be a JSON object"},
		{`{` + n, "malformed JSON"},
		{`{` + n + `} {}`, "data after the top-level object"},
		{`{` + n + `}x`, "malformed JSON"},
		{`{}`, "Type: required"},
		{`{"Type":"Notice"}`, `Type: must be Notification, SubscriptionConfirmation or UnsubscribeConfirmation, got "Notice"`},
		{`{"Type":1}`, "Type: must be a string"},
		{`{"Type":"Notification"}`, "MessageId: required for a Notification"},
		{`{` + strings.Replace(n, `"Message":"hi"`, `"Message":""`, 1) + `}`, "Message: required"},
		{`{` + strings.Replace(n, `"Message":"hi"`, `"Message":{"a":1}`, 1) + `}`, "Message: must be a string"},
		{`{` + strings.Replace(n, `"TopicArn":"arn:aws:sns:us-east-1:123456789012:t"`, `"TopicArn":" "`, 1) + `}`, "TopicArn: required"},
		{`{` + strings.Replace(n, `2025-01-01T00:00:00Z`, `yesterday`, 1) + `}`, `Timestamp: must be an RFC 3339 time, got "yesterday"`},
		{`{` + strings.Replace(conf, `"Token":"t",`, ``, 1) + `}`, "Token: required for a SubscriptionConfirmation"},
		{`{` + strings.Replace(strings.Replace(conf, `,"SubscribeURL":"https://x"`, ``, 1), "Subscription", "Unsubscribe", 1) + `}`, "SubscribeURL: required for a UnsubscribeConfirmation"},
		// Parser differentials: one value per field, exact spellings.
		{`{` + n + `,"Message":"evil"}`, `key "Message": duplicate`},
		{`{` + n + `,"message":"evil"}`, `key "message": unexpected spelling`},
		{`{` + n + `,"MESSAGEID":"2"}`, `key "MESSAGEID": unexpected spelling`},
		{`{` + n + `,"SigningCertURL":"https://a","SigningCertUrl":"https://b"}`, `key "SigningCertUrl": duplicate (also given as "SigningCertURL")`},
		{`{` + n + `,"Records":[]}`, "Lambda event envelope"},
		{`{"Records":[{"Sns":{` + n + `}}]}`, "Lambda event envelope"},
	}
	for _, c := range cases {
		t.Run(c.body, func(t *testing.T) {
			t.Parallel()
			m, err := ParseMessage([]byte(c.body))
			errIs(t, err, ErrNotSNS)
			if err != nil {
				contains(t, err.Error(), c.want)
			}
			equal(t, Message{}, m)
		})
	}
}

func TestParseTopicArn(t *testing.T) {
	t.Parallel()
	a, err := ParseTopicArn("arn:aws-cn:sns:cn-north-1:123456789012:a:b")
	mustNil(t, err)
	equal(t, TopicArn{Partition: "aws-cn", Region: "cn-north-1", Account: "123456789012", Name: "a:b"}, a)
	for _, s := range []string{"", "arn:aws:sns:EXAMPLE", "arn:aws:sns:us-east-1:123456789012:", "urn:aws:sns:us-east-1:1:t", "arn:aws:sns:us-east-1::t"} {
		_, err := ParseTopicArn(s)
		errIs(t, err, ErrNotSNS)
	}
}

func TestIsSNSHost(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		"sns.us-east-1.amazonaws.com":         true,
		"sns.eu-west-1.amazonaws.com":         true,
		"sns.ap-southeast-2.amazonaws.com":    true,
		"sns.us-gov-west-1.amazonaws.com":     true,
		"sns.il-central-1.amazonaws.com":      true,
		"sns.cn-north-1.amazonaws.com.cn":     true,
		"sns.cn-northwest-1.amazonaws.com.cn": true,
		"sns.us-east-1.amazonaws.com:443":     true,

		"sns.cn-north-1.amazonaws.com":             false, // China is on .com.cn
		"sns.us-east-1.amazonaws.com.cn":           false,
		"sns.us-east-1.amazonaws.com:8443":         false,
		"sns.us-east-1.amazonaws.com:":             false,
		"sns.us-east-1.amazonaws.com:443:443":      false,
		"sns.us-east-1.amazonaws.com.":             false,
		"sns.us-east-1.amazonaws.com.evil.com":     false,
		"sns.us-east-1.amazonaws.com.cn.evil.com":  false,
		"evilsns.us-east-1.amazonaws.com":          false,
		"xsns.us-east-1.amazonaws.com":             false,
		"sns.us-east-1.evilamazonaws.com":          false,
		"sns.us-east-1.amazonaws.co":               false,
		"sns.us-east-1-amazonaws.com":              false,
		"sns-us-east-1.amazonaws.com":              false,
		"sns.amazonaws.com":                        false,
		"sns.us-east.amazonaws.com":                false,
		"sns.useast1.amazonaws.com":                false,
		"sns.usa-east-1.amazonaws.com":             false,
		"sns.us-east-1.x.amazonaws.com":            false,
		"sqs.us-east-1.amazonaws.com":              false,
		"s3.amazonaws.com":                         false,
		"SNS.US-EAST-1.AMAZONAWS.COM":              false,
		"user@sns.us-east-1.amazonaws.com":         false,
		"sns.us-east-1.amazonaws.com@evil.com":     false,
		"evil.com#@sns.us-east-1.amazonaws.com":    false,
		"sns.us-east-1.amazonaws.com\n":            false,
		"sns.us-east-1.amazonaws.com/x":            false,
		"sns.us-east-1.amazonaws.com\x00.evil.com": false,
		"127.0.0.1":     false,
		"127.0.0.1:443": false,
		"[::1]:443":     false,
		"52.94.0.1":     false,
		"":              false,
		"sns.us-east-1.amazonaws.com.s3.amazonaws.com": false,
		"sns.us-gov-west-1.amazonaws.com.cn":           false,
	}
	for host, want := range cases {
		if got := IsSNSHost(host); got != want {
			t.Errorf("IsSNSHost(%q) = %v, want %v", host, got, want)
		}
	}
}
