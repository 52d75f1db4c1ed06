package sns

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SNS SignatureVersion 1 is SHA1withRSA
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Errors of Verify and Confirm.
var (
	// ErrSignature: the signature is missing, not base64, of an unsupported
	// SignatureVersion, or does not match the message.
	ErrSignature = errors.New("sns: invalid signature")
	// ErrCertHost: SigningCertURL is not an https URL on an allowed host.
	ErrCertHost = errors.New("sns: signing certificate URL not allowed")
	// ErrCertFetch: the signing certificate could not be fetched or read
	// (network error, non-200 answer, redirect, too large, not a PEM
	// certificate). Usually transient.
	ErrCertFetch = errors.New("sns: cannot fetch signing certificate")
	// ErrCertUntrusted: the certificate is not an RSA certificate, is
	// outside its validity period, or does not chain to the trusted roots.
	ErrCertUntrusted = errors.New("sns: signing certificate not trusted")
	// ErrSubscribeHost: the message is not a SubscriptionConfirmation, or
	// its SubscribeURL is not an https URL on an allowed host.
	ErrSubscribeHost = errors.New("sns: subscribe URL not allowed")
	// ErrConfirm: the SubscribeURL request failed or did not answer 200.
	ErrConfirm = errors.New("sns: subscription confirmation failed")
)

// Defaults for the zero Verifier.
const (
	DefaultTTL      = 24 * time.Hour
	DefaultMaxCerts = 64
	DefaultTimeout  = 10 * time.Second
	// MaxCertBytes bounds a fetched certificate PEM (AWS's are ~2 KiB).
	MaxCertBytes = 64 << 10
	// maxConfirmBytes bounds the ConfirmSubscription answer that is read.
	maxConfirmBytes = 64 << 10
)

// Verifier checks SNS message signatures and confirms subscriptions. The
// zero value is ready to use and safe for concurrent use; set fields before
// first use only. Certificates are cached by URL.
type Verifier struct {
	// Client makes the certificate and confirmation requests (nil: a plain
	// client over http.DefaultTransport). It is copied, never modified;
	// the copy refuses every redirect.
	Client *http.Client
	// AllowHost says which URL hosts (name[:port]) certificates and
	// subscription confirmations may come from (nil: IsSNSHost). Tests
	// inject their server's host; production must keep the default.
	AllowHost func(host string) bool
	// Roots are the roots the signing certificate must chain to (nil: the
	// system roots).
	Roots *x509.CertPool
	// Intermediates are added to the intermediates found in the fetched
	// PEM, in the TLS chain of the fetch, and fetched from the certificate's
	// Authority Information Access "CA Issuers" URL (optional).
	Intermediates *x509.CertPool
	// SkipChainVerify turns off the chain check (the certificate is still
	// fetched over HTTPS from an allowed host, must be RSA, and must be
	// within its validity period). For hosts that cannot complete AWS's
	// chain: no system roots, or no outbound access to the issuer URL.
	SkipChainVerify bool
	// TTL is how long a fetched certificate is reused (0: DefaultTTL), never
	// past its NotAfter.
	TTL time.Duration
	// MaxCerts bounds the cache (0: DefaultMaxCerts).
	MaxCerts int
	// Timeout bounds each request (0: DefaultTimeout).
	Timeout time.Duration

	now func() time.Time // tests

	mu       sync.Mutex
	cache    map[string]certEntry
	inflight map[string]*fetchCall
}

type certEntry struct {
	key     *rsa.PublicKey
	expires time.Time
	added   time.Time
}

type fetchCall struct {
	done chan struct{}
	key  *rsa.PublicKey
	exp  time.Time
	err  error
}

// Verify checks m's signature: SignatureVersion "1" (SHA1withRSA) or "2"
// (SHA256withRSA) over the canonical string-to-sign, with the public key of
// the certificate at SigningCertURL, which must be https on an allowed host
// and be trusted (see the package doc). The certificate is fetched once per
// URL and cached. Errors wrap ErrSignature, ErrCertHost, ErrCertFetch or
// ErrCertUntrusted.
func (v *Verifier) Verify(ctx context.Context, m Message) error {
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return fmt.Errorf("%w: unsupported SignatureVersion %q", ErrSignature, short(m.SignatureVersion))
	}
	text, err := m.stringToSign()
	if err != nil {
		return err
	}
	if m.Signature == "" {
		return fmt.Errorf("%w: no Signature", ErrSignature)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return fmt.Errorf("%w: Signature is not base64", ErrSignature)
	}
	u, err := v.checkURL(m.SigningCertURL)
	if err != nil {
		return fmt.Errorf("%w: SigningCertURL %q: %v", ErrCertHost, short(m.SigningCertURL), err)
	}
	key, err := v.certKey(ctx, u)
	if err != nil {
		return err
	}
	var digest []byte
	if hash == crypto.SHA1 {
		d := sha1.Sum([]byte(text)) //nolint:gosec // as SNS signs
		digest = d[:]
	} else {
		d := sha256.Sum256([]byte(text))
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(key, hash, digest, sig); err != nil {
		return fmt.Errorf("%w: does not match the message", ErrSignature)
	}
	return nil
}

// Confirm confirms a subscription: for a SubscriptionConfirmation whose
// SubscribeURL is https on an allowed host, it GETs that URL (no redirects
// followed, bounded time and body) and requires 200. Verify m first, and
// check its TopicArn. Errors wrap ErrSubscribeHost or ErrConfirm.
func (v *Verifier) Confirm(ctx context.Context, m Message) error {
	if m.Type != TypeSubscriptionConfirmation {
		return fmt.Errorf("%w: message Type is %q, not %s", ErrSubscribeHost, short(m.Type), TypeSubscriptionConfirmation)
	}
	u, err := v.checkURL(m.SubscribeURL)
	if err != nil {
		return fmt.Errorf("%w: SubscribeURL %q: %v", ErrSubscribeHost, short(m.SubscribeURL), err)
	}
	ctx, cancel := context.WithTimeout(ctx, v.timeout())
	defer cancel()
	if _, err := v.get(ctx, u, maxConfirmBytes); err != nil {
		return fmt.Errorf("%w: %v", ErrConfirm, err)
	}
	return nil
}

// checkURL parses raw and requires https on an allowed host.
func (v *Verifier) checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a URL")
	}
	if u.Scheme != "https" {
		return nil, errors.New("not an https URL")
	}
	if u.User != nil || u.Opaque != "" || u.Host == "" {
		return nil, errors.New("not a plain https URL")
	}
	allow := v.AllowHost
	if allow == nil {
		allow = IsSNSHost
	}
	if !allow(u.Host) {
		return nil, fmt.Errorf("host %q is not an SNS endpoint", short(u.Host))
	}
	return u, nil
}

// fetched is a successful GET: its body and TLS chain.
type fetched struct {
	body  []byte
	chain []*x509.Certificate
}

// get fetches u, refusing redirects, non-200 answers and bodies over limit.
func (v *Verifier) get(ctx context.Context, u *url.URL, limit int64) (fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fetched{}, err
	}
	resp, err := v.client().Do(req)
	if err != nil {
		return fetched{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fetched{}, fmt.Errorf("reading the answer: %v", err)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return fetched{}, fmt.Errorf("answered %s; redirects are refused", resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return fetched{}, fmt.Errorf("answered %s", resp.Status)
	}
	if int64(len(body)) > limit {
		return fetched{}, fmt.Errorf("answer is over %d bytes", limit)
	}
	var chain []*x509.Certificate
	if resp.TLS != nil {
		chain = resp.TLS.PeerCertificates
	}
	return fetched{body: body, chain: chain}, nil
}

func (v *Verifier) client() *http.Client {
	var c http.Client
	if v.Client != nil {
		c = *v.Client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func (v *Verifier) timeout() time.Duration {
	if v.Timeout > 0 {
		return v.Timeout
	}
	return DefaultTimeout
}

func (v *Verifier) clock() time.Time {
	if v.now != nil {
		return v.now()
	}
	return time.Now()
}

// certKey returns the public key of the certificate at u, from the cache or
// fetched (once, however many callers ask at the same time).
func (v *Verifier) certKey(ctx context.Context, u *url.URL) (*rsa.PublicKey, error) {
	k := u.String()
	v.mu.Lock()
	if e, ok := v.cache[k]; ok && v.clock().Before(e.expires) {
		v.mu.Unlock()
		return e.key, nil
	}
	call, running := v.inflight[k]
	if !running {
		call = &fetchCall{done: make(chan struct{})}
		if v.inflight == nil {
			v.inflight = map[string]*fetchCall{}
		}
		v.inflight[k] = call
	}
	v.mu.Unlock()

	if running {
		select {
		case <-call.done:
			return call.key, call.err
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v", ErrCertFetch, ctx.Err())
		}
	}
	call.key, call.exp, call.err = v.fetchCert(ctx, u)
	v.mu.Lock()
	delete(v.inflight, k)
	if call.err == nil {
		v.store(k, certEntry{key: call.key, expires: call.exp, added: v.clock()})
	}
	v.mu.Unlock()
	close(call.done)
	return call.key, call.err
}

// store caches e under k; v.mu is held. When full it drops expired entries,
// then the oldest.
func (v *Verifier) store(k string, e certEntry) {
	if v.cache == nil {
		v.cache = map[string]certEntry{}
	}
	limit := v.MaxCerts
	if limit <= 0 {
		limit = DefaultMaxCerts
	}
	if _, ok := v.cache[k]; !ok && len(v.cache) >= limit {
		now := v.clock()
		for key, old := range v.cache {
			if !now.Before(old.expires) {
				delete(v.cache, key)
			}
		}
		for len(v.cache) >= limit {
			var oldest string
			for key, old := range v.cache {
				if oldest == "" || old.added.Before(v.cache[oldest].added) {
					oldest = key
				}
			}
			delete(v.cache, oldest)
		}
	}
	v.cache[k] = e
}

// fetchCert fetches, parses and checks the certificate at u, returning its
// key and how long it may be cached.
func (v *Verifier) fetchCert(ctx context.Context, u *url.URL) (*rsa.PublicKey, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, v.timeout())
	defer cancel()
	f, err := v.get(ctx, u, MaxCertBytes)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %s: %v", ErrCertFetch, short(u.String()), err)
	}
	var certs []*x509.Certificate
	rest := f.body
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, time.Time{}, fmt.Errorf("%w: %s: unexpected PEM block %q", ErrCertFetch, short(u.String()), short(b.Type))
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: %s: %v", ErrCertFetch, short(u.String()), err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, time.Time{}, fmt.Errorf("%w: %s: no PEM certificate in the answer", ErrCertFetch, short(u.String()))
	}
	leaf := certs[0]
	key, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, time.Time{}, fmt.Errorf("%w: public key is %T, not RSA", ErrCertUntrusted, leaf.PublicKey)
	}
	now := v.clock()
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return nil, time.Time{}, fmt.Errorf("%w: valid from %s to %s only", ErrCertUntrusted, leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339))
	}
	if !v.SkipChainVerify {
		inter := x509.NewCertPool()
		if v.Intermediates != nil {
			inter = v.Intermediates.Clone()
		}
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		if len(f.chain) > 1 {
			for _, c := range f.chain[1:] {
				inter.AddCert(c)
			}
		}
		opts := x509.VerifyOptions{
			Roots:         v.Roots,
			Intermediates: inter,
			CurrentTime:   now,
			// A signing certificate, not a TLS server's: any usage.
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		}
		_, err := leaf.Verify(opts)
		// AWS serves the leaf alone; its issuer is named by the leaf's
		// Authority Information Access, as browsers use it.
		for cur, i := leaf, 0; err != nil && i < maxIssuerFetches; i++ {
			var unknown x509.UnknownAuthorityError
			if !errors.As(err, &unknown) {
				break
			}
			issuer := v.fetchIssuer(ctx, cur)
			if issuer == nil {
				break
			}
			inter.AddCert(issuer)
			_, err = leaf.Verify(opts)
			cur = issuer
		}
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("%w: %v", ErrCertUntrusted, err)
		}
	}
	ttl := v.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	exp := now.Add(ttl)
	if leaf.NotAfter.Before(exp) {
		exp = leaf.NotAfter
	}
	return key, exp, nil
}

// maxIssuerFetches bounds the issuers fetched to complete one chain.
const maxIssuerFetches = 2

// fetchIssuer fetches the certificate that issued c from the first usable
// "CA Issuers" URL c names (Authority Information Access), or returns nil.
// Plain http is fine there, as it is for browsers: the result is only
// offered as an intermediate, and the chain must still end at a trusted
// root. c itself was fetched over HTTPS from an allowed host, so the URL is
// the certificate authority's.
func (v *Verifier) fetchIssuer(ctx context.Context, c *x509.Certificate) *x509.Certificate {
	for i, raw := range c.IssuingCertificateURL {
		if i == 2 {
			break
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			continue
		}
		f, err := v.get(ctx, u, MaxCertBytes)
		if err != nil {
			continue
		}
		der := f.body
		if b, _ := pem.Decode(f.body); b != nil && b.Type == "CERTIFICATE" {
			der = b.Bytes
		}
		issuer, err := x509.ParseCertificate(der)
		if err != nil || !issuer.IsCA {
			continue
		}
		return issuer
	}
	return nil
}
