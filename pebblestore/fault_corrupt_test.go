package pebblestore

// Fault tests: a flipped byte in an older file of the store. The store must
// refuse it with a clear error at open or at the first read of the damaged
// part, and the attempt must not delete or change the files that hold the
// data.

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// faultStoreWithTables writes three rounds of batches, each flushed to its
// own table, closes the store and returns its directory and the batches.
func faultStoreWithTables(t *testing.T) (string, []uint64) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Logger: faultLogger()})
	if err != nil {
		t.Fatal(err)
	}
	var acked []uint64
	for round := range 3 {
		for i := range 40 {
			seq := uint64(round*40 + i + 1)
			commitFaultBatch(t, s, seq)
			acked = append(acked, seq)
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, acked
}

// manifestChunkSpan is one chunk of a MANIFEST: its bytes [start, end) and
// whether it ends a record.
type manifestChunkSpan struct {
	start, end int
	last       bool
}

// manifestChunks splits a MANIFEST into its chunks (Pebble's record format:
// 32 KiB blocks of chunks with a 7-byte header: checksum, length, type).
func manifestChunks(t *testing.T, b []byte) []manifestChunkSpan {
	t.Helper()
	var out []manifestChunkSpan
	for blockStart := 0; blockStart < len(b); blockStart += 32 << 10 {
		block := b[blockStart:min(blockStart+32<<10, len(b))]
		for p := 0; p+7 <= len(block); {
			n := int(binary.LittleEndian.Uint16(block[p+4:]))
			typ := block[p+6]
			if typ < 1 || typ > 4 || p+7+n > len(block) {
				t.Fatalf("MANIFEST: no chunk at byte %d", blockStart+p)
			}
			out = append(out, manifestChunkSpan{blockStart + p, blockStart + p + 7 + n, typ == 1 || typ == 4})
			p += 7 + n
		}
	}
	return out
}

// TestFaultFlippedByteInManifestRefusesToOpen flips one byte of the
// MANIFEST in a record older than the last one (header or payload). Pebble
// alone reads such a MANIFEST up to the damage, takes the rest for a torn
// write, opens an older state and deletes the tables added since: the store
// must refuse to open instead, name the file, and leave every file of the
// directory as it was. The byte put back, the store opens with everything.
func TestFaultFlippedByteInManifestRefusesToOpen(t *testing.T) {
	src, acked := faultStoreWithTables(t)
	manifests, _ := filepath.Glob(filepath.Join(src, "MANIFEST-*"))
	if len(manifests) != 1 {
		t.Fatalf("want one MANIFEST, have %v", manifests)
	}
	name := filepath.Base(manifests[0])
	orig, err := os.ReadFile(manifests[0])
	if err != nil {
		t.Fatal(err)
	}
	chunks := manifestChunks(t, orig)
	lastRecord := len(chunks) - 1
	for lastRecord > 0 && !chunks[lastRecord-1].last {
		lastRecord--
	}
	// Positions: in every older chunk, a byte of the checksum, of the
	// length, of the type and of the payload; every byte with the long tests.
	var positions []int
	for _, c := range chunks[:lastRecord] {
		if longFaultTests() {
			for p := c.start; p < c.end; p++ {
				positions = append(positions, p)
			}
			continue
		}
		positions = append(positions, c.start+1, c.start+4, c.start+6, (c.start+7+c.end)/2)
	}
	t.Logf("%s: %d bytes, %d chunks; flipping %d positions before the last record (byte %d)", name, len(orig), len(chunks), len(positions), chunks[lastRecord].start)
	if len(positions) == 0 {
		t.Fatal("the MANIFEST has a single record")
	}
	dir := faultCopyDir(t, src)
	path := filepath.Join(dir, name)
	for _, pos := range positions {
		b := slices.Clone(orig)
		b[pos] ^= 0x20
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		before := faultListing(t, dir)
		s, err := Open(Options{Dir: dir, Logger: faultLogger()})
		if err == nil {
			got, _ := storedFaultBatches(s)
			s.Close()
			t.Fatalf("byte %d flipped: the store opened (%d of %d batches readable); changes to the directory:\n%s",
				pos, len(got), len(acked), strings.Join(faultListingChanges(before, faultListing(t, dir), nil), "\n"))
		}
		if msg := err.Error(); !strings.Contains(msg, name) || !(strings.Contains(msg, "damaged") || strings.Contains(msg, "malformed") || strings.Contains(msg, "corrupt")) {
			t.Errorf("byte %d flipped: unclear error: %v", pos, err)
		}
		if ch := faultListingChanges(before, faultListing(t, dir), nil); len(ch) > 0 {
			t.Fatalf("byte %d flipped: the failed open changed the directory:\n%s", pos, strings.Join(ch, "\n"))
		}
	}
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(Options{Dir: dir, Logger: faultLogger()})
	if err != nil {
		t.Fatalf("the repaired store does not open: %v", err)
	}
	defer s.Close()
	requireFaultBatches(t, s, acked)
}

// TestFaultFlippedByteInTableStopsAtFirstRead flips a byte in the first
// data block of a table written by a flush and compacted. The first read of
// that block must stop the store (Pebble reports the corruption through
// its fatal path, which exits the process) with a message that names the
// file; the tables and the MANIFEST stay as they were.
func TestFaultFlippedByteInTableStopsAtFirstRead(t *testing.T) {
	dir, acked := faultStoreWithTables(t)
	s, err := Open(Options{Dir: dir, Logger: faultLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Compact(t.Context(), []byte{0}, []byte{0xff}, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(tables) == 0 {
		t.Fatal("no table after the flushes and the compaction")
	}
	slices.Sort(tables)
	table := tables[len(tables)-1]
	b, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	b[16] ^= 0x01
	if err := os.WriteFile(table, b, 0o600); err != nil {
		t.Fatal(err)
	}
	before := faultListing(t, dir)

	fatal := newFaultFatal()
	readErr := make(chan error, 1)
	st, err := Open(Options{Dir: dir, Logger: faultLogger(), OnFatal: fatal.hook})
	var msg string
	if err != nil {
		msg = err.Error()
	} else {
		// The store is abandoned, not closed, once Pebble met the damage:
		// in production the process has exited.
		go func() {
			_, err := storedFaultBatches(st)
			readErr <- err
		}()
		select {
		case msg = <-fatal.ch:
		case err := <-readErr:
			if err == nil {
				t.Fatalf("all %d batches read back from a damaged table", len(acked))
			}
			msg = err.Error()
		case <-time.After(10 * time.Second):
			t.Fatal("the read of the damaged table neither failed nor stopped the store within 10s")
		}
	}
	first, _, _ := strings.Cut(msg, "\n")
	t.Logf("the damage was reported as: %s", first)
	if !strings.Contains(msg, "corruption") || !strings.Contains(msg, filepath.Base(table)) {
		t.Errorf("unclear report of the damage: %.400s", msg)
	}
	dataFiles := func(name string) bool { return strings.HasSuffix(name, ".sst") }
	if ch := faultListingChanges(before, faultListing(t, dir), dataFiles); len(ch) > 0 {
		t.Fatalf("tables changed:\n%s", strings.Join(ch, "\n"))
	}
	t.Logf("Pebble's other changes to the directory: %q", faultListingChanges(before, faultListing(t, dir), func(n string) bool { return !dataFiles(n) }))
}
