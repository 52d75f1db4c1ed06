package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// RedisTLS is a redis-server that speaks only TLS (--port 0), with a
// certificate for the host name "localhost" alone, signed by a CA made for
// the test.
type RedisTLS struct {
	*RedisNode
	// Port is the TLS port on 127.0.0.1.
	Port string
	// CAFile is the PEM of the CA that signed the server's certificate.
	CAFile string
	// OtherCAFile is the PEM of a CA that signed nothing the server shows.
	OtherCAFile string
}

// URL is the rediss:// URL reaching the server by host (use "localhost"
// for a name the certificate holds, "127.0.0.1" for one it does not).
func (r *RedisTLS) URL(host string) string {
	return "rediss://" + net.JoinHostPort(host, r.Port) + "/0"
}

// StartRedisTLS runs redis-server with TLS on a spare port of 127.0.0.1 and
// the plain port closed; clients need no certificate of their own.
func StartRedisTLS(t testing.TB) *RedisTLS {
	t.Helper()
	dir := t.TempDir()
	ca, caKey := newCA(t, "Aurora test CA")
	other, _ := newCA(t, "Some other CA")
	srvCert, srvKey := newLeaf(t, ca, caKey)
	files := map[string][]byte{"ca.pem": pemBlock("CERTIFICATE", ca.Raw), "other-ca.pem": pemBlock("CERTIFICATE", other.Raw),
		"server.pem": pemBlock("CERTIFICATE", srvCert), "server-key.pem": pemBlock("PRIVATE KEY", srvKey)}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	addr := FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	n := &RedisNode{Addr: addr, t: t, args: []string{"--port", "0", "--tls-port", port, "--bind", "127.0.0.1",
		"--tls-cert-file", filepath.Join(dir, "server.pem"), "--tls-key-file", filepath.Join(dir, "server-key.pem"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.pem"), "--tls-auth-clients", "no",
		"--save", "", "--appendonly", "no", "--dir", dir}}
	n.Start()
	t.Cleanup(n.Kill)
	return &RedisTLS{RedisNode: n, Port: port, CAFile: filepath.Join(dir, "ca.pem"), OtherCAFile: filepath.Join(dir, "other-ca.pem")}
}

func newCA(t testing.TB, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// newLeaf returns a server certificate for "localhost" (no IP address, so
// reaching the server as 127.0.0.1 is a host-name mismatch) and its PKCS#8
// key.
func newLeaf(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (cert, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial(t), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der, kb
}

func serial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
