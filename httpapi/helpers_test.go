package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/app"
	"wearhouse/auth"
	"wearhouse/codec"
	"wearhouse/httpapi"
	"wearhouse/ingest"
	"wearhouse/pebblestore"
)

const adminKey = "sk-test0000000000000000000000admin"

// testServer is a real wearhouse on a loopback port over a temp store.
type testServer struct {
	t      *testing.T
	app    *app.App
	base   string
	c      *http.Client
	dir    string
	closed bool
}

// stop closes the server; the data directory stays for inspection.
func (ts *testServer) stop() {
	ts.t.Helper()
	if ts.closed {
		return
	}
	ts.closed = true
	// Idle keep-alive connections of the test's client would hold the
	// shutdown until its deadline.
	ts.c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := ts.app.Close(ctx); err != nil {
		ts.t.Errorf("close: %v", err)
	}
}

// startServer starts a server whose compactor is paused, so that tests see
// the queue as the write path left it; tune may change any option.
func startServer(t *testing.T, tune func(*app.Options)) *testServer {
	t.Helper()
	o := app.Options{
		Store:     pebblestore.Options{Dir: t.TempDir()},
		Auth:      auth.Options{AdminKey: adminKey},
		Ingest:    ingest.Options{AutoCreateUsers: true, BallastSize: -1},
		Compactor: ingest.CompactorOptions{Paused: true},
		HTTP:      httpapi.Options{ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second},
		Logger:    zerolog.Nop(),
		Announce:  io.Discard,
	}
	if tune != nil {
		tune(&o)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Start(o, ln)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, app: a, base: "http://" + ln.Addr().String(), c: &http.Client{Timeout: 10 * time.Second}, dir: o.Store.Dir}
	t.Cleanup(ts.stop)
	return ts
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer is not JSON (%d): %q", r.status, r.body)
	}
	return m
}

func (r resp) detail(t *testing.T) string {
	t.Helper()
	d, _ := r.json(t)["detail"].(string)
	return d
}

// do sends a request and checks that its answer is JSON; headers come in
// pairs.
func (ts *testServer) do(method, path string, body []byte, headers ...string) resp {
	ts.t.Helper()
	r := ts.send(method, path, body, headers...)
	// Every answer is JSON but the Prometheus text of /metrics and the
	// static files.
	if ct := r.header.Get("Content-Type"); len(r.body) > 0 && ct != "application/json" && path != "/metrics" &&
		!strings.HasPrefix(path, "/static/") {
		ts.t.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	return r
}

// send sends a request and returns its answer whatever its content type;
// headers come in pairs.
func (ts *testServer) send(method, path string, body []byte, headers ...string) resp {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.base+path, bytes.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := ts.c.Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func (ts *testServer) sync(user string, body []byte, headers ...string) resp {
	ts.t.Helper()
	return ts.do("POST", "/api/v1/sdk/users/"+user+"/sync", body, headers...)
}

func (ts *testServer) asAdmin(user string, body []byte, headers ...string) resp {
	ts.t.Helper()
	return ts.sync(user, body, append([]string{"X-Open-Wearables-API-Key", adminKey}, headers...)...)
}

// token mints an SDK token for a user (creating the user with a sync first).
func (ts *testServer) token(user string) string {
	ts.t.Helper()
	r := ts.do("POST", "/api/v1/users/"+user+"/token", nil, "X-Open-Wearables-API-Key", adminKey)
	if r.status == http.StatusNotFound {
		ts.asAdmin(user, fixture(ts.t, "malformed_payload_debug__valid.json"))
		r = ts.do("POST", "/api/v1/users/"+user+"/token", nil, "X-Open-Wearables-API-Key", adminKey)
	}
	if r.status != http.StatusOK {
		ts.t.Fatalf("token for %s: %d %s", user, r.status, r.body)
	}
	return r.json(ts.t)["access_token"].(string)
}

// queue returns the queue entries by batch id.
func (ts *testServer) queue() map[string]*pebblestore.QueueEntry {
	ts.t.Helper()
	out := map[string]*pebblestore.QueueEntry{}
	err := ts.app.Store.ScanQueue(0, func(e *pebblestore.QueueEntry) (bool, error) {
		id := e.BatchID
		out[uuidString(id[:])] = e
		return true, nil
	})
	if err != nil {
		ts.t.Fatal(err)
	}
	return out
}

// queued is what the queue holds for a sync body: its validated queued
// form.
func queued(t *testing.T, body []byte) []byte {
	t.Helper()
	q, err := codec.Queued(body)
	if err != nil {
		t.Fatalf("a test body does not decode: %v", err)
	}
	return q
}

func uuidString(b []byte) string {
	const hexdig = "0123456789abcdef"
	var s []byte
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s = append(s, '-')
		}
		s = append(s, hexdig[c>>4], hexdig[c&15])
	}
	return string(s)
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
