package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// TestJSONAnswersGzipped: a large JSON answer is gzipped for a client that
// takes gzip, and the same bytes come out; a client that does not gets
// it plain; small answers stay plain.
func TestJSONAnswersGzipped(t *testing.T) {
	ts := startServer(t, nil)
	raw := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(path, enc string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", ts.base+path, nil)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		res, err := raw.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	plainRes, plain := get("/openapi.json", "")
	if plainRes.Header.Get("Content-Encoding") != "" || !json.Valid(plain) || len(plain) < 4<<10 {
		t.Fatalf("plain: %v, %d bytes", plainRes.Header, len(plain))
	}
	zres, z := get("/openapi.json", "gzip, deflate, br")
	if zres.Header.Get("Content-Encoding") != "gzip" || zres.Header.Get("Vary") != "Accept-Encoding" || len(z) >= len(plain)/3 {
		t.Fatalf("gzipped: %v, %d bytes of %d", zres.Header, len(z), len(plain))
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(zr)
	if !bytes.Equal(back, plain) {
		t.Fatal("the gzipped answer is not the plain one")
	}
	if res, _ := get("/healthz", "gzip"); res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("a small answer was gzipped: %v", res.Header)
	}
}
