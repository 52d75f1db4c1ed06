package redisx

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aurora-oss/aurora/internal/testenv"
)

// rediss:// against a real redis-server speaking only TLS, with a
// certificate for "localhost" from a CA made for the test: the documented
// REDIS_SSL_CA_CERTS / REDIS_SSL_CERT_REQS semantics hold —
// required checks the chain and the host name, optional the chain only,
// none nothing — and a refused certificate is an error that names the
// settings to look at.
func TestTLSAgainstRedisServer(t *testing.T) {
	t.Parallel()
	srv := testenv.StartRedisTLS(t)
	for _, tc := range []struct {
		name string
		host string // in the URL: "localhost" is in the certificate, 127.0.0.1 is not
		tls  TLS
		err  string // "" : works
	}{
		{"required, its CA", "localhost", TLS{CACerts: srv.CAFile, CertReqs: "required"}, ""},
		{"default is required", "localhost", TLS{CACerts: srv.CAFile}, ""},
		{"required, another CA", "localhost", TLS{CACerts: srv.OtherCAFile, CertReqs: "required"}, "certificate signed by unknown authority"},
		{"required, system CAs", "localhost", TLS{}, "certificate signed by unknown authority"},
		{"required, host not in the certificate", "127.0.0.1", TLS{CACerts: srv.CAFile, CertReqs: "required"}, "certificate for 127.0.0.1"},
		{"optional, host not in the certificate", "127.0.0.1", TLS{CACerts: srv.CAFile, CertReqs: "optional"}, ""},
		{"optional, another CA", "localhost", TLS{CACerts: srv.OtherCAFile, CertReqs: "optional"}, "certificate signed by unknown authority"},
		{"none, another CA", "localhost", TLS{CACerts: srv.OtherCAFile, CertReqs: "none"}, ""},
		{"none, no CA, host not in the certificate", "127.0.0.1", TLS{CertReqs: "none"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(srv.URL(tc.host), tc.tls)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			key := "tls-test:" + strings.ReplaceAll(tc.name, " ", "-")
			err = c.Set(ctx, key, "v", time.Minute).Err()
			if tc.err == "" {
				if err != nil {
					t.Fatalf("SET over TLS: %v", err)
				}
				if v, err := c.Get(ctx, key).Result(); err != nil || v != "v" {
					t.Fatalf("GET over TLS = %q, %v", v, err)
				}
				if !c.Up() {
					t.Error("Up() false after commands worked")
				}
				return
			}
			if err == nil {
				t.Fatalf("SET worked; want a refused certificate (%s)", tc.err)
			}
			var te *TLSError
			if !errors.As(err, &te) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %q (%T): want a TLSError containing %q", err, err, tc.err)
			}
			// The message names the settings an operator must look at.
			for _, want := range []string{"REDIS_SSL_CERT_REQS=", "certificate was refused"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if tc.tls.CACerts != "" && !strings.Contains(err.Error(), "REDIS_SSL_CA_CERTS="+tc.tls.CACerts) {
				t.Errorf("error %q does not name the CA file", err)
			}
			if c.Up() {
				t.Error("Up() true with the certificate refused")
			}
			// While down, commands fail at once, still saying why.
			err = c.Ping(ctx).Err()
			if !errors.Is(err, ErrDown) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("next command: %v, want ErrDown naming %q", err, tc.err)
			}
		})
	}
	// A plain redis:// client cannot talk to a TLS-only port.
	c, err := New("redis://"+srv.Addr+"/0", TLS{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Error("a plain-text PING to the TLS port worked")
	}
}
