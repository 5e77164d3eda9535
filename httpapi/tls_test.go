package httpapi_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	"wearhouse/app"
)

// selfSigned is a certificate for 127.0.0.1, made for the test.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wearhouse test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// Over TLS, bodies stream and refusals linger as in the clear: a sync is
// accepted, and a client that writes a body over the limit whole before
// reading sees its 413 (the lingering close shuts TLS's sending side).
func TestTLSStreamsBodiesAndLingers(t *testing.T) {
	cert, pool := selfSigned(t)
	ts := startServer(t, func(o *app.Options) {
		o.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		o.HTTP.MaxBody = 1 << 20
	})
	addr := ts.app.Addr().String()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	body := fixture(t, "sync_request__SyncRequest_json_schema_example.json")
	req, _ := http.NewRequest("POST", "https://"+addr+"/api/v1/sdk/users/tls-user/sync", bytes.NewReader(body))
	req.Header.Set("X-Open-Wearables-API-Key", adminKey)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 202 {
		t.Fatalf("sync over TLS: %d", res.StatusCode)
	}

	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	big := bytes.Repeat([]byte("x"), 8<<20)
	fmt.Fprintf(conn, "POST /api/v1/sdk/users/tls-user/sync HTTP/1.1\r\nHost: x\r\nX-Open-Wearables-API-Key: %s\r\nContent-Length: %d\r\n\r\n", adminKey, len(big))
	if _, err := conn.Write(big); err != nil {
		t.Fatalf("writing the body: %v", err)
	}
	res, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a body over the limit: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Errorf("a body over the limit over TLS: %d, want 413", res.StatusCode)
	}
}

// Plain HTTP sent to the TLS port (an http:// URL in an SDK's settings) is
// told to use https, with a JSON 400, instead of a dropped connection.
func TestPlainHTTPToTheTLSPortIsToldToUseHTTPS(t *testing.T) {
	cert, pool := selfSigned(t)
	ts := startServer(t, func(o *app.Options) {
		o.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	})
	addr := ts.app.Addr().String()
	for _, method := range []string{"GET", "POST"} {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(mustRequest(t, method, "http://"+addr+"/api/v1/sdk/users/u1/sync"))
		if err != nil {
			t.Fatalf("%s over plain HTTP: %v", method, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !bytes.Contains(b, []byte("use an https:// URL")) {
			t.Fatalf("%s over plain HTTP: %d %s", method, resp.StatusCode, b)
		}
	}
	// TLS itself still works on the same port.
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz over TLS: %d", resp.StatusCode)
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader([]byte("{}")))
	if err != nil {
		t.Fatal(err)
	}
	return req
}
