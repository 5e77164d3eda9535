package pebblestore

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/cockroachdb/pebble/v2/vfs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Known plaintext of the encrypted store tests: none of it may be found in
// any file of the data directory.
var knownPlaintext = []string{"patient-ada-lovelace-1815", "Garmin Forerunner 965 of Ada", "felt dizzy after the hill repeats"}

func encBody(seq uint64) []byte {
	pad := 50
	if seq%25 == 0 {
		pad = 20 << 10 // large enough for a blob file
	}
	return []byte(fmt.Sprintf(`{"n":%d,"device":"%s","notes":"%s","pad":"%s"}`, seq, knownPlaintext[1], knownPlaintext[2], strings.Repeat("z", pad)))
}

func writeEncBatches(t testing.TB, s *Store, from, to uint64) {
	t.Helper()
	for seq := from; seq < to; seq++ {
		b := s.NewBatch()
		var id [16]byte
		id[0], id[15] = byte(seq>>8), byte(seq)
		if err := b.PutQueue(&QueueEntry{Seq: seq, Received: time.Unix(1_700_000_000, 0), BatchID: id,
			UserIID: 7, UserID: knownPlaintext[0], Provider: "garmin", Body: encBody(seq)}); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

func checkEncBatches(t testing.TB, s *Store, n uint64) {
	t.Helper()
	var got uint64
	if err := s.ScanQueue(0, func(e *QueueEntry) (bool, error) {
		got++
		if e.Seq != got || e.UserID != knownPlaintext[0] || !bytes.Equal(e.Body, encBody(e.Seq)) {
			return false, fmt.Errorf("entry %d differs", e.Seq)
		}
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("read back %d batches, want %d", got, n)
	}
}

// makeEncryptedStore writes n batches, most in tables and blob files, the
// last ones only in the WAL, and closes the store.
func makeEncryptedStore(t testing.TB, dir string, key []byte, n uint64) {
	t.Helper()
	s, err := Open(Options{Dir: dir, Logger: faultLogger(), EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	writeEncBatches(t, s, 1, n-100)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	writeEncBatches(t, s, n-100, n+1)
	checkEncBatches(t, s, n)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// scanForPlaintext fails the test for any known plaintext in any file under
// dir, and returns the kinds of file it scanned.
func scanForPlaintext(t testing.TB, dir string) map[string]int {
	t.Helper()
	kinds := map[string]int{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, p := range knownPlaintext {
			if bytes.Contains(b, []byte(p)) {
				t.Errorf("%s holds the plaintext %q", path, p)
			}
		}
		name := d.Name()
		switch {
		case strings.HasPrefix(name, "MANIFEST-"):
			kinds["MANIFEST"]++
		case strings.HasPrefix(name, "OPTIONS-"):
			kinds["OPTIONS"]++
		default:
			kinds[filepath.Ext(name)]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return kinds
}

func TestEncryptedStoreRoundTrip(t *testing.T) {
	dir := t.TempDir()
	key := testKey(t)
	makeEncryptedStore(t, dir, key, 600)
	kinds := scanForPlaintext(t, dir)
	for _, k := range []string{".sst", ".blob", ".log", "MANIFEST", "OPTIONS"} {
		if kinds[k] == 0 {
			t.Errorf("no %s file was scanned (files: %v)", k, kinds)
		}
	}
	s, err := Open(Options{Dir: dir, Logger: faultLogger(), EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	checkEncBatches(t, s, 600)
	// A checkpoint, the backup's source, is ciphertext too, marker included.
	c, err := s.NewCheckpoint()
	if err != nil {
		t.Fatal(err)
	}
	scanForPlaintext(t, c.dir)
	if _, err := os.Stat(filepath.Join(c.dir, EncryptionMarkerFile)); err != nil {
		t.Errorf("checkpoint without the marker: %v", err)
	}
	s2, err := Open(Options{Dir: c.dir, Logger: faultLogger(), EncryptionKey: key})
	if err != nil {
		t.Fatalf("open the checkpoint: %v", err)
	}
	checkEncBatches(t, s2, 600)
	s2.Close()
	_ = c.Remove()
	s.Close()
	// Control: the same writes without a key leave the plaintext on disk.
	plain := t.TempDir()
	p, err := Open(Options{Dir: plain, Logger: faultLogger()})
	if err != nil {
		t.Fatal(err)
	}
	writeEncBatches(t, p, 1, 10)
	p.Close()
	found := false
	_ = filepath.WalkDir(plain, func(path string, d os.DirEntry, err error) error {
		if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(knownPlaintext[0])) {
			found = true
		}
		return nil
	})
	if !found {
		t.Fatal("the plaintext scan finds nothing even in a plaintext store")
	}
}

// TestEncryptedStoreKeyErrors: without the key, with a wrong one, and with
// a key on a plaintext store, Open fails with a clear error and changes no
// file.
func TestEncryptedStoreKeyErrors(t *testing.T) {
	dir := t.TempDir()
	key := testKey(t)
	makeEncryptedStore(t, dir, key, 200)
	before := faultListing(t, dir)
	if _, err := Open(Options{Dir: dir, Logger: faultLogger()}); !errors.Is(err, ErrEncryptedStore) || !strings.Contains(err.Error(), "encryption-key-file") {
		t.Fatalf("open without the key: %v", err)
	}
	if _, err := Open(Options{Dir: dir, Logger: faultLogger(), MustExist: true}); !errors.Is(err, ErrEncryptedStore) {
		t.Fatalf("open without the key, MustExist: %v", err)
	}
	if _, err := Open(Options{Dir: dir, Logger: faultLogger(), EncryptionKey: testKey(t)}); !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "not the one") {
		t.Fatalf("open with a wrong key: %v", err)
	}
	if ch := faultListingChanges(before, faultListing(t, dir), nil); len(ch) > 0 {
		t.Fatalf("failed opens changed files: %v", ch)
	}
	// Without the marker, the MANIFEST's header still tells.
	if err := os.Rename(filepath.Join(dir, EncryptionMarkerFile), filepath.Join(t.TempDir(), "m")); err != nil {
		t.Fatal(err)
	}
	before = faultListing(t, dir)
	if _, err := Open(Options{Dir: dir, Logger: faultLogger()}); !errors.Is(err, ErrEncryptedStore) {
		t.Fatalf("open without the key or the marker: %v", err)
	}
	if _, err := Open(Options{Dir: dir, Logger: faultLogger(), EncryptionKey: testKey(t)}); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("open with a wrong key, no marker: %v", err)
	}
	if ch := faultListingChanges(before, faultListing(t, dir), nil); len(ch) > 0 {
		t.Fatalf("failed opens changed files: %v", ch)
	}
	// A plaintext store does not open with a key.
	plain := t.TempDir()
	p, err := Open(Options{Dir: plain, Logger: faultLogger()})
	if err != nil {
		t.Fatal(err)
	}
	writeEncBatches(t, p, 1, 10)
	p.Close()
	before = faultListing(t, plain)
	if _, err := Open(Options{Dir: plain, Logger: faultLogger(), EncryptionKey: key}); err == nil || !strings.Contains(err.Error(), "is not encrypted") {
		t.Fatalf("open a plaintext store with a key: %v", err)
	}
	if ch := faultListingChanges(before, faultListing(t, plain), nil); len(ch) > 0 {
		t.Fatalf("the refused open changed files: %v", ch)
	}
}

// TestEncryptedStoreRotation: a new key with the old one given opens the
// store, writes new files under the new key, and after a full compaction
// the tables are all under the new key.
func TestEncryptedStoreRotation(t *testing.T) {
	dir := t.TempDir()
	k1, k2 := testKey(t), testKey(t)
	makeEncryptedStore(t, dir, k1, 300)
	if _, err := Open(Options{Dir: dir, Logger: faultLogger(), EncryptionKey: k2}); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("new key without the old one: %v", err)
	}
	s, err := Open(Options{Dir: dir, Logger: faultLogger(), EncryptionKey: k2, OldEncryptionKeys: [][]byte{k1}})
	if err != nil {
		t.Fatal(err)
	}
	checkEncBatches(t, s, 300)
	writeEncBatches(t, s, 301, 321)
	s.Close()
	id1, id2 := KeyID(k1), KeyID(k2)
	under := func() (old, cur int) {
		names, _ := os.ReadDir(dir)
		for _, e := range names {
			id, ok, err := headerKeyID(vfs.Default, filepath.Join(dir, e.Name()))
			switch {
			case err != nil || !ok:
			case id == id1:
				old++
			case id == id2:
				cur++
			}
		}
		return old, cur
	}
	if old, cur := under(); old == 0 || cur == 0 {
		t.Fatalf("after a start with the new key: %d files under the old key, %d under the new one", old, cur)
	}
	n, err := RotateEncryptionKey(nil, dir, k2, [][]byte{k1})
	if err != nil {
		t.Fatal(err)
	}
	if old, cur := under(); old != 0 || cur == 0 || n == 0 {
		t.Fatalf("after RotateEncryptionKey (%d files rewritten): %d files under the old key, %d under the new one", n, old, cur)
	}
	// The old key is no longer needed.
	s, err = Open(Options{Dir: dir, Logger: faultLogger(), EncryptionKey: k2})
	if err != nil {
		t.Fatal(err)
	}
	checkEncBatches(t, s, 320)
	s.Close()
	scanForPlaintext(t, dir)
}

// flipInFile flips one byte in the data area of a middle block of the
// largest file of dir whose name ends with suffix.
func flipInFile(t testing.TB, dir, suffix string) string {
	t.Helper()
	var best string
	var size int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		// The largest table; the newest WAL (older ones may be kept for
		// recycling, read by nothing).
		if fi, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), suffix) && (fi.Size() > size || suffix == ".log") {
			best, size = e.Name(), fi.Size()
		}
	}
	if best == "" || size <= cryptHeader+cryptPhys {
		t.Fatalf("no %s file large enough in %s", suffix, dir)
	}
	path := filepath.Join(dir, best)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks := (len(b) - cryptHeader) / cryptPhys
	pos := cryptHeader + blocks/2*cryptPhys + cryptDataOff + 123
	b[pos] ^= 0x10
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return best
}

// TestEncryptedStoreFlippedByte: a byte flipped in a table or in the WAL
// makes the open or the read fail; no wrong data is returned.
func TestEncryptedStoreFlippedByte(t *testing.T) {
	key := testKey(t)
	for _, suffix := range []string{".sst", ".log"} {
		t.Run(suffix, func(t *testing.T) {
			dir := t.TempDir()
			makeEncryptedStore(t, dir, key, 600)
			name := flipInFile(t, dir, suffix)
			fatal := newFaultFatal()
			done := make(chan error, 1)
			go func() {
				s, err := Open(Options{Dir: dir, Logger: faultLogger(), EncryptionKey: key, OnFatal: fatal.hook})
				if err != nil {
					done <- err
					return
				}
				defer s.Close()
				var got uint64
				err = s.ScanQueue(0, func(e *QueueEntry) (bool, error) {
					got++
					if !bytes.Equal(e.Body, encBody(e.Seq)) {
						return false, fmt.Errorf("WRONG DATA in entry %d", e.Seq)
					}
					return true, nil
				})
				if err == nil && got == 600 {
					err = s.Each(func(k, v []byte) error { return nil })
				}
				if err == nil {
					err = fmt.Errorf("no error: %d of 600 entries read", got)
				}
				done <- err
			}()
			select {
			case err := <-done:
				if strings.Contains(err.Error(), "WRONG DATA") || strings.HasPrefix(err.Error(), "no error") {
					t.Fatalf("flip in %s: %v", name, err)
				}
				t.Logf("flip in %s: %v", name, err)
			case msg := <-fatal.ch:
				t.Logf("flip in %s: fatal: %s", name, msg)
			case <-time.After(30 * time.Second):
				t.Fatal("timed out")
			}
		})
	}
}

// TestEncryptedStoreBackup: a backup of an encrypted store (its archive
// and the directory it is written into) holds no plaintext, and restores
// into a store that opens with the key only.
func TestEncryptedStoreBackup(t *testing.T) {
	dir := t.TempDir()
	key := testKey(t)
	makeEncryptedStore(t, dir, key, 300)
	s, err := Open(Options{Dir: dir, Logger: faultLogger(), EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.NewCheckpoint()
	if err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	if err := c.WriteArchive(&archive); err != nil {
		t.Fatal(err)
	}
	_ = c.Remove()
	s.Close()
	for _, p := range knownPlaintext {
		if bytes.Contains(archive.Bytes(), []byte(p)) {
			t.Errorf("the backup archive holds the plaintext %q", p)
		}
	}
	backup := filepath.Join(t.TempDir(), "bk")
	if _, err := ReadArchive(bytes.NewReader(archive.Bytes()), backup); err != nil {
		t.Fatal(err)
	}
	scanForPlaintext(t, backup)
	restored := filepath.Join(t.TempDir(), "data")
	// Without the key, or with another, the restore is refused before it
	// copies anything.
	for _, k := range [][]byte{nil, testKey(t)} {
		if err := Restore(backup, restored, Options{Logger: faultLogger(), EncryptionKey: k}); err == nil {
			t.Fatal("a restore without the right key succeeded")
		} else if _, serr := os.Stat(restored); !errors.Is(serr, os.ErrNotExist) {
			t.Fatalf("the refused restore (%v) made the data directory", err)
		}
	}
	if err := Restore(backup, restored, Options{Logger: faultLogger(), EncryptionKey: key}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Dir: restored, Logger: faultLogger()}); !errors.Is(err, ErrEncryptedStore) {
		t.Fatalf("the restored store opens without its key: %v", err)
	}
	r, err := Open(Options{Dir: restored, Logger: faultLogger(), EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	checkEncBatches(t, r, 300)
	r.Close()
}
