package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wearhouse/bench"
)

// TestCrashDuringImportResumes: an Apple Health export imported by the
// real server, killed with SIGKILL in the middle of the import and started
// again, ends with exactly what an uninterrupted import of the same export
// stores: the same counts in its run and the same samples, each once.
func TestCrashDuringImportResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin := wearhouseBinary(t)
	export := filepath.Join(t.TempDir(), "export.zip")
	f, err := os.Create(export)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := bench.WriteExport(f, bench.ExportOptions{Seed: 14, XMLBytes: 24 << 20, Zip: true, Routes: true})
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 30 * time.Second}

	// The uninterrupted import.
	whole := startServerArgs(t, bin, t.TempDir(), nil)
	wantUser := createUser(t, c, whole.base, "importer")
	wantID := postImport(t, c, whole.base, wantUser, export)
	want := waitImportState(t, c, whole.base, wantUser, wantID, "completed", 0)
	wantSamples := samples(t, c, whole.base, wantUser)
	whole.stop(t)

	// The import killed in the middle, once at least a chunk is indexed.
	dir := t.TempDir()
	p := startServerArgs(t, bin, dir, nil)
	user := createUser(t, c, p.base, "importer")
	id := postImport(t, c, p.base, user, export)
	mid := waitImportState(t, c, p.base, user, id, "reading", want.XMLBytes/4)
	p.kill()
	p.waitKilled(t)
	t.Logf("killed with %d of %d bytes of XML indexed", mid.XMLRead, want.XMLBytes)
	if mid.XMLRead >= want.XMLBytes {
		t.Fatalf("the import was done before the kill (%d of %d bytes): the test did not interrupt it", mid.XMLRead, want.XMLBytes)
	}
	p = startServerArgs(t, bin, dir, nil)
	got := waitImportState(t, c, p.base, user, id, "completed", 0)
	if got.counts() != want.counts() {
		t.Errorf("after the crash: %s\nuninterrupted: %s", got.counts(), want.counts())
	}
	if got.Records == 0 || got.Workouts != gen.Workouts || got.Duplicates != 0 {
		t.Errorf("run after the crash: %s (generated %d workouts)", got.counts(), gen.Workouts)
	}
	gotSamples := samples(t, c, p.base, user)
	if !bytes.Equal(gotSamples, wantSamples) {
		t.Errorf("the samples differ from an uninterrupted import's: %d bytes of CSV against %d", len(gotSamples), len(wantSamples))
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "imports")); len(entries) != 0 {
		t.Errorf("spooled files left after the import: %v", entries)
	}
}

type importState struct {
	State      string
	XMLBytes   int64
	XMLRead    int64
	Records    int
	Sleep      int
	Workouts   int
	Routes     int64
	Duplicates int64
	Dropped    int
	Unmapped   int
}

func (s importState) counts() string {
	return fmt.Sprintf("%d records, %d sleep stages, %d workouts (%d routes) stored; %d duplicates, %d dropped, %d unmapped",
		s.Records, s.Sleep, s.Workouts, s.Routes, s.Duplicates, s.Dropped, s.Unmapped)
}

func createUser(t *testing.T, c *http.Client, base, external string) string {
	t.Helper()
	var u struct {
		ID string `json:"id"`
	}
	b := adminCall(t, c, "POST", base+"/api/v1/users", strings.NewReader(`{"external_user_id":"`+external+`"}`), http.StatusCreated)
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func postImport(t *testing.T, c *http.Client, base, user, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var acc struct {
		ImportID string `json:"import_id"`
	}
	b := adminCall(t, c, "POST", base+"/api/v1/users/"+user+"/import/apple-health", f, http.StatusAccepted)
	if err := json.Unmarshal(b, &acc); err != nil {
		t.Fatal(err)
	}
	return acc.ImportID
}

// waitImportState polls an import until it is in state (with at least
// minRead bytes of XML read, for "reading").
func waitImportState(t *testing.T, c *http.Client, base, user, id, state string, minRead int64) importState {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); ; {
		var v bench.ImportStatus
		b := adminCall(t, c, "GET", base+"/api/v1/users/"+user+"/import/apple-health/"+id, nil, http.StatusOK)
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		s := importState{State: v.State}
		if r := v.Run; r != nil {
			m := r.Metadata
			s.Records, s.Sleep, s.Workouts, s.Dropped, s.Unmapped = m.RecordsSaved, m.SleepSaved, m.WorkoutsSaved, m.Dropped, m.Unmapped
			if im := m.Import; im != nil {
				s.XMLBytes, s.XMLRead, s.Routes, s.Duplicates = im.BytesTotal, im.BytesRead, im.Routes, im.Duplicates
			}
		}
		if s.State == "failed" {
			t.Fatalf("the import failed: %s", b)
		}
		if s.State == state && s.XMLRead >= minRead || state == "reading" && s.State != "queued" && s.XMLRead >= minRead {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import is %s after 3 minutes, not %s: %s", s.State, state, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// samples is every stored sample of the user, as CSV.
func samples(t *testing.T, c *http.Client, base, user string) []byte {
	t.Helper()
	return adminCall(t, c, "GET", base+"/api/v1/users/"+user+"/timeseries.csv?start_time=2000-01-01&end_time=2100-01-01", nil, http.StatusOK)
}

func adminCall(t *testing.T, c *http.Client, method, url string, body io.Reader, want int) []byte {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Open-Wearables-API-Key", crashAdminKey)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, res.StatusCode, want, b)
	}
	return b
}
