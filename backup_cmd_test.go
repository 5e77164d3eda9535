package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wearhouse/pebblestore"
)

// runCLI runs the binary with args and the test's environment (no
// WEARHOUSE_ variable but the admin key); it returns the exit code and the
// output.
func runCLI(t *testing.T, bin string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = serverEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	}
	if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return 0, out.String()
}

// syncSamples sends n heart rate samples for a user, one a second from
// from seconds into May 2026, and requires a 202. With random ids, which
// do not compress, the store grows by about the size of the body.
func syncSamples(t *testing.T, base, user string, from, n int, randomIDs bool) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"provider":"google","sdkVersion":"1","syncTimestamp":"2026-05-02T00:00:00Z","data":{"records":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(from+i) * time.Second).Format(time.RFC3339)
		id := fmt.Sprintf("r-%d", from+i)
		if randomIDs {
			var r [16]byte
			_, _ = rand.Read(r[:])
			id = fmt.Sprintf("%x", r)
		}
		fmt.Fprintf(&b, `{"id":"%s","type":"HEART_RATE","startDate":"%s","endDate":"%s","value":%d,"unit":"bpm"}`, id, at, at, 50+i%50)
	}
	b.WriteString(`]}}`)
	if res := adminDo(t, "POST", base+"/api/v1/sdk/users/"+user+"/sync", []byte(b.String())); res.StatusCode != 202 {
		t.Fatalf("sync: %d", res.StatusCode)
	}
}

// adminDo sends a request with the admin key. The answer's body is read
// and closed, but for a GET of the backup route, whose stream the caller
// reads.
func adminDo(t *testing.T, method, url string, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Open-Wearables-API-Key", crashAdminKey)
	res, err := (&http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if method != "GET" || !strings.HasSuffix(url, "/admin/backup") {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(b))
	}
	return res
}

// requirePrivate checks that a backup's directory is 0700 and its files
// 0600.
func requirePrivate(t *testing.T, dir string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 4 {
		t.Errorf("the backup holds %d entries", n)
	}
}

func requireAbsent(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was created", p)
		}
	}
}

// TestBackupCommand runs `wearhouse backup` against a real server: the CLI
// writes the backup where it runs (the server used to write it on its own
// disk, into its private /tmp under the shipped unit), private, naming the
// store; a second backup at the same time is refused; a --data-dir of
// another store is refused; the backup restores into a new data directory
// with the same store id, and a server on it serves the data.
func TestBackupCommand(t *testing.T) {
	bin := wearhouseBinary(t)
	data := t.TempDir()
	p := startServerArgs(t, bin, data, nil)
	syncSamples(t, p.base, "backup-user", 0, 500, false)
	id, err := pebblestore.ReadStoreID(data)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()

	bk := filepath.Join(work, "bk")
	code, out := runCLI(t, bin, "backup", bk, "--target", p.base, "--data-dir", data)
	if code != 0 {
		t.Fatalf("backup: exit %d: %s", code, out)
	}
	if !strings.Contains(out, "store "+id) || !strings.Contains(out, " files, ") || !strings.Contains(out, " bytes") {
		t.Errorf("the output does not name the store %s, the files and the size: %s", id, out)
	}
	requirePrivate(t, bk)
	requireAbsent(t, bk+".partial")
	if got, err := pebblestore.ReadStoreID(bk); err != nil || got != id {
		t.Errorf("the backup's store id: %q, %v", got, err)
	}
	if code, out := runCLI(t, bin, "backup", bk, "--target", p.base); code == 0 || !strings.Contains(out, "not empty") {
		t.Errorf("a backup over a backup: exit %d: %s", code, out)
	}

	// A second backup while one is sent, and stays unread: enough data
	// that its archive outgrows the socket buffers of loopback, so that
	// the server is still sending it.
	for i := 0; i < 6; i++ {
		syncSamples(t, p.base, "bulk", i*40_000, 40_000, true)
	}
	held := adminDo(t, "GET", p.base+"/api/v1/admin/backup", nil)
	if held.StatusCode != 200 {
		t.Fatalf("held backup: %d", held.StatusCode)
	}
	bk2 := filepath.Join(work, "bk2")
	code, out = runCLI(t, bin, "backup", bk2, "--target", p.base)
	if code != 1 || !strings.Contains(out, "503") || !strings.Contains(out, "already running") {
		t.Errorf("a second backup at once: exit %d: %s", code, out)
	}
	requireAbsent(t, bk2, bk2+".partial")
	held.Body.Close()

	// A data directory of another store than the server's.
	other := t.TempDir()
	p2 := startServerArgs(t, bin, other, nil)
	bk3 := filepath.Join(work, "bk3")
	code, out = runCLI(t, bin, "backup", bk3, "--target", p2.base, "--data-dir", data, "--api-key", crashAdminKey)
	if code != 1 || !strings.Contains(out, "serves the store") || !strings.Contains(out, id) {
		t.Errorf("a --data-dir of another store: exit %d: %s", code, out)
	}
	requireAbsent(t, bk3, bk3+".partial")

	// Restore, and serve the restored store.
	restored := filepath.Join(work, "restored")
	code, out = runCLI(t, bin, "restore", bk, "--data-dir", restored)
	if code != 0 || !strings.Contains(out, id) {
		t.Fatalf("restore: exit %d: %s", code, out)
	}
	if code, out := runCLI(t, bin, "restore", bk, "--data-dir", restored); code == 0 {
		t.Errorf("a restore over a store: %s", out)
	}
	if got, err := pebblestore.ReadStoreID(restored); err != nil || got != id {
		t.Errorf("the restored store id: %q, %v; want %s", got, err, id)
	}
	p.stop(t)
	p3 := startServerArgs(t, bin, restored, nil)
	head := adminDo(t, "HEAD", p3.base+"/api/v1/admin/backup", nil)
	if got := head.Header.Get("X-Wearhouse-Store-Id"); got != id {
		t.Errorf("the restored server serves the store %q, want %s", got, id)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		res := adminDo(t, "GET", p3.base+"/api/v1/users/backup-user/timeseries?start_time=2026-05-01&end_time=2026-05-02&limit=1000&types=heart_rate", nil)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == 200 && bytes.Count(b, []byte(`"timestamp"`)) == 500 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restored server does not serve the 500 samples: %d %.300s", res.StatusCode, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBackupCommandOffline: with no server answering, `wearhouse backup`
// copies the stopped server's data directory, with the same output, modes
// and store id; a data directory that does not exist is an error, and
// nothing is created (the store used to be created there, empty, and
// backed up).
func TestBackupCommandOffline(t *testing.T) {
	bin := wearhouseBinary(t)
	data := t.TempDir()
	p := startServerArgs(t, bin, data, nil)
	syncSamples(t, p.base, "offline-user", 0, 100, false)
	p.stop(t)
	id, err := pebblestore.ReadStoreID(data)
	if err != nil {
		t.Fatal(err)
	}
	port, err := freeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	nobody := fmt.Sprintf("http://127.0.0.1:%d", port)
	work := t.TempDir()

	bk := filepath.Join(work, "bk")
	code, out := runCLI(t, bin, "backup", bk, "--target", nobody, "--data-dir", data)
	if code != 0 || !strings.Contains(out, "no server answered") || !strings.Contains(out, "store "+id) {
		t.Fatalf("offline backup: exit %d: %s", code, out)
	}
	requirePrivate(t, bk)
	restored := filepath.Join(work, "restored")
	if code, out := runCLI(t, bin, "restore", bk, "--data-dir", restored); code != 0 {
		t.Fatalf("restore of the offline backup: exit %d: %s", code, out)
	}
	if got, _ := pebblestore.ReadStoreID(restored); got != id {
		t.Errorf("the restored store id %q, want %s", got, id)
	}
	if cps, _ := filepath.Glob(filepath.Join(data, "checkpoint-*")); len(cps) > 0 {
		t.Errorf("the offline backup left its checkpoint: %v", cps)
	}

	missing := filepath.Join(work, "no-such-data")
	bk2 := filepath.Join(work, "bk2")
	code, out = runCLI(t, bin, "backup", bk2, "--target", nobody, "--data-dir", missing)
	if code != 1 || !strings.Contains(out, "does not exist") {
		t.Errorf("offline backup of a missing data directory: exit %d: %s", code, out)
	}
	requireAbsent(t, missing, bk2, bk2+".partial")
}
