package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/app"
	"wearhouse/auth"
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
	r := ts.admin("POST", "/api/v1/admin/backup", fmt.Sprintf(`{"dir":%q}`, dir))
	stop.Store(true)
	wg.Wait()
	if r.status != 200 || r.json(t)["bytes"].(float64) <= 0 {
		t.Fatalf("backup: %d %s", r.status, r.body)
	}
	if r := ts.admin("POST", "/api/v1/admin/backup", fmt.Sprintf(`{"dir":%q}`, dir)); r.status != 409 {
		t.Errorf("backup over an existing directory: %d", r.status)
	}
	if r := ts.admin("POST", "/api/v1/admin/backup", `{"dir":"relative/path"}`); r.status != 400 {
		t.Errorf("relative backup directory: %d", r.status)
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
