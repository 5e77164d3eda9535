package httpapi_test

// Helpers of the fault tests (fault_*_test.go): distinct sync bodies, a
// loopback client, and the store's contents after the server stopped.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/rs/zerolog"

	"wearhouse/app"
	"wearhouse/pebblestore"
)

// longFaultTests reports whether the long variants of the fault tests run
// (WEARHOUSE_LONG_TESTS=1).
func longFaultTests() bool { return os.Getenv("WEARHOUSE_LONG_TESTS") == "1" }

// faultSyncBody is a valid sync body, different for every n, of about
// records × 150 bytes.
func faultSyncBody(n, records int) []byte {
	var b strings.Builder
	b.WriteString(`{"provider":"apple","sdkVersion":"1.0","syncTimestamp":"2026-01-01T00:00:00Z","data":{"records":[`)
	for i := range max(records, 1) {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"fault-%d-%d","type":"HKQuantityTypeIdentifierHeartRate",`+
			`"startDate":"2026-01-01T%02d:%02d:%02dZ","endDate":"2026-01-01T%02d:%02d:%02dZ","value":%d,"unit":"bpm"}`,
			n, i, i/3600%24, i/60%60, i%60, i/3600%24, i/60%60, i%60, 50+(n+i)%70)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

// faultClient is a loopback client with its own connections.
func faultClient(timeout time.Duration, conns int) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		DisableCompression:  true,
	}}
}

// faultAnswer is the answer to one sync.
type faultAnswer struct {
	status  int
	header  http.Header
	body    []byte
	batchID string
	dup     bool
	elapsed time.Duration
}

// faultPost posts a sync with the admin key; headers come in pairs.
func faultPost(c *http.Client, base, user string, body []byte, headers ...string) (faultAnswer, error) {
	start := time.Now()
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/sdk/users/"+user+"/sync", bytes.NewReader(body))
	if err != nil {
		return faultAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Open-Wearables-API-Key", adminKey)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		return faultAnswer{elapsed: time.Since(start)}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	a := faultAnswer{status: res.StatusCode, header: res.Header, body: raw, elapsed: time.Since(start)}
	if err != nil {
		return a, err
	}
	if res.StatusCode == http.StatusAccepted {
		var v struct {
			BatchID   string `json:"batch_id"`
			Duplicate bool   `json:"duplicate"`
		}
		if err := json.Unmarshal(raw, &v); err != nil || v.BatchID == "" {
			return a, fmt.Errorf("202 without a batch id: %s", raw)
		}
		a.batchID, a.dup = v.BatchID, v.Duplicate
	}
	return a, nil
}

// checkRefusal reports what is wrong with a 503: it must carry
// Retry-After of at least a second and a JSON detail.
func checkRefusal(a faultAnswer) string {
	var v struct {
		Detail string `json:"detail"`
	}
	switch {
	case a.header.Get("Content-Type") != "application/json" || json.Unmarshal(a.body, &v) != nil || v.Detail == "":
		return fmt.Sprintf("503 without a JSON detail: %q", a.body)
	case a.header.Get("Retry-After") == "" || a.header.Get("Retry-After") == "0":
		return fmt.Sprintf("503 without Retry-After: %v", a.header)
	}
	return ""
}

// storedBatches opens the store of a stopped server and returns every
// batch it holds by batch id: its run's status, "queued" meaning it is
// still in the queue. A batch id found twice is an error.
func storedBatches(t *testing.T, dir string) map[string]string {
	t.Helper()
	st, err := pebblestore.Open(pebblestore.Options{Dir: dir, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("reopen the store: %v", err)
	}
	defer st.Close()
	out := map[string]string{}
	var dup []string
	if err := st.Runs(func(r *pebblestore.Run) bool {
		if _, ok := out[r.BatchID]; ok {
			dup = append(dup, r.BatchID)
		}
		out[r.BatchID] = r.Status
		return true
	}); err != nil {
		t.Fatal(err)
	}
	queued := map[string]bool{}
	if err := st.ScanQueue(0, func(e *pebblestore.QueueEntry) (bool, error) {
		id := uuidString(e.BatchID[:])
		if queued[id] {
			dup = append(dup, id)
		}
		queued[id] = true
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	for id := range queued {
		if _, ok := out[id]; !ok {
			t.Errorf("queued batch %s has no run", id)
		}
		out[id] = "queued"
	}
	if len(dup) > 0 {
		t.Fatalf("batches stored twice: %v", dup)
	}
	return out
}

// walLatency is an errorfs injector that makes every WAL sync take delay
// while it is on: a slow disk; or, between hold and release, wait for
// release: a stalled one.
type walLatency struct {
	on      atomic.Bool
	delay   atomic.Int64 // nanoseconds
	syncs   atomic.Int64 // syncs delayed
	held    atomic.Pointer[chan struct{}]
	holding atomic.Int64 // syncs waiting for release now
}

func (w *walLatency) String() string { return "walLatency" }

// startSlowDiskServer starts a server whose WAL syncs pass through a
// walLatency, with the given commit timeout. The latency releases its held
// syncs in a cleanup that runs before the server's stop, so that a failing
// test does not leave the store's fsyncs stuck.
func startSlowDiskServer(t *testing.T, commitTimeout time.Duration) (*testServer, *walLatency) {
	t.Helper()
	lat := &walLatency{}
	ts := startServer(t, func(o *app.Options) {
		o.Store.FS = errorfs.Wrap(vfs.Default, lat)
		o.Ingest.CommitTimeout = commitTimeout
	})
	t.Cleanup(lat.release)
	return ts, lat
}

// hold makes the WAL syncs from now on wait until release.
func (w *walLatency) hold() {
	c := make(chan struct{})
	w.held.Store(&c)
}

// release lets the held syncs (and the later ones) complete.
func (w *walLatency) release() {
	if c := w.held.Swap(nil); c != nil {
		close(*c)
	}
}

func (w *walLatency) MaybeError(op errorfs.Op) error {
	if w.on.Load() && strings.HasSuffix(op.Path, ".log") &&
		(op.Kind == errorfs.OpFileSync || op.Kind == errorfs.OpFileSyncData || op.Kind == errorfs.OpFileSyncTo) {
		w.syncs.Add(1)
		if c := w.held.Load(); c != nil {
			w.holding.Add(1)
			<-*c
			w.holding.Add(-1)
		} else {
			time.Sleep(time.Duration(w.delay.Load()))
		}
	}
	return nil
}
