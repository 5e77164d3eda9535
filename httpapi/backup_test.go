package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/app"
	"wearhouse/auth"
	"wearhouse/bench"
	"wearhouse/ingest"
	"wearhouse/pebblestore"
)

// TestBackupUnderLoadRestores backs up while batches keep arriving,
// restores into a new data directory, and reads back every record
// acknowledged before the backup began.
func TestBackupUnderLoadRestores(t *testing.T) {
	ts := startIndexing(t)
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	var (
		mu      sync.Mutex
		acked   = map[int]bool{} // second offsets of acknowledged records
		counter atomic.Int64
		stop    atomic.Bool
		wg      sync.WaitGroup
	)
	post := func() {
		first := int(counter.Add(50)) - 50
		body := fmt.Sprintf(`{"provider":"google","sdkVersion":"1","syncTimestamp":"2026-05-02T00:00:00Z","data":{"records":[`)
		for i := 0; i < 50; i++ {
			at := base.Add(time.Duration(first+i) * time.Second).Format(time.RFC3339)
			if i > 0 {
				body += ","
			}
			body += fmt.Sprintf(`{"id":"b-%d","type":"HEART_RATE","startDate":"%s","endDate":"%s","value":%d,"unit":"bpm"}`, first+i, at, at, 40+(first+i)%100)
		}
		body += `]}}`
		if r := ts.asAdmin("backup-user", []byte(body)); r.status == 202 {
			mu.Lock()
			for i := 0; i < 50; i++ {
				acked[first+i] = true
			}
			mu.Unlock()
		}
	}
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() && counter.Load() < 40_000 {
				post()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	before := make(map[int]bool, len(acked))
	for k := range acked {
		before[k] = true
	}
	mu.Unlock()
	dir := filepath.Join(t.TempDir(), "backup")
	m, header := downloadBackup(t, ts, adminKey, dir)
	stop.Store(true)
	wg.Wait()
	if id := ts.app.Store.ID(); m.StoreID != id || header.Get("X-Wearhouse-Store-Id") != id {
		t.Errorf("backup of the store %s (header %s), want %s", m.StoreID, header.Get("X-Wearhouse-Store-Id"), id)
	}
	if len(before) == 0 {
		t.Fatal("nothing acknowledged before the backup")
	}
	ts.stop()

	restored := filepath.Join(t.TempDir(), "restored")
	if err := pebblestore.Restore(dir, restored, pebblestore.Options{Logger: zerolog.Nop()}); err != nil {
		t.Fatal(err)
	}
	if err := pebblestore.Restore(dir, restored, pebblestore.Options{Logger: zerolog.Nop()}); err == nil {
		t.Errorf("restore over a data directory that is not empty")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Start(app.Options{Store: pebblestore.Options{Dir: restored}, Auth: auth.Options{AdminKey: adminKey},
		Ingest: ingest.Options{AutoCreateUsers: true, BallastSize: -1}, Logger: zerolog.Nop(), Announce: io.Discard}, ln)
	if err != nil {
		t.Fatal(err)
	}
	rs := &testServer{t: t, app: a, base: "http://" + ln.Addr().String(), c: ts.c, dir: restored}
	t.Cleanup(rs.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if a.Store.ID() != m.StoreID {
		t.Errorf("the restored store is %s, the backup's %s", a.Store.ID(), m.StoreID)
	}
	if err := a.Compactor.WaitIndexed(ctx, a.Ingest.Watermark()); err != nil {
		t.Fatal(err)
	}
	got := map[int]bool{}
	q := url.Values{"start_time": {"2026-05-01"}, "end_time": {"2026-05-03"}, "limit": {"100000"}, "types": {"heart_rate"}}
	for _, d := range rs.get("/api/v1/users/backup-user/timeseries", q)["data"].([]any) {
		ts, _ := time.Parse(time.RFC3339, d.(map[string]any)["timestamp"].(string))
		got[int(ts.Sub(base)/time.Second)] = true
	}
	missing := 0
	for k := range before {
		if !got[k] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d records acknowledged before the backup are not in the restored store", missing, len(before))
	}
	t.Logf("%d records acknowledged before the backup, %d in the restored store", len(before), len(got))
}

// downloadBackup downloads the server's backup archive into dir.
func downloadBackup(t *testing.T, ts *testServer, key, dir string) (*pebblestore.BackupManifest, http.Header) {
	t.Helper()
	res := backupRequest(t, ts, "GET", key)
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/x-tar" {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("backup: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	m, err := pebblestore.ReadArchive(res.Body, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Header.Get("X-Wearhouse-Backup-Bytes"); got != fmt.Sprint(m.Bytes()) {
		t.Errorf("X-Wearhouse-Backup-Bytes %s, the archive has %d", got, m.Bytes())
	}
	if got := res.Header.Get("X-Wearhouse-Backup-Files"); got != fmt.Sprint(len(m.Files)) {
		t.Errorf("X-Wearhouse-Backup-Files %s, the archive has %d", got, len(m.Files))
	}
	return m, res.Header
}

// backupRequest asks for the backup route with a key, the body unread.
func backupRequest(t *testing.T, ts *testServer, method, key string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, ts.base+"/api/v1/admin/backup", nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-Open-Wearables-API-Key", key)
	}
	res, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// checkpoints lists the temporary checkpoints in a data directory.
func checkpoints(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "checkpoint-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestBackupRoute: admin key only; HEAD names the store without a
// checkpoint; one backup at a time (503 with Retry-After); the checkpoint
// is removed once sent; nothing of it stays in the data directory.
func TestBackupRoute(t *testing.T) {
	ts := startServer(t, nil)
	ts.asAdmin("u", fixture(t, "malformed_payload_debug__valid.json"))
	readKey := createKey(t, ts, "read")
	for _, c := range []struct {
		key  string
		want int
	}{{"", 401}, {readKey, 403}, {"sk-" + strings.Repeat("0", 32), 401}} {
		res := backupRequest(t, ts, "GET", c.key)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.want || !strings.Contains(string(b), "detail") || res.Header.Get("X-Wearhouse-Store-Id") != "" {
			t.Errorf("key %q: %d %s (store id %q), want %d", c.key, res.StatusCode, b, res.Header.Get("X-Wearhouse-Store-Id"), c.want)
		}
	}
	head := backupRequest(t, ts, "HEAD", adminKey)
	head.Body.Close()
	if head.StatusCode != 200 || head.Header.Get("X-Wearhouse-Store-Id") != ts.app.Store.ID() {
		t.Errorf("HEAD: %d, store id %q", head.StatusCode, head.Header.Get("X-Wearhouse-Store-Id"))
	}
	if cps := checkpoints(t, ts.dir); len(cps) > 0 {
		t.Errorf("HEAD made a checkpoint: %v", cps)
	}

	// The backup must still be on the wire when the checkpoint is looked
	// for: a store larger than what the loopback's socket buffers hold
	// (a few MiB), whose archive the client below does not read yet.
	g, err := bench.NewGenerator(bench.PayloadConfig{Items: 2000, Provider: bench.ProviderApple})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range g.Pool(48) {
		if r := ts.asAdmin("u", b.Data); r.status != 202 {
			t.Fatalf("sync: %d %s", r.status, r.body)
		}
	}
	first := backupRequest(t, ts, "GET", adminKey)
	if first.StatusCode != 200 {
		t.Fatalf("first backup: %d", first.StatusCode)
	}
	if cps := checkpoints(t, ts.dir); len(cps) != 1 {
		t.Errorf("checkpoints while a backup is sent: %v", cps)
	}
	m, err := pebblestore.ReadArchive(first.Body, filepath.Join(t.TempDir(), "backup"))
	first.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !slicesContains(m.Files, pebblestore.StoreIDFile) {
		t.Errorf("the backup lacks the store id: %+v", m.Files)
	}
	waitNoCheckpoints(t, ts.dir)
	// A small store's archive fits in the sockets' buffers, so a backup
	// sent over HTTP may be over on the server's side before a second is
	// asked for: the second is asked for while a backup started in-process
	// holds the place.
	var held *ingest.Backup
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if held, err = ts.app.Ingest.StartBackup(nil); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatal(err) // the first backup's place was never given back
		}
	}
	second := backupRequest(t, ts, "GET", adminKey)
	b, _ := io.ReadAll(second.Body)
	second.Body.Close()
	held.Close()
	if second.StatusCode != 503 || second.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "already running") {
		t.Errorf("second backup: %d %s (Retry-After %q)", second.StatusCode, b, second.Header.Get("Retry-After"))
	}
	// The place is free again.
	downloadBackup(t, ts, adminKey, filepath.Join(t.TempDir(), "again"))
}

func slicesContains(files []pebblestore.BackupFile, name string) bool {
	for _, f := range files {
		if f.Name == name {
			return true
		}
	}
	return false
}

func createKey(t *testing.T, ts *testServer, scope string) string {
	t.Helper()
	r := ts.do("POST", "/api/v1/developer/api-keys", []byte(`{"name":"k","scope":"`+scope+`"}`), "X-Open-Wearables-API-Key", adminKey)
	if r.status != 201 {
		t.Fatalf("create key: %d %s", r.status, r.body)
	}
	return r.json(t)["key"].(string)
}

func waitNoCheckpoints(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for len(checkpoints(t, dir)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the temporary checkpoint is still there: %v", checkpoints(t, dir))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBackupRemovedWhenClientHangsUp: a client that goes away in the
// middle of the archive leaves no checkpoint behind, and the next backup
// is let in.
func TestBackupRemovedWhenClientHangsUp(t *testing.T) {
	logs := &lockedBuffer{}
	ts := startServer(t, func(o *app.Options) { o.Logger = zerolog.New(logs) })
	// Enough data that the archive outgrows the socket buffers of
	// loopback, so that the server is still writing when the client
	// leaves: random ids do not compress.
	for i := 0; i < 6; i++ {
		var body strings.Builder
		body.WriteString(`{"provider":"google","sdkVersion":"1","syncTimestamp":"2026-05-02T00:00:00Z","data":{"records":[`)
		for j := 0; j < 40_000; j++ {
			if j > 0 {
				body.WriteByte(',')
			}
			at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*40_000+j) * time.Second).Format(time.RFC3339)
			fmt.Fprintf(&body, `{"id":"%s","type":"HEART_RATE","startDate":"%s","endDate":"%s","value":%d,"unit":"bpm"}`,
				ingest.NewUUID(), at, at, 40+j%100)
		}
		body.WriteString(`]}}`)
		if r := ts.asAdmin("big", []byte(body.String())); r.status != 202 {
			t.Fatalf("sync: %d %s", r.status, r.body)
		}
	}
	res := backupRequest(t, ts, "GET", adminKey)
	if res.StatusCode != 200 {
		t.Fatalf("backup: %d", res.StatusCode)
	}
	size := res.Header.Get("X-Wearhouse-Backup-Bytes")
	if _, err := io.ReadFull(res.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	if len(checkpoints(t, ts.dir)) != 1 {
		t.Fatalf("no checkpoint while the backup is sent: %v", checkpoints(t, ts.dir))
	}
	res.Body.Close() // hangs up: the connection is not reused
	waitNoCheckpoints(t, ts.dir)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(string(logs.Bytes()), "backup stream ended early") {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not see the client leave (a %s-byte archive sent whole?)", size)
		}
		time.Sleep(10 * time.Millisecond)
	}
	downloadBackup(t, ts, adminKey, filepath.Join(t.TempDir(), "after"))
}

// TestBackupNeedsRoomAboveTheReserve: without room for a checkpoint's
// copied files above the disk reserve, a backup is 507 and no checkpoint
// is made.
func TestBackupNeedsRoomAboveTheReserve(t *testing.T) {
	ts := startServer(t, func(o *app.Options) { o.Ingest.DiskReserve = 1 << 62 })
	res := backupRequest(t, ts, "GET", adminKey)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 507 || !strings.Contains(string(b), "No room for a checkpoint") {
		t.Errorf("backup on a full disk: %d %s", res.StatusCode, b)
	}
	if cps := checkpoints(t, ts.dir); len(cps) > 0 {
		t.Errorf("a checkpoint was made: %v", cps)
	}
}
