package httpapi_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"wearhouse/app"
)

// The edge, as strangers and odd clients meet it: every answer is given and
// seen, at once, and no request reaches another user's data by its path.

// exchangeWithin writes raw bytes on a new connection, half-closes nothing,
// and reads one answer, failing if none comes within 5 s (the server's read
// timeout is a minute: a hang shows as a failure, not as a slow pass).
func exchangeWithin(t *testing.T, addr, raw string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to %q: %v", raw, err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body = io.NopCloser(bytes.NewReader(b))
	return res
}

func TestBareLFHeaderBlockIsRefusedAtOnce(t *testing.T) {
	ts := startServer(t, nil)
	addr := ts.app.Addr().String()
	for _, raw := range []string{
		"GET /healthz HTTP/1.1\nHost: x\n\n",
		"GET /healthz HTTP/1.1\r\nHost: x\n\n",
		"GET /healthz HTTP/1.1\r\nHost: x\r\n\n",
		"GET /healthz HTTP/1.1\r\nHost: x\n\r\n",
		"POST /api/v1/sdk/users/u/sync HTTP/1.1\nHost: x\nContent-Length: 2\n\n{}",
	} {
		res := exchangeWithin(t, addr, raw)
		if res.StatusCode != 400 || res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%q: %d %q", raw, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	// Bare LFs between header lines are tolerated when the block ends in
	// CRLF CRLF, and the framing is followed across bodies that hold blank
	// lines, of a Content-Length and in chunks, on one connection.
	body := "{\n\n\"provider\": \"apple\"\n\n}"
	chunked := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
	rs := rawExchange(t, addr,
		"GET /healthz HTTP/1.1\nHost: x\r\n\r\n",
		fmt.Sprintf("POST /api/v1/sdk/users/u/sync HTTP/1.1\r\nHost: x\r\nX-Open-Wearables-API-Key: %s\r\nContent-Length: %d\r\n\r\n%s", adminKey, len(body), body),
		fmt.Sprintf("POST /api/v1/sdk/users/u/sync HTTP/1.1\r\nHost: x\r\nX-Open-Wearables-API-Key: %s\r\nTransfer-Encoding: chunked\r\n\r\n%s", adminKey, chunked),
		"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
	)
	for i, want := range []int{200, 202, 202, 200} {
		if rs[i].StatusCode != want {
			t.Errorf("request %d on one connection: %d, want %d", i, rs[i].StatusCode, want)
		}
	}
}

func TestPathSegmentsThatHideAUserAreRefused(t *testing.T) {
	ts := startServer(t, nil)
	body := fixture(t, "sync_request__SyncRequest_json_schema_example.json")
	addr := ts.app.Addr().String()
	for _, path := range []string{
		"/api/v1/sdk/users/x%2F..%2Fvictim/sync",
		"/api/v1/sdk/users/x/..%2fvictim/sync",
		"/api/v1/sdk/users/x/../victim/sync",
		"/api/v1/sdk/users/x/%2e%2e/victim/sync",
		"/api/v1/sdk/users/./victim/sync",
		"/api/v1/sdk/users/victim%5C/sync",
		"/api/v1/sdk/users/victim%2fx/sync",
	} {
		raw := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nX-Open-Wearables-API-Key: %s\r\nContent-Length: %d\r\n\r\n%s",
			path, adminKey, len(body), body)
		if res := exchangeWithin(t, addr, raw); res.StatusCode != 400 {
			b, _ := io.ReadAll(res.Body)
			t.Errorf("%s: %d %s", path, res.StatusCode, b)
		}
	}
	for _, e := range ts.queue() {
		t.Errorf("a refused path queued a batch for %q", e.UserID)
	}
	if r := ts.do("GET", "/api/v1/users/victim", nil, "X-Open-Wearables-API-Key", adminKey); r.status != 404 {
		t.Errorf("the victim exists: %d %s", r.status, r.body)
	}
	// Encoded characters that are not slashes stay fine.
	if r := ts.asAdmin("ada%40example.org", body); r.status != 202 || r.json(t)["user_id"] != "ada@example.org" {
		t.Errorf("an encoded @: %d %s", r.status, r.body)
	}
}

func TestExpectContinueRefusesFromTheHeaders(t *testing.T) {
	ts := startServer(t, func(o *app.Options) { o.HTTP.MaxBody = 64 << 10 })
	addr := ts.app.Addr().String()
	for _, tc := range []struct {
		name, headers string
		length        int
		want          int
	}{
		{"over the size limit", "X-Open-Wearables-API-Key: " + adminKey, 1 << 20, 413},
		{"over the size limit, elsewhere", "X-Open-Wearables-API-Key: " + adminKey, 1 << 20, 413},
		{"no credentials", "", 1000, 401},
		{"a bad key", "X-Open-Wearables-API-Key: sk-00000000000000000000000000000000", 1000, 401},
		{"a bad user id", "X-Open-Wearables-API-Key: " + adminKey + "\r\nX-Path: bad", 1000, 400},
		{"SDK logs without credentials", "", 1000, 401},
	} {
		path := "/api/v1/sdk/users/u/sync"
		switch tc.name {
		case "a bad user id":
			path = "/api/v1/sdk/users/bad%20id/sync"
		case "over the size limit, elsewhere":
			path = "/api/v1/users"
		case "SDK logs without credentials":
			path = "/api/v1/sdk/users/u/logs"
		}
		h := "POST " + path + " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
		if tc.headers != "" {
			h += tc.headers + "\r\n"
		}
		h += fmt.Sprintf("Content-Length: %d\r\n\r\n", tc.length)
		// The body is never sent: the first answer must be the refusal,
		// not 100 Continue.
		if res := exchangeWithin(t, addr, h); res.StatusCode != tc.want {
			t.Errorf("%s: first answer %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
}

// writeWholeThenRead sends a request as most HTTP client libraries do: the
// whole body first, then the answer is read. A server that closes with the
// body still arriving resets the connection, and the client sees no answer.
func writeWholeThenRead(t *testing.T, addr, head string, body []byte) (*http.Response, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, head); err != nil {
		return nil, err
	}
	if _, err := conn.Write(body); err != nil {
		return nil, fmt.Errorf("writing the body: %w", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	res.Body.Close()
	return res, nil
}

func TestRefusalsAreSeenByClientsThatWriteTheWholeBody(t *testing.T) {
	ts := startServer(t, func(o *app.Options) { o.HTTP.MaxBody = 1 << 20 })
	addr := ts.app.Addr().String()
	body := bytes.Repeat([]byte("x"), 8<<20)
	for _, tc := range []struct {
		name, head string
		want       int
	}{
		{"over the limit", fmt.Sprintf("POST /api/v1/sdk/users/u/sync HTTP/1.1\r\nHost: x\r\nX-Open-Wearables-API-Key: %s\r\nContent-Length: %d\r\n\r\n", adminKey, len(body)), 413},
		{"over the limit, chunked", fmt.Sprintf("POST /api/v1/sdk/users/u/sync HTTP/1.1\r\nHost: x\r\nX-Open-Wearables-API-Key: %s\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n", adminKey, len(body)), 413},
		{"no credentials", fmt.Sprintf("POST /api/v1/sdk/users/u/sync HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body)), 413},
		{"no credentials, chunked", fmt.Sprintf("POST /api/v1/sdk/users/u/sync HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n", len(body)), 401},
		{"a control route", fmt.Sprintf("POST /api/v1/token/refresh HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n", len(body)), 413},
	} {
		res, err := writeWholeThenRead(t, addr, tc.head, body)
		if err != nil {
			t.Errorf("%s: no answer: %v", tc.name, err)
			continue
		}
		if res.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.want)
		}
	}
}

func TestTruncatedBodyNamesWhereItEnded(t *testing.T) {
	ts := startServer(t, nil)
	conn, err := net.Dial("tcp", ts.app.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	// A body that ends, with the connection, before its Content-Length.
	fmt.Fprintf(conn, "POST /api/v1/sdk/users/u/sync HTTP/1.1\r\nHost: x\r\nX-Open-Wearables-API-Key: %s\r\nContent-Length: 100000\r\n\r\n%s%s",
		adminKey, `{"provider":"apple","data":{"records":[`, strings.Repeat(" ", 20000-39))
	conn.(*net.TCPConn).CloseWrite()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 400 || !strings.Contains(string(b), "after 20000 of the 100000 bytes") {
		t.Errorf("%d %s", res.StatusCode, b)
	}

	// A complete body whose JSON is cut short names its end.
	r := ts.asAdmin("u", []byte(`{"provider":"apple","data":{"records":[`))
	if r.status != 400 || !strings.Contains(r.detail(t), "byte offset 39") {
		t.Errorf("truncated JSON: %d %s", r.status, r.body)
	}
}

func TestEveryBodyEncodingIsAccepted(t *testing.T) {
	ts := startServer(t, nil)
	body := fixture(t, "sync_request__SyncRequest_json_schema_example.json")
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(body)
	zw.Close()
	if r := ts.asAdmin("deflated", z.Bytes(), "Content-Encoding", "deflate"); r.status != 202 {
		t.Errorf("deflate: %d %s", r.status, r.body)
	}
	if r := ts.asAdmin("plain", body, "Content-Encoding", "identity"); r.status != 202 {
		t.Errorf("identity: %d %s", r.status, r.body)
	}
	if r := ts.asAdmin("u", body, "Content-Encoding", "br"); r.status != 415 {
		t.Errorf("br: %d %s", r.status, r.body)
	}
	// The control routes take the same encodings.
	var u bytes.Buffer
	uw := zlib.NewWriter(&u)
	uw.Write([]byte(`{"external_user_id":"ext-deflated"}`))
	uw.Close()
	r := ts.do("POST", "/api/v1/users", u.Bytes(), "X-Open-Wearables-API-Key", adminKey, "Content-Encoding", "deflate")
	if r.status != 201 || r.json(t)["external_user_id"] != "ext-deflated" {
		t.Errorf("a deflated user: %d %s", r.status, r.body)
	}
}

// encode writes a body in a Content-Encoding ("" and "identity": as it is).
func encode(t *testing.T, enc string, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case "", "identity":
		return body
	case "gzip":
		w = gzip.NewWriter(&b)
	case "deflate":
		w = zlib.NewWriter(&b)
	case "zstd":
		zw, err := zstd.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	default:
		t.Fatalf("no encoder for %q", enc)
	}
	if _, err := w.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Every route with a body reads it through the same path, and so takes the
// same encodings: the credential routes, whose body is read before any
// other credential is known, and the control routes alike.
func TestEveryBodyRouteTakesEveryEncoding(t *testing.T) {
	ts := startServer(t, nil)
	admin := []string{"X-Open-Wearables-API-Key", adminKey}
	ts.asAdmin("enc-user", fixture(t, "malformed_payload_debug__valid.json"))
	r := ts.do("POST", "/api/v1/applications", []byte(`{"name":"enc"}`), admin...)
	if r.status != 201 {
		t.Fatalf("app: %d %s", r.status, r.body)
	}
	var app struct {
		AppID     string `json:"app_id"`
		AppSecret string `json:"app_secret"`
	}
	if err := json.Unmarshal(r.body, &app); err != nil {
		t.Fatal(err)
	}
	r = ts.do("POST", "/api/v1/developer/api-keys", []byte(`{"name":"k","scope":"read"}`), admin...)
	if r.status != 201 {
		t.Fatalf("key: %d %s", r.status, r.body)
	}
	keyID := r.json(t)["id"].(string)

	for _, enc := range []string{"identity", "gzip", "deflate", "zstd"} {
		with := func(headers ...string) []string { return append(headers, "Content-Encoding", enc) }
		body, _ := json.Marshal(map[string]string{"app_id": app.AppID, "app_secret": app.AppSecret})
		r := ts.do("POST", "/api/v1/users/enc-user/token", encode(t, enc, body), with()...)
		if r.status != 200 {
			t.Errorf("%s: token with app credentials: %d %s", enc, r.status, r.body)
			continue
		}
		rt := r.json(t)["refresh_token"].(string)
		if r := ts.do("POST", "/api/v1/token/refresh", encode(t, enc, []byte(`{"refresh_token":"`+rt+`"}`)), with()...); r.status != 200 {
			t.Errorf("%s: refresh: %d %s", enc, r.status, r.body)
		}
		r = ts.do("POST", "/api/v1/developer/api-keys", encode(t, enc, []byte(`{"name":"`+enc+`","scope":"write"}`)), with(admin...)...)
		if r.status != 201 || r.json(t)["name"] != enc {
			t.Errorf("%s: create an API key: %d %s", enc, r.status, r.body)
		}
		r = ts.do("PATCH", "/api/v1/developer/api-keys/"+keyID, encode(t, enc, []byte(`{"name":"k-`+enc+`"}`)), with(admin...)...)
		if r.status != 200 || r.json(t)["name"] != "k-"+enc {
			t.Errorf("%s: rename an API key: %d %s", enc, r.status, r.body)
		}
		r = ts.do("PATCH", "/api/v1/users/enc-user", encode(t, enc, []byte(`{"first_name":"`+enc+`"}`)), with(admin...)...)
		if r.status != 200 || r.json(t)["first_name"] != enc {
			t.Errorf("%s: patch a user: %d %s", enc, r.status, r.body)
		}
	}
	// An encoding that no route takes is 415 on every route, before the
	// body is read.
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/v1/users/enc-user/token"},
		{"POST", "/api/v1/token/refresh"},
		{"POST", "/api/v1/developer/api-keys"},
		{"PATCH", "/api/v1/developer/api-keys/" + keyID},
		{"PATCH", "/api/v1/users/enc-user"},
	} {
		if r := ts.do(c.method, c.path, []byte(`{}`), append(admin, "Content-Encoding", "br")...); r.status != 415 {
			t.Errorf("br to %s %s: %d %s", c.method, c.path, r.status, r.body)
		}
	}
}

// A client that announces a large body and sends it slowly holds what it
// has sent, not what it announced: it cannot take the bytes in flight from
// everybody else by announcing them.
func TestAnnouncedBodyIsNotHeldBeforeItArrives(t *testing.T) {
	ts := startServer(t, func(o *app.Options) { o.HTTP.MaxBody = 16 << 20 })
	conn, err := net.Dial("tcp", ts.app.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/sdk/users/u/sync HTTP/1.1\r\nHost: x\r\nX-Open-Wearables-API-Key: %s\r\nContent-Length: %d\r\n\r\n%s",
		adminKey, 12<<20, strings.Repeat(" ", 100<<10))
	deadline := time.Now().Add(5 * time.Second)
	var held, reqs int64
	for time.Now().Before(deadline) {
		if held, reqs = ts.app.Ingest.InFlight(); reqs == 1 && held > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if reqs != 1 {
		t.Fatalf("the request never took its place (%d in flight)", reqs)
	}
	if held > 2<<20 {
		t.Errorf("a body announced at 12 MiB with 100 KiB sent holds %d bytes", held)
	}
}
