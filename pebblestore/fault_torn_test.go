package pebblestore

// Fault test: a torn WAL tail. A crash can leave the end of the newest WAL
// half written: records that were never synced, partly on disk, with holes
// of zeros. The store must open, and every batch that was synced must be
// there, whole.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestFaultTornWALTailAfterCrash writes synced batches followed by an
// unsynced tail of more than 32 KiB (so that whole WAL blocks reach the
// file without an fsync), then takes crash clones of the file system that
// keep a random share of the unsynced 4 KiB blocks and lose the rest. Every
// clone must open with every synced batch whole; of the unsynced batches,
// only a prefix in commit order may survive, each one whole. Each round's
// tail becomes synced by the next round's first synced commit.
func TestFaultTornWALTailAfterCrash(t *testing.T) { testFaultTornWALTail(t, nil) }

// TestFaultTornWALTailAfterCrashEncrypted is the same through the
// encrypted filesystem (cryptfs.go): its partial last blocks are
// rewritten as they grow, and a crash must still keep every synced batch.
func TestFaultTornWALTailAfterCrashEncrypted(t *testing.T) { testFaultTornWALTail(t, testKey(t)) }

func testFaultTornWALTail(t *testing.T, key []byte) {
	rounds, clones := 3, 8
	if longFaultTests() {
		rounds, clones = 10, 100
	}
	seed := faultSeed(t)
	rng := rand.New(rand.NewPCG(seed, 3))

	mem := vfs.NewCrashableMem()
	const dir = "/wearhouse"
	s, err := Open(Options{Dir: dir, Logger: faultLogger(), FS: mem, EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	var synced []uint64
	var seq uint64
	opened, torn, maxLost := 0, 0, 0
	for round := range rounds {
		for range 50 + rng.IntN(100) {
			seq++
			commitFaultBatch(t, s, seq)
		}
		// Everything committed so far is now behind a synced record.
		synced = synced[:0]
		for i := uint64(1); i <= seq; i++ {
			synced = append(synced, i)
		}
		// The unsynced tail: batches written without an fsync until more
		// than 64 KiB of them are in the newest WAL file (Pebble writes
		// full 32 KiB blocks to the file as they fill). The WAL may rotate
		// meanwhile (Pebble's first memtables are small); the old one is
		// then synced, and the count starts again in the new one.
		wal, walBefore := faultNewestWAL(t, mem, dir)
		var tail []uint64
		for {
			seq++
			b := s.NewBatch()
			putFaultBatch(t, b, seq)
			if err := b.CommitNoSync(); err != nil {
				t.Fatal(err)
			}
			tail = append(tail, seq)
			name, size := faultNewestWAL(t, mem, dir)
			if name != wal {
				wal, walBefore = name, 0
			}
			if size >= walBefore+64<<10 {
				break
			}
			if len(tail) > 5000 {
				t.Fatalf("round %d: the unsynced tail does not reach the WAL file", round)
			}
		}
		for c := range clones {
			pct := 10 + rng.IntN(81)
			crashed := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: pct, RNG: rand.New(rand.NewPCG(rng.Uint64(), 1))})
			st, err := Open(Options{Dir: dir, Logger: faultLogger(), FS: crashed, EncryptionKey: key})
			if err != nil {
				t.Fatalf("round %d, clone %d (%d%% of unsynced blocks kept): the store does not open: %v", round, c, pct, err)
			}
			got := requireFaultBatches(t, st, synced)
			kept := 0
			for _, q := range tail {
				if !got[q] {
					break
				}
				kept++
			}
			for _, q := range tail[kept:] {
				if got[q] {
					t.Fatalf("round %d, clone %d: unsynced batch %d survived after a lost one (%d): the replay skipped a hole", round, c, q, tail[kept])
				}
			}
			if n := len(got) - len(synced) - kept; n != 0 {
				t.Fatalf("round %d, clone %d: %d batches stored that were never written", round, c, n)
			}
			maxLost = max(maxLost, len(tail)-kept)
			if kept > 0 && kept < len(tail) {
				torn++
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			opened++
		}
	}
	t.Logf("%d crash clones opened, each with all of its synced batches (up to %d); %d kept part of the unsynced tail; at most %d unsynced batches lost in one",
		opened, len(synced), torn, maxLost)
}

// faultNewestWAL returns the name and size of the newest WAL file of dir.
func faultNewestWAL(t *testing.T, fs vfs.FS, dir string) (string, int64) {
	t.Helper()
	names, err := fs.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var logs []string
	for _, n := range names {
		if strings.HasSuffix(n, ".log") {
			logs = append(logs, n)
		}
	}
	if len(logs) == 0 {
		t.Fatal("no WAL file")
	}
	slices.Sort(logs)
	fi, err := fs.Stat(fs.PathJoin(dir, logs[len(logs)-1]))
	if err != nil {
		t.Fatal(err)
	}
	return logs[len(logs)-1], fi.Size()
}

// TestFaultTornWALTailOnDisk damages the end of the newest WAL of a closed
// store on disk in the ways a crash can: the last record cut in the middle,
// the last record's bytes garbled, garbage or zeros after the end. The
// store opens each time with every batch before the last one; the last one
// is there unless it was damaged.
func TestFaultTornWALTailOnDisk(t *testing.T) {
	src := t.TempDir()
	s, err := Open(Options{Dir: src, Logger: faultLogger()})
	if err != nil {
		t.Fatal(err)
	}
	const n = 120
	var acked []uint64
	for seq := uint64(1); seq < n; seq++ {
		commitFaultBatch(t, s, seq)
		acked = append(acked, seq)
	}
	wal := faultNewestWALOnDisk(t, src)
	before := faultFileSize(t, wal)
	commitFaultBatch(t, s, n) // the record that the damage hits
	after := faultFileSize(t, wal)
	if after <= before {
		t.Fatalf("the last batch did not grow %s (%d -> %d bytes)", wal, before, after)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("newest WAL %s: last record at bytes %d to %d of %d", filepath.Base(wal), before, after, faultFileSize(t, wal))

	rng := rand.New(rand.NewPCG(faultSeed(t), 4))
	cases := []struct {
		name         string
		damage       func(b []byte) []byte
		lastSurvives bool
	}{
		{"last record cut in the middle", func(b []byte) []byte { return b[:before+(after-before)/2] }, false},
		{"last record cut after its header", func(b []byte) []byte { return b[:before+9] }, false},
		{"last record garbled", func(b []byte) []byte {
			for i := before + (after-before)/3; i < after; i++ {
				b[i] = byte(rng.UintN(256))
			}
			return b
		}, false},
		{"last record zeroed", func(b []byte) []byte {
			clear(b[before+(after-before)/2 : after])
			return b
		}, false},
		{"garbage after the end", func(b []byte) []byte {
			for range 3000 {
				b = append(b, byte(rng.UintN(256)))
			}
			return b
		}, true},
		{"zeros after the end", func(b []byte) []byte { return append(b, make([]byte, 40<<10)...) }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := faultCopyDir(t, src)
			path := filepath.Join(dir, filepath.Base(wal))
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, c.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			st, err := Open(Options{Dir: dir, Logger: faultLogger()})
			if err != nil {
				t.Fatalf("the store does not open after a torn tail: %v", err)
			}
			defer st.Close()
			got := requireFaultBatches(t, st, acked)
			if got[n] != c.lastSurvives {
				t.Errorf("last batch stored: %v, want %v", got[n], c.lastSurvives)
			}
			if len(got) > n {
				t.Errorf("%d batches stored, %d written", len(got), n)
			}
		})
	}
}

func faultNewestWALOnDisk(t *testing.T, dir string) string {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no WAL in %s: %v", dir, err)
	}
	slices.Sort(logs)
	return logs[len(logs)-1]
}

func faultFileSize(t *testing.T, path string) int {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Size())
}

// faultCopyDir copies the files of a closed store to a new directory.
func faultCopyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(fmt.Errorf("copy %s: %w", e.Name(), err))
		}
	}
	return dst
}
