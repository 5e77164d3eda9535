package pebblestore

// Helpers of the fault tests (fault_*_test.go): batches that can be told
// apart after a crash, and listings of a data directory.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// longFaultTests reports whether the long variants of the fault tests run
// (WEARHOUSE_LONG_TESTS=1).
func longFaultTests() bool { return os.Getenv("WEARHOUSE_LONG_TESTS") == "1" }

// faultSeed is the seed of a fault test's random choices: a new one each
// run, or WEARHOUSE_FAULT_SEED to replay one.
func faultSeed(t testing.TB) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("WEARHOUSE_FAULT_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("WEARHOUSE_FAULT_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("seed %d (WEARHOUSE_FAULT_SEED=%d replays it)", seed, seed)
	return seed
}

// faultBody is the body of the batch with sequence number seq; its size
// varies so that records straddle the WAL's 32 KiB blocks.
func faultBody(seq uint64) []byte {
	return []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, seq, strings.Repeat("x", int(seq*37%900))))
}

// putFaultBatch adds batch seq to b: its queue entry and its run, two keys
// that Pebble must keep or lose together.
func putFaultBatch(t testing.TB, b *Batch, seq uint64) {
	t.Helper()
	var id [16]byte
	id[0], id[15] = byte(seq>>8), byte(seq)
	if err := b.PutQueue(&QueueEntry{Seq: seq, Received: time.Unix(1_700_000_000, 0), BatchID: id,
		UserIID: 1, UserID: "fault-user", Provider: "apple", Body: faultBody(seq)}); err != nil {
		t.Fatal(err)
	}
	if err := b.PutRun(&Run{Seq: seq, BatchID: hex.EncodeToString(id[:]), UserID: "fault-user", UserIID: 1,
		Provider: "apple", Status: "queued"}); err != nil {
		t.Fatal(err)
	}
}

// commitFaultBatch writes batch seq with the fsync of acknowledged writes.
func commitFaultBatch(t testing.TB, s *Store, seq uint64) {
	t.Helper()
	b := s.NewBatch()
	putFaultBatch(t, b, seq)
	if err := b.Commit(); err != nil {
		t.Fatalf("commit batch %d: %v", seq, err)
	}
}

// storedFaultBatches returns, for every batch in the store, whether its
// queue entry and its run are both there; a batch with only one of the two
// is reported as an error, as is a queue entry whose body is not the one
// written.
func storedFaultBatches(s *Store) (map[uint64]bool, error) {
	queued := map[uint64]bool{}
	if err := s.ScanQueue(0, func(e *QueueEntry) (bool, error) {
		if string(e.Body) != string(faultBody(e.Seq)) || e.UserID != "fault-user" {
			return false, fmt.Errorf("batch %d: the stored entry is not the one written", e.Seq)
		}
		queued[e.Seq] = true
		return true, nil
	}); err != nil {
		return nil, err
	}
	runs := map[uint64]bool{}
	if err := s.Runs(func(r *Run) bool { runs[r.Seq] = true; return true }); err != nil {
		return nil, err
	}
	for seq := range queued {
		if !runs[seq] {
			return nil, fmt.Errorf("batch %d: queue entry without its run: a batch was torn", seq)
		}
	}
	for seq := range runs {
		if !queued[seq] {
			return nil, fmt.Errorf("batch %d: run without its queue entry: a batch was torn", seq)
		}
	}
	return queued, nil
}

// requireFaultBatches checks that every batch in want is stored whole.
func requireFaultBatches(t testing.TB, s *Store, want []uint64) map[uint64]bool {
	t.Helper()
	got, err := storedFaultBatches(s)
	if err != nil {
		t.Fatal(err)
	}
	var missing []uint64
	for _, seq := range want {
		if !got[seq] {
			missing = append(missing, seq)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged batches missing, first ones: %v", len(missing), len(want), missing[:min(len(missing), 10)])
	}
	return got
}

// faultFatal is an OnFatal hook: it records Pebble's fatal message and
// ends the goroutine that met the error, as the process would end.
type faultFatal struct{ ch chan string }

func newFaultFatal() *faultFatal { return &faultFatal{ch: make(chan string, 64)} }

func (f *faultFatal) hook(msg string) {
	select {
	case f.ch <- msg:
	default:
	}
	runtime.Goexit()
}

// faultFile is one file of a listing.
type faultFile struct {
	size int64
	sum  string
}

// faultListing lists the files of dir with their sizes and SHA-256.
func faultListing(t testing.TB, dir string) map[string]faultFile {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]faultFile{}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			// A store abandoned after a fatal error may still replace
			// its OPTIONS file while the directory is listed.
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		out[e.Name()] = faultFile{size: int64(len(b)), sum: hex.EncodeToString(sum[:8])}
	}
	return out
}

// faultListingChanges describes how after differs from before, one line per
// file; keep selects the files that matter (nil for all).
func faultListingChanges(before, after map[string]faultFile, keep func(string) bool) []string {
	var out []string
	for name, b := range before {
		if keep != nil && !keep(name) {
			continue
		}
		a, ok := after[name]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s (%d bytes) was deleted", name, b.size))
		case a != b:
			out = append(out, fmt.Sprintf("%s changed: %d bytes %s -> %d bytes %s", name, b.size, b.sum, a.size, a.sum))
		}
	}
	for name, a := range after {
		if _, ok := before[name]; !ok && (keep == nil || keep(name)) {
			out = append(out, fmt.Sprintf("%s (%d bytes) was created", name, a.size))
		}
	}
	slices.Sort(out)
	return out
}

// faultLogger is the logger of the fault tests' stores.
func faultLogger() zerolog.Logger { return zerolog.Nop() }
