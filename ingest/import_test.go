package ingest

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wearhouse/pebblestore"
)

// exportXML is an export.xml of heart rates from one Apple Watch, one a
// minute from 2024-01-01 08:00 +0100, values from 60.
func exportXML(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData ANY>
]>
<HealthData locale="en_US">
 <ExportDate value="2024-01-02 10:00:00 +0100"/>
`)
	for i := range n {
		at := time.Date(2024, 1, 1, 8, 0, 0, 0, time.FixedZone("", 3600)).Add(time.Duration(i) * time.Minute).Format("2006-01-02 15:04:05 -0700")
		fmt.Fprintf(&b, ` <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Apple Watch" sourceVersion="9.1" device="&lt;&lt;HKDevice: 0x283a4c780&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, software:9.1&gt;" unit="count/min" creationDate="%[1]s" startDate="%[1]s" endDate="%[1]s" value="%[2]d"/>`+"\n", at, 60+i%50)
	}
	b.WriteString("</HealthData>\n")
	return b.Bytes()
}

// sdkHeartRate is an SDK batch of the same watch's heart rate at minute i
// of exportXML, as the iOS SDK sends it.
func sdkHeartRate(i int) []byte {
	at := time.Date(2024, 1, 1, 7, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
	return fmt.Appendf(nil, `{"provider":"apple","sdkVersion":"0.15.0","syncTimestamp":"2024-01-02T00:00:00Z","data":{"records":[
{"id":"9D1C0D9E-3C52-4A7A-8E0B-0E5D6F1B2C3D","type":"HKQuantityTypeIdentifierHeartRate","unit":"count/min","value":%d,
 "startDate":%q,"endDate":%q,"source":{"name":"Apple Watch","version":"9.1","deviceManufacturer":"Apple Inc.","deviceModel":"Watch",
 "productType":"Watch6,2","deviceHardwareVersion":"Watch6,2","deviceSoftwareVersion":"9.1"}}]}}`, 60+i%50, at, at)
}

// importAll spools an import, lets the importer and a compactor run until
// it has been read and indexed, and returns its run.
func importAll(t *testing.T, s *Service, store *pebblestore.Store, user string, data []byte) *pebblestore.Run {
	t.Helper()
	imp, err := s.SpoolImport(user, ImportAppleHealth, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return waitImport(t, s, store, user, imp.ID)
}

func waitImport(t *testing.T, s *Service, store *pebblestore.Store, user, id string) *pebblestore.Run {
	t.Helper()
	c, err := NewCompactor(store, s, CompactorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	defer c.Stop()
	iid, _, _ := s.lookupUser(user)
	var bid [16]byte
	copy(bid[:], mustUUID(t, id))
	for deadline := time.Now().Add(20 * time.Second); ; {
		// The run is done once its last chunk is indexed.
		seq, err := store.ImportRunSeq(iid, bid)
		if errors.Is(err, pebblestore.ErrNotFound) {
			j, jerr := store.Import(iid, bid)
			if jerr != nil {
				t.Fatal(jerr)
			}
			seq, err = j.RunSeq, nil
		}
		if err != nil {
			t.Fatal(err)
		}
		run, err := store.RunBySeq(seq)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status == "completed" || run.Status == "failed" {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("import run still %s", run.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustUUID(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		t.Fatalf("import id %q: %v", s, err)
	}
	return b
}

func newUser(t *testing.T, s *Service, id string) {
	t.Helper()
	if _, err := s.Submit(&Request{UserID: id, Body: sdkHeartRate(10_000)}); err != nil {
		t.Fatal(err)
	}
}

// TestImportStoresEachSampleOnce: an export that shares a sample with an
// SDK sync, imported twice, stores each sample once, and the runs count
// the duplicates.
func TestImportStoresEachSampleOnce(t *testing.T) {
	s, store := newService(t, Options{})
	s.StartImports()
	newUser(t, s, "u")
	if _, err := s.Submit(&Request{UserID: "u", Body: sdkHeartRate(3)}); err != nil {
		t.Fatal(err)
	}
	first := importAll(t, s, store, "u", exportXML(10))
	if first.Status != "completed" || first.Source != SourceImport || first.RecordsSaved != 9 || first.Import.Duplicates != 1 {
		t.Fatalf("first import: %s, %d saved, %+v", first.Status, first.RecordsSaved, first.Import)
	}
	if first.Import.Records != 10 || first.Import.BytesRead != int64(len(exportXML(10))) {
		t.Fatalf("first import read %+v", first.Import.ImportProgress)
	}
	again := importAll(t, s, store, "u", exportXML(10))
	if again.RecordsSaved != 0 || again.Import.Duplicates != 10 {
		t.Fatalf("second import: %d saved, %d duplicates", again.RecordsSaved, again.Import.Duplicates)
	}
	from := time.Date(2024, 1, 1, 7, 0, 0, 0, time.UTC).UnixMicro()
	if n, err := store.SeriesCount(1, 1, from, from+int64(time.Hour/time.Microsecond)); err != nil || n != 10 {
		t.Fatalf("%d heart rate points, want 10 (%v)", n, err)
	}
	// The SDK's sample stayed as synced, with its id.
	entries, _ := os.ReadDir(filepath.Join(store.Dir(), ImportsDir))
	if len(entries) != 0 {
		t.Fatalf("spooled files left: %v", entries)
	}
}

// TestImportResumesFromCheckpoint: an import stopped after some chunks
// resumes from its checkpoint at the next start, queues nothing twice, and
// ends as an uninterrupted import does.
func TestImportResumesFromCheckpoint(t *testing.T) {
	dir := t.TempDir()
	o := Options{ImportChunkItems: 7}
	s, store := openService(t, dir, o)
	newUser(t, s, "u")
	var chunks atomic.Int32
	s.importHook = func() error {
		if chunks.Add(1) == 3 {
			return errStopped // as if the process died right after its third chunk
		}
		return nil
	}
	imp, err := s.SpoolImport("u", ImportAppleHealth, bytes.NewReader(exportXML(50)))
	if err != nil {
		t.Fatal(err)
	}
	s.StartImports()
	for deadline := time.Now().Add(10 * time.Second); chunks.Load() < 3; {
		if time.Now().After(deadline) {
			t.Fatal("the importer did not write three chunks")
		}
		time.Sleep(time.Millisecond)
	}
	s.Close()
	if n := queueLen(t, store); n != 3+1 { // three chunks and the first sync
		t.Fatalf("%d queue entries after the stop", n)
	}
	store.Close()

	s, store = openService(t, dir, o)
	defer store.Close()
	defer s.Close()
	s.StartImports()
	run := waitImport(t, s, store, "u", imp.ID)
	if run.Status != "completed" || run.RecordsSaved != 50 || run.Import.Duplicates != 0 || run.Import.Records != 50 {
		t.Fatalf("resumed import: %s, %d saved, %+v", run.Status, run.RecordsSaved, run.Import)
	}
}

// TestImportRefusals: an unknown user, an upload that is not an export,
// one over the limit; none leaves a file behind.
func TestImportRefusals(t *testing.T) {
	s, store := newService(t, Options{MaxImportBytes: 4096})
	newUser(t, s, "u")
	var ierr *Error
	if _, err := s.SpoolImport("nobody", ImportAppleHealth, bytes.NewReader(exportXML(1))); !errors.As(err, &ierr) || ierr.Kind != KindUnknownUser {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := s.SpoolImport("u", ImportAppleHealth, strings.NewReader(`{"not":"an export"}`)); !errors.As(err, &ierr) || ierr.Kind != KindBadUpload {
		t.Errorf("not an export: %v", err)
	}
	if _, err := s.SpoolImport("u", ImportAppleHealth, bytes.NewReader(exportXML(100))); !errors.As(err, &ierr) || ierr.Kind != KindTooLarge {
		t.Errorf("over the limit: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(store.Dir(), ImportsDir))
	if len(entries) != 0 {
		t.Fatalf("files left: %v", entries)
	}
}

// TestImportDiskFull: an upload that would take the disk under the reserve
// is refused with 507 as it is written, and leaves nothing behind; a disk
// already under it refuses at once.
func TestImportDiskFull(t *testing.T) {
	s, store := newService(t, Options{})
	newUser(t, s, "u")
	free := s.DiskFree()
	var ierr *Error
	// The disk fills up (as the reserve says) once 2 MiB of the upload are
	// written: the rest is refused, and the part written removed.
	big := &fillsDisk{r: bytes.NewReader(bytes.Repeat(exportXML(1000), 16)), after: 2 << 20,
		full: func() { s.opts.DiskReserve = free + 1<<40 }}
	if _, err := s.SpoolImport("u", ImportAppleHealth, big); !errors.As(err, &ierr) || ierr.Kind != KindDiskFull {
		t.Fatalf("an upload past the reserve: %v", err)
	}
	if big.read < 2<<20 || big.read >= int64(16*len(exportXML(1000))) {
		t.Fatalf("refused after %d bytes, want part-way", big.read)
	}
	s.opts.DiskReserve = free + 1<<30
	if _, err := s.SpoolImport("u", ImportAppleHealth, bytes.NewReader(exportXML(1))); !errors.As(err, &ierr) || ierr.Kind != KindDiskFull {
		t.Fatalf("a disk under the reserve: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(store.Dir(), ImportsDir)); len(entries) != 0 {
		t.Fatalf("files left: %v", entries)
	}
	n := 0
	store.Imports(func(*pebblestore.ImportJob) bool { n++; return true })
	if n != 0 {
		t.Fatalf("%d jobs written", n)
	}
}

// TestImportStopsWhenItsUserIsErased: a user erased in the middle of an
// import takes the import with it: no chunk is queued after the erasure,
// the spooled file is removed, and nothing of the user stays.
func TestImportStopsWhenItsUserIsErased(t *testing.T) {
	s, store := newService(t, Options{ImportChunkItems: 5})
	newUser(t, s, "u")
	erased := make(chan error, 1)
	chunks := 0
	s.importHook = func() error {
		if chunks++; chunks == 2 {
			erased <- s.DeleteUser("u", nil)
		}
		return nil
	}
	if _, err := s.SpoolImport("u", ImportAppleHealth, bytes.NewReader(exportXML(100))); err != nil {
		t.Fatal(err)
	}
	s.StartImports()
	if err := <-erased; err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(store.Dir(), ImportsDir)
	for deadline := time.Now().Add(5 * time.Second); ; {
		entries, _ := os.ReadDir(dir)
		if len(entries) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the spooled file of the erased user stays: %v", entries)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if chunks != 2 {
		t.Errorf("%d chunks written, want 2 (none after the erasure)", chunks)
	}
	if n := queueLen(t, store); n != 0 {
		t.Errorf("%d queue entries after the erasure", n)
	}
	n := 0
	store.Imports(func(*pebblestore.ImportJob) bool { n++; return true })
	if n != 0 {
		t.Errorf("%d jobs after the erasure", n)
	}
}

// fillsDisk is an upload during which the disk fills: full runs once after
// bytes have been read.
type fillsDisk struct {
	r     io.Reader
	after int64
	read  int64
	full  func()
}

func (f *fillsDisk) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if f.read < f.after && f.read+int64(n) >= f.after {
		f.full()
	}
	f.read += int64(n)
	return n, err
}

// TestImportEncryptedStore: on an encrypted store the spooled upload is
// ciphertext on the disk, and the import reads it back and completes.
func TestImportEncryptedStore(t *testing.T) {
	key := make([]byte, pebblestore.KeySize)
	for i := range key {
		key[i] = byte(i * 7)
	}
	testStoreOptions = func(o *pebblestore.Options) { o.EncryptionKey = key }
	defer func() { testStoreOptions = nil }()
	s, store := newService(t, Options{})
	if !store.Encrypted() {
		t.Fatal("the store is not encrypted")
	}
	newUser(t, s, "u")
	data := exportXML(10)
	imp, err := s.SpoolImport("u", ImportAppleHealth, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	spooled, err := os.ReadFile(filepath.Join(store.Dir(), ImportsDir, imp.ID))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(spooled, []byte("HKQuantityTypeIdentifierHeartRate")) || bytes.Contains(spooled, data[:64]) {
		t.Fatal("the spooled upload is plaintext on the disk")
	}
	s.StartImports()
	run := waitImport(t, s, store, "u", imp.ID)
	if run.Status != "completed" || run.RecordsSaved != 10 {
		t.Fatalf("import: %s, %d saved", run.Status, run.RecordsSaved)
	}
}
