package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"wearhouse/app"
)

// importServer is a server whose compactor runs, with a user.
func importServer(t *testing.T, tune func(*app.Options)) (*testServer, string) {
	t.Helper()
	ts := startServer(t, func(o *app.Options) {
		o.Compactor.Paused = false
		if tune != nil {
			tune(o)
		}
	})
	r := ts.do("POST", "/api/v1/users", []byte(`{"external_user_id":"alice"}`), "X-Open-Wearables-API-Key", adminKey)
	if r.status != http.StatusCreated {
		t.Fatalf("create user: %d %s", r.status, r.body)
	}
	id, _ := r.json(t)["id"].(string)
	return ts, id
}

func exportFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "apple-health", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type importAnswer struct {
	State string `json:"state"`
	Error string `json:"error"`
	Run   struct {
		Source   string  `json:"source"`
		Status   string  `json:"status"`
		Error    *string `json:"error"`
		Metadata struct {
			RecordsSaved  int `json:"records_saved"`
			WorkoutsSaved int `json:"workouts_saved"`
			SleepSaved    int `json:"sleep_saved"`
			Dropped       int `json:"dropped_count"`
			Import        struct {
				Records    int64            `json:"records_read"`
				Routes     int64            `json:"routes_read"`
				Summaries  int64            `json:"activity_summaries_read"`
				BytesRead  int64            `json:"bytes_read"`
				BytesTotal int64            `json:"bytes_total"`
				Duplicates int64            `json:"duplicates_skipped"`
				Dropped    map[string]int64 `json:"dropped_by_reason"`
			} `json:"import"`
		} `json:"metadata"`
	} `json:"run"`
}

// postImport sends an upload and waits for the import to end.
func postImport(t *testing.T, ts *testServer, user string, body []byte, headers ...string) importAnswer {
	t.Helper()
	r := ts.do("POST", "/api/v1/users/"+user+"/import/apple-health", body, append([]string{"X-Open-Wearables-API-Key", adminKey}, headers...)...)
	if r.status != http.StatusAccepted {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	return waitImport(t, ts, user, r)
}

func waitImport(t *testing.T, ts *testServer, user string, accepted resp) importAnswer {
	t.Helper()
	id, _ := accepted.json(t)["import_id"].(string)
	for deadline := time.Now().Add(20 * time.Second); ; {
		r := ts.do("GET", "/api/v1/users/"+user+"/import/apple-health/"+id, nil, "X-Open-Wearables-API-Key", adminKey)
		var a importAnswer
		if err := json.Unmarshal(r.body, &a); err != nil || r.status != http.StatusOK {
			t.Fatalf("import status: %d %s", r.status, r.body)
		}
		if a.State == "completed" || a.State == "failed" {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("import still %s: %s", a.State, r.body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestImportSmallExport: the hand-checked export.zip, imported over HTTP,
// reads back as its README says: units converted, the sleep night, the
// workouts, the run's route from its GPX file.
func TestImportSmallExport(t *testing.T) {
	ts, user := importServer(t, nil)
	a := postImport(t, ts, user, exportFile(t, "small-export.zip"))
	m := a.Run.Metadata
	if a.State != "completed" || a.Run.Source != "import" || m.SleepSaved != 9 || m.WorkoutsSaved != 2 ||
		m.Import.Routes != 1 || m.Import.Summaries != 2 || m.Import.Records != 19 || m.Dropped != 0 {
		t.Fatalf("import: %+v", a)
	}
	if m.Import.BytesRead != m.Import.BytesTotal || m.Import.BytesTotal != int64(len(exportFile(t, "small-export.xml"))) {
		t.Errorf("bytes read %d of %d", m.Import.BytesRead, m.Import.BytesTotal)
	}
	u := "/api/v1/users/" + user
	key := []string{"X-Open-Wearables-API-Key", adminKey}
	// 163.4 lb and 162.8 lb, stored in kg.
	r := ts.do("GET", u+"/timeseries?start_time=2023-03-25&end_time=2023-03-27&types=weight", nil, key...)
	var page struct {
		Data []struct {
			Value float64 `json:"value"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.Data) != 2 || page.Data[0].Value < 74.11 || page.Data[0].Value > 74.12 {
		t.Errorf("weight: %s", r.body)
	}
	r = ts.do("GET", u+"/events/workouts?start_date=2023-03-26&end_date=2023-03-27", nil, key...)
	var workouts struct {
		Data []struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.body, &workouts); err != nil || len(workouts.Data) != 2 {
		t.Fatalf("workouts: %s", r.body)
	}
	var run string
	for _, w := range workouts.Data {
		if w.Type == "running" {
			run = w.ID
		}
	}
	gpx := ts.send("GET", u+"/events/workouts/"+run+"/route.gpx", nil, key...)
	if gpx.status != http.StatusOK || bytes.Count(gpx.body, []byte("<trkpt")) != 10 {
		t.Errorf("route of the run %q: %d, %d points", run, gpx.status, bytes.Count(gpx.body, []byte("<trkpt")))
	}
	// The night's nine stages make one session, by the rules of SDK sleep,
	// ending with the Watch's last stage (07:05 +0200).
	r = ts.do("GET", u+"/events/sleep?start_date=2023-03-25&end_date=2023-03-27", nil, key...)
	var nights struct {
		Data []struct {
			End  string `json:"end_time"`
			Zone string `json:"zone_offset"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.body, &nights); err != nil || len(nights.Data) != 1 ||
		nights.Data[0].End != "2023-03-26T05:05:00Z" || nights.Data[0].Zone != "+01:00" {
		t.Errorf("sleep: %s", r.body)
	}

	// The same export again, as a gzip'd export.xml through Open
	// Wearables' multipart route: everything is a duplicate.
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(exportFile(t, "small-export.xml"))
	zw.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "export.xml")
	fw.Write(exportFile(t, "small-export.xml"))
	mw.Close()
	acc := ts.do("POST", u+"/import/apple/xml/direct", body.Bytes(), append(key, "Content-Type", mw.FormDataContentType())...)
	if acc.status != http.StatusAccepted || acc.json(t)["status"] != "processing" || acc.json(t)["task_id"] == "" {
		t.Fatalf("direct upload: %d %s", acc.status, acc.body)
	}
	again := waitImport(t, ts, user, acc)
	am := again.Run.Metadata
	if again.State != "completed" || am.RecordsSaved != 0 || am.SleepSaved != 0 || am.WorkoutsSaved != 0 ||
		am.Import.Duplicates != int64(m.RecordsSaved+m.SleepSaved+m.WorkoutsSaved) {
		t.Errorf("second import: %+v (first saved %d records)", again, m.RecordsSaved)
	}
	gz := postImport(t, ts, user, z.Bytes(), "Content-Encoding", "gzip")
	if gz.State != "completed" || gz.Run.Metadata.RecordsSaved != 0 || gz.Run.Metadata.Import.Duplicates == 0 {
		t.Errorf("gzip'd import: %+v", gz)
	}
	runs := ts.do("GET", u+"/sync/runs?source=import", nil, key...)
	if n := bytes.Count(runs.body, []byte(`"source":"import"`)); n != 3 {
		t.Errorf("%d import runs listed: %s", n, runs.body)
	}
}

// TestImportHostile: each hostile file is refused, or its import fails with
// a clear error, and nothing of it stays on disk.
func TestImportHostile(t *testing.T) {
	ts, user := importServer(t, func(o *app.Options) { o.HTTP.MaxImport = 1 << 20; o.Ingest.MaxImportBytes = 1 << 20 })
	key := []string{"X-Open-Wearables-API-Key", adminKey}
	path := "/api/v1/users/" + user + "/import/apple-health"
	for _, c := range []struct {
		name   string
		body   []byte
		status int
		detail string
	}{
		{"not an export", []byte(`{"records":[]}`), 400, "not an Apple Health export"},
		{"empty", nil, 400, "empty"},
		{"over --max-import", bytes.Repeat([]byte("<"), 2<<20), 413, "limit"},
		{"unknown user", exportFile(t, "small-export.xml"), 404, "not found"},
	} {
		p := path
		if c.name == "unknown user" {
			p = "/api/v1/users/nobody/import/apple-health"
		}
		r := ts.do("POST", p, c.body, key...)
		if r.status != c.status || !strings.Contains(r.detail(t), c.detail) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, r.status, r.body, c.status, c.detail)
		}
	}
	for _, c := range []struct{ file, error string }{
		{"hostile/billion-laughs.xml", "entity"},
		{"hostile/truncated.xml", "truncated"},
	} {
		a := postImport(t, ts, user, exportFile(t, c.file))
		if a.State != "failed" || a.Run.Error == nil || !strings.Contains(*a.Run.Error, c.error) {
			t.Errorf("%s: %+v, want a failure naming %q", c.file, a, c.error)
		}
	}
	// The zip with an entry escaping it imports its export.xml, and never
	// touches the escaping entry.
	if a := postImport(t, ts, user, exportFile(t, "hostile/zip-slip.zip")); a.State != "completed" {
		t.Errorf("zip-slip.zip: %+v", a)
	}
	if _, err := os.Stat(filepath.Join(ts.dir, "..", "escape.xml")); err == nil {
		t.Error("an entry escaped the data directory")
	}
	entries, _ := os.ReadDir(filepath.Join(ts.dir, "imports"))
	if len(entries) != 0 {
		t.Errorf("spooled files left: %d", len(entries))
	}
}

// TestImportOnTheSyncStream: an import's run is on the user's sync status
// stream: queued, its progress, completed with what it stored; the upload
// may come zstd-compressed.
func TestImportOnTheSyncStream(t *testing.T) {
	ts, user := importServer(t, func(o *app.Options) { o.Ingest.ImportChunkItems, o.Compactor.MaxBatches = 8, 1 })
	st := ts.openStream(user, "")
	if f := st.next(); f.comment != "connected" {
		t.Fatalf("first frame %+v", f)
	}
	var z bytes.Buffer
	zw, err := zstd.NewWriter(&z)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(exportFile(t, "small-export.zip"))
	zw.Close()
	a := postImport(t, ts, user, z.Bytes(), "Content-Encoding", "zstd")
	if a.State != "completed" || a.Run.Metadata.WorkoutsSaved != 2 {
		t.Fatalf("zstd upload: %+v", a)
	}
	var stages []string
	progressed := 0
	for {
		ev := st.nextEvent()
		if ev["source"] != "import" {
			t.Fatalf("event of source %v: %v", ev["source"], ev)
		}
		stage, _ := ev["stage"].(string)
		stages = append(stages, stage)
		if stage == "started" {
			if p, ok := ev["progress"].(float64); ok && p > 0 {
				progressed++
			}
		}
		if stage == "completed" {
			md, _ := ev["metadata"].(map[string]any)
			im, _ := md["import"].(map[string]any)
			if md["workouts_saved"] != float64(2) || im["routes_read"] != float64(1) {
				t.Errorf("completed event: %v", ev)
			}
			break
		}
	}
	if stages[0] != "queued" || progressed < 2 {
		t.Errorf("stages %v, %d with progress", stages, progressed)
	}
}

// TestSyncRunsBySource: the runs listing keeps the runs of the source asked
// for.
func TestSyncRunsBySource(t *testing.T) {
	ts, user := importServer(t, nil)
	ts.asAdmin(user, fixture(t, "malformed_payload_debug__valid.json"))
	postImport(t, ts, user, exportFile(t, "small-export.xml"))
	ts.indexAll()
	key := []string{"X-Open-Wearables-API-Key", adminKey}
	for source, want := range map[string][2]int{"": {1, 1}, "sdk": {1, 0}, "import": {0, 1}, "fitbit": {0, 0}} {
		r := ts.do("GET", "/api/v1/sync/runs?source="+source, nil, key...)
		got := [2]int{bytes.Count(r.body, []byte(`"source":"sdk"`)), bytes.Count(r.body, []byte(`"source":"import"`))}
		if r.status != http.StatusOK || got != want {
			t.Errorf("source %q: %d, %v runs (sdk, import), want %v", source, r.status, got, want)
		}
	}
}
