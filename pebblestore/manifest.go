package pebblestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// checkManifest refuses a MANIFEST that is damaged before its last record.
//
// The MANIFEST lists the store's tables, one record per change. Pebble
// reads it up to the first damaged record and takes the rest for a write
// torn by a crash. A crash can only tear the record being written, the
// last one, but a flipped bit in an older record looks the same to Pebble:
// it then opens the store as it was before that record and deletes the
// tables written since as obsolete, acknowledged batches with them. Pebble
// syncs the MANIFEST after each record and starts the next one only then,
// so a record that starts after a damaged chunk proves that the damage is
// not a torn write.
//
// The format is Pebble's record log: 32 KiB blocks of chunks, each with a
// 7-byte header (masked CRC-32C of the type and payload, payload length,
// type 1 full, 2 first, 3 middle, 4 last).
func checkManifest(fs vfs.FS, dir string) error {
	desc, err := pebble.Peek(dir, fs)
	if err != nil || !desc.Exists {
		return nil // a new store, or one Pebble itself will refuse
	}
	f, err := fs.Open(desc.ManifestFilename)
	if err != nil {
		return nil // Pebble will report it
	}
	defer f.Close()
	name := fs.PathBase(desc.ManifestFilename)
	const blockSize, headerSize = 32 << 10, 7
	var block [blockSize]byte
	damaged := int64(-1)
	for start := int64(0); ; start += blockSize {
		n, err := io.ReadFull(f, block[:])
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("pebblestore: read %s: %w", name, err)
		}
		b := block[:n]
		from := 0
		if damaged < 0 {
			for from+headerSize <= len(b) {
				size, ok := manifestChunk(b[from:])
				if !ok {
					damaged = start + int64(from)
					break
				}
				from += size
			}
			if damaged < 0 {
				if n < blockSize {
					return nil
				}
				continue
			}
			from++
		}
		for p := from; p+headerSize <= len(b); p++ {
			if _, ok := manifestChunk(b[p:]); ok && (b[p+6] == 1 || b[p+6] == 2) && binary.LittleEndian.Uint16(b[p+4:]) > 0 {
				return fmt.Errorf("pebblestore: %s in %s has a damaged record at byte %d, and records written after it are intact: "+
					"this is on-disk corruption, not a write torn by a crash. The store was not opened, because opening it "+
					"would drop the tables listed after the damage; no file was changed. Restore the data directory from a backup",
					name, dir, damaged)
			}
		}
		if n < blockSize {
			return nil
		}
	}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// manifestChunk reports whether b starts with an intact chunk, and its size.
func manifestChunk(b []byte) (int, bool) {
	sum := binary.LittleEndian.Uint32(b)
	size := 7 + int(binary.LittleEndian.Uint16(b[4:]))
	if b[6] < 1 || b[6] > 4 || size > len(b) {
		return 0, false
	}
	c := crc32.Checksum(b[6:size], castagnoli)
	return size, sum == (c>>15|c<<17)+0xa282ead8
}
