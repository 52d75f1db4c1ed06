package sns

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SNS SignatureVersion 1
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pki is a test certificate authority: a root, an intermediate under it,
// and signing leaves, like AWS's Amazon Root CA → Amazon RSA 2048 M0x →
// SNS signing certificate.
type pki struct {
	root, inter         *x509.Certificate
	rootKey, interKey   *rsa.PrivateKey
	leaf                *x509.Certificate // signed by inter
	leafKey             *rsa.PrivateKey
	direct              *x509.Certificate // signed by root directly
	directKey           *rsa.PrivateKey
	roots               *x509.CertPool
	intermediates       *x509.CertPool
	leafPEM, interPEM   []byte
	directPEM           []byte
	notBefore, notAfter time.Time
}

var (
	testPKIOnce sync.Once
	testPKI     *pki
)

// keys are costly; one PKI serves all tests.
func getPKI(t testing.TB) *pki {
	t.Helper()
	testPKIOnce.Do(func() { testPKI = newPKI(t) })
	if testPKI == nil {
		t.Fatal("test PKI could not be built")
	}
	return testPKI
}

func newPKI(t testing.TB) *pki {
	p := &pki{notBefore: time.Now().Add(-time.Hour), notAfter: time.Now().Add(24 * time.Hour)}
	p.rootKey, p.root = mkCert(t, "Test Root CA", nil, nil, true, p.notBefore, p.notAfter)
	p.interKey, p.inter = mkCert(t, "Test RSA 2048 M01", p.root, p.rootKey, true, p.notBefore, p.notAfter)
	p.leafKey, p.leaf = mkCert(t, "sns.amazonaws.com", p.inter, p.interKey, false, p.notBefore, p.notAfter)
	p.directKey, p.direct = mkCert(t, "sns.amazonaws.com", p.root, p.rootKey, false, p.notBefore, p.notAfter)
	p.roots = x509.NewCertPool()
	p.roots.AddCert(p.root)
	p.intermediates = x509.NewCertPool()
	p.intermediates.AddCert(p.inter)
	p.leafPEM = pemOf(p.leaf)
	p.interPEM = pemOf(p.inter)
	p.directPEM = pemOf(p.direct)
	return p
}

var serial atomic.Int64

// mkCert makes a certificate signed by parent (self-signed when nil); aia
// are its Authority Information Access "CA Issuers" URLs.
func mkCert(t testing.TB, cn string, parent *x509.Certificate, parentKey *rsa.PrivateKey, ca bool, nb, na time.Time, aia ...string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Aurora tests"}},
		NotBefore:             nb,
		NotAfter:              na,
		BasicConstraintsValid: true,
		IsCA:                  ca,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		IssuingCertificateURL: aia,
	}
	if ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	} else {
		tmpl.DNSNames = []string{cn}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, c
}

func pemOf(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// canonical builds the string SNS signs, written out independently of
// stringToSign from AWS's documentation.
func canonical(m Message) string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	if m.Type == TypeNotification {
		add("Message", m.Message)
		add("MessageId", m.MessageID)
		if m.Subject != "" {
			add("Subject", m.Subject)
		}
		add("Timestamp", m.Timestamp)
		add("TopicArn", m.TopicArn)
		add("Type", m.Type)
		return b.String()
	}
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	add("SubscribeURL", m.SubscribeURL)
	add("Timestamp", m.Timestamp)
	add("Token", m.Token)
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}

// sign signs m as SNS would with SignatureVersion version.
func sign(t testing.TB, m *Message, key *rsa.PrivateKey, version string) {
	t.Helper()
	m.SignatureVersion = version
	text := []byte(canonical(*m))
	var (
		sig []byte
		err error
	)
	switch version {
	case "1":
		d := sha1.Sum(text) //nolint:gosec // as SNS signs
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, d[:])
	default:
		d := sha256.Sum256(text)
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
}

// snsServer stands in for sns.<region>.amazonaws.com: it serves signing
// certificates and subscription confirmations, and counts requests.
type snsServer struct {
	*httptest.Server
	certHits, confirmHits, otherHits atomic.Int64
}

func newSNSServer(t testing.TB, p *pki) *snsServer {
	t.Helper()
	s := &snsServer{}
	mux := http.NewServeMux()
	serve := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			s.certHits.Add(1)
			w.Header().Set("Content-Type", "application/x-x509-ca-cert")
			_, _ = w.Write(body)
		}
	}
	mux.HandleFunc("GET /SimpleNotificationService-leaf.pem", serve(p.leafPEM))
	mux.HandleFunc("GET /SimpleNotificationService-chain.pem", serve(append(append([]byte{}, p.leafPEM...), p.interPEM...)))
	mux.HandleFunc("GET /SimpleNotificationService-direct.pem", serve(p.directPEM))
	mux.HandleFunc("GET /SimpleNotificationService-garbage.pem", serve([]byte("<html>not a certificate</html>")))
	mux.HandleFunc("GET /SimpleNotificationService-key.pem", serve(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: []byte{1, 2, 3}})))
	mux.HandleFunc("GET /SimpleNotificationService-huge.pem", serve([]byte(strings.Repeat("A", MaxCertBytes+1))))
	mux.HandleFunc("GET /redirect.pem", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/SimpleNotificationService-chain.pem", http.StatusFound)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Action") != "ConfirmSubscription" {
			http.Error(w, "bad action", http.StatusBadRequest)
			return
		}
		s.confirmHits.Add(1)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:us-east-1:123456789012:alarms:1</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`))
	})
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://evil.example.com/?Action=ConfirmSubscription", http.StatusFound)
	})
	mux.HandleFunc("GET /redirect-same-host", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/?Action=ConfirmSubscription&Token=x", http.StatusFound)
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		s.otherHits.Add(1)
		http.Error(w, "nope", http.StatusForbidden)
	})
	s.Server = httptest.NewTLSServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *snsServer) host() string { return strings.TrimPrefix(s.URL, "https://") }

// verifier trusts the test PKI and the test server's host (tests only).
func (s *snsServer) verifier(p *pki) *Verifier {
	h := s.host()
	return &Verifier{
		Client:    s.Client(),
		AllowHost: func(host string) bool { return host == h },
		Roots:     p.roots,
	}
}

// notification is a CloudWatch-style notification signed with the chain cert.
func (s *snsServer) notification(t testing.TB, p *pki, version string) Message {
	t.Helper()
	m := Message{
		Type:           TypeNotification,
		MessageID:      "b3c5f3a0-1d2e-5f6a-8b9c-0d1e2f3a4b5c",
		TopicArn:       "arn:aws:sns:us-east-1:123456789012:alarms",
		Subject:        `ALARM: "api-5xx" in US East (N. Virginia)`,
		Message:        `{"AlarmName":"api-5xx","NewStateValue":"ALARM"}`,
		Timestamp:      "2025-09-01T10:00:00.123Z",
		SigningCertURL: s.URL + "/SimpleNotificationService-chain.pem",
		UnsubscribeURL: s.URL + "/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:alarms:1",
	}
	sign(t, &m, p.leafKey, version)
	return m
}

func (s *snsServer) confirmation(t testing.TB, p *pki, version string) Message {
	t.Helper()
	m := Message{
		Type:           TypeSubscriptionConfirmation,
		MessageID:      "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
		Token:          "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
		TopicArn:       "arn:aws:sns:us-east-1:123456789012:alarms",
		Message:        "You have chosen to subscribe to the topic arn:aws:sns:us-east-1:123456789012:alarms.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
		SubscribeURL:   s.URL + "/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:123456789012:alarms&Token=2336412f37",
		Timestamp:      "2025-09-01T10:00:00.000Z",
		SigningCertURL: s.URL + "/SimpleNotificationService-chain.pem",
	}
	sign(t, &m, p.leafKey, version)
	return m
}

// body is m as SNS POSTs it.
func body(t testing.TB, m Message) []byte {
	t.Helper()
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustNil(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func equal(t testing.TB, want, got any, msg ...any) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Errorf("got  %#v\nwant %#v %v", got, want, msg)
	}
}

func isTrue(t testing.TB, ok bool, msg ...any) {
	t.Helper()
	if !ok {
		t.Errorf("not true: %v", msg)
	}
}

func contains(t testing.TB, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%q does not contain %q", s, sub)
	}
}

func errIs(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("err = %v, want one wrapping %v", err, target)
	}
}
