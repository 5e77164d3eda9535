package pebblestore

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func testKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, KeySize)
	_, _ = rand.Read(k)
	return k
}

func mustCryptFS(t testing.TB, base vfs.FS, suite byte, key []byte, old ...[]byte) vfs.FS {
	t.Helper()
	fs, err := NewEncryptedFSSuite(base, suite, key, old...)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

var suites = []struct {
	name  string
	suite byte
}{{"aes", SuiteAES}, {"chacha", SuiteChaCha}}

// readAll reads a file through ReadAt in one call.
func readAllAt(t testing.TB, f vfs.File, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	m, err := f.ReadAt(b, 0)
	if m != n || (err != nil && !errors.Is(err, io.EOF)) {
		t.Fatalf("ReadAt: %d of %d bytes: %v", m, n, err)
	}
	return b
}

// checkModel checks every way of reading the file at path against want.
func checkModel(t testing.TB, fs vfs.FS, path string, want []byte, rng *mrand.Rand) {
	t.Helper()
	st, err := fs.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != int64(len(want)) {
		t.Fatalf("Stat: size %d, want %d", st.Size(), len(want))
	}
	f, err := fs.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("sequential read: %d bytes (want %d), equal %v, %v", len(got), len(want), bytes.Equal(got, want), err)
	}
	for range 50 {
		off := rng.IntN(len(want) + 10)
		n := rng.IntN(9000)
		b := make([]byte, n)
		m, err := f.ReadAt(b, int64(off))
		wantN := max(0, min(n, len(want)-off))
		if m != wantN || !bytes.Equal(b[:m], want[min(off, len(want)):min(off, len(want))+wantN]) {
			t.Fatalf("ReadAt(%d, %d): %d bytes, want %d", n, off, m, wantN)
		}
		if m < n && !errors.Is(err, io.EOF) {
			t.Fatalf("ReadAt short without EOF: %v", err)
		}
		if m == n && err != nil {
			t.Fatalf("ReadAt full with error %v", err)
		}
	}
}

// TestCryptFSModel writes files of random sizes by random writes and
// syncs, and reads them back every way against the plaintext.
func TestCryptFSModel(t *testing.T) {
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			rng := mrand.New(mrand.NewPCG(1, uint64(s.suite)))
			mem := vfs.NewMem()
			fs := mustCryptFS(t, mem, s.suite, testKey(t))
			prev := ""
			for i := range 40 {
				// Half the files reuse the previous one, as a recycled WAL.
				name := fmt.Sprintf("f%d", i)
				var f vfs.File
				var err error
				if prev != "" && rng.IntN(2) == 0 {
					f, err = fs.ReuseForWrite(prev, name, vfs.WriteCategoryUnspecified)
				} else {
					f, err = fs.Create(name, vfs.WriteCategoryUnspecified)
				}
				if err != nil {
					t.Fatal(err)
				}
				prev = name
				var want []byte
				total := rng.IntN(60000)
				if i == 0 {
					total = 0
				}
				for len(want) < total {
					n := rng.IntN(min(total-len(want), []int{10, 300, 4000, 20000}[rng.IntN(4)]) + 1)
					p := make([]byte, n)
					_, _ = rand.Read(p)
					want = append(want, p...)
					if _, err := f.Write(p); err != nil {
						t.Fatal(err)
					}
					if rng.IntN(3) == 0 {
						if err := f.Sync(); err != nil {
							t.Fatal(err)
						}
					}
					if st, _ := f.Stat(); st.Size() != int64(len(want)) {
						t.Fatalf("writer Stat %d, want %d", st.Size(), len(want))
					}
				}
				// Read while still open for writing, then after close.
				if len(want) > 0 {
					if got := readAllAt(t, f, len(want)); !bytes.Equal(got, want) {
						t.Fatal("read through the writer differs")
					}
				}
				if rng.IntN(2) == 0 {
					_ = f.Sync()
				}
				if err := f.Close(); err != nil {
					t.Fatal(err)
				}
				checkModel(t, fs, name, want, rng)
			}
		})
	}
}

// FuzzCryptFSBlocks drives the block layer with writes and syncs whose
// sizes come from the input, against a plaintext model.
func FuzzCryptFSBlocks(f *testing.F) {
	f.Add([]byte{1, 2, 3, 200, 17, 255, 0, 4})
	f.Add(bytes.Repeat([]byte{250}, 40))
	key := testKey(f)
	f.Fuzz(func(t *testing.T, ops []byte) {
		mem := vfs.NewMem()
		fs := mustCryptFS(t, mem, ops2suite(ops), key)
		w, err := fs.Create("f", vfs.WriteCategoryUnspecified)
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		for i, op := range ops {
			if op%7 == 0 {
				if err := w.Sync(); err != nil {
					t.Fatal(err)
				}
				continue
			}
			n := int(op) * (1 + i%5) * 13
			p := bytes.Repeat([]byte{op, byte(i)}, n/2+1)[:n]
			want = append(want, p...)
			if _, err := w.Write(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		checkModel(t, fs, "f", want, mrand.New(mrand.NewPCG(uint64(len(ops)), 7)))
	})
}

func ops2suite(ops []byte) byte {
	if len(ops) > 0 && ops[0]%2 == 1 {
		return SuiteChaCha
	}
	return SuiteAES
}

// writeCryptFile writes data in pieces with syncs and closes the file.
func writeCryptFile(t testing.TB, fs vfs.FS, name string, data []byte, piece int) {
	t.Helper()
	f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	for len(data) > 0 {
		n := min(piece, len(data))
		if _, err := f.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCryptFSFlippedByte flips bytes all over a synced file: every read
// either fails or returns the plaintext, never other bytes, and a flip in
// the data or its tags makes the read fail.
func TestCryptFSFlippedByte(t *testing.T) {
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			mem := vfs.NewMem()
			fs := mustCryptFS(t, mem, s.suite, testKey(t))
			want := bytes.Repeat([]byte("heart rate 72 bpm; "), 1500) // 28.5 KB, 8 blocks
			writeCryptFile(t, fs, "f", want, 333)
			raw := rawFile(t, mem, "f")
			rng := mrand.New(mrand.NewPCG(3, 4))
			positions := []int{0, 9, 20, 30, 60, 95, 512, 530, 1030, cryptHeader, cryptHeader + 50, cryptHeader + 100, len(raw) - 1}
			for range 150 {
				positions = append(positions, rng.IntN(len(raw)))
			}
			for _, pos := range positions {
				bad := bytes.Clone(raw)
				bad[pos] ^= 1 << rng.IntN(8)
				writeRaw(t, mem, "g", bad)
				got, err := readThrough(fs, "g")
				if err == nil && !bytes.Equal(got, want) {
					t.Fatalf("flip at %d: read %d bytes of wrong data without an error", pos, len(got))
				}
				// Bytes that nothing covers: the header's reserved bytes and
				// padding, the slots' padding.
				covered := pos < 16 || (pos >= 16 && pos < 96) || (pos >= cryptSyncSlot0 && pos < cryptSyncSlot0+cryptSlot) ||
					(pos >= cryptSyncSlot1 && pos < cryptSyncSlot1+cryptSlot) || pos >= cryptHeader
				if pos >= cryptHeader {
					in := (pos - cryptHeader) % cryptPhys
					if in >= 4 && in < 8 || in >= cryptSlot+4 && in < cryptSlot+8 {
						covered = false // a slot's padding
					}
					if in < 2*cryptSlot {
						covered = false // a flipped tag slot leaves the other one
					}
				}
				if covered && err == nil {
					t.Fatalf("flip at %d (of %d) not detected", pos, len(raw))
				}
			}
		})
	}
}

func readThrough(fs vfs.FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	b := make([]byte, st.Size())
	n, err := f.ReadAt(b, 0)
	if err != nil && !(errors.Is(err, io.EOF) && n == len(b)) {
		return nil, err
	}
	seq, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(seq, b) {
		return nil, errors.New("sequential and random reads differ")
	}
	return b, nil
}

func rawFile(t testing.TB, fs vfs.FS, name string) []byte {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeRaw(t testing.TB, fs vfs.FS, name string, b []byte) {
	t.Helper()
	f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// TestCryptFSKeys: a file opens only with its key; an older key reads old
// files while new ones are written under the current key.
func TestCryptFSKeys(t *testing.T) {
	mem := vfs.NewMem()
	k1, k2 := testKey(t), testKey(t)
	fs1 := mustCryptFS(t, mem, DefaultSuite(), k1)
	writeCryptFile(t, fs1, "old", []byte("written under k1"), 100)
	fs2 := mustCryptFS(t, mem, DefaultSuite(), k2)
	if _, err := fs2.Open("old"); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("open with another key: %v, want ErrWrongKey", err)
	}
	rot := mustCryptFS(t, mem, DefaultSuite(), k2, k1)
	if b, err := readThrough(rot, "old"); err != nil || string(b) != "written under k1" {
		t.Fatalf("old key: %q %v", b, err)
	}
	writeCryptFile(t, rot, "new", []byte("written under k2"), 100)
	if _, err := fs1.Open("new"); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("a new file is not under the current key: %v", err)
	}
	if b := rawFile(t, mem, "new"); !bytes.Equal(b[16:24], func() []byte { id := KeyID(k2); return id[:] }()) {
		t.Fatal("header does not name the current key")
	}
	if _, err := NewEncryptedFS(mem, k1[:16]); err == nil {
		t.Fatal("a 16-byte key was accepted")
	}
	writeRaw(t, mem, "plain", []byte("not encrypted at all, but long enough to have a header? no"))
	if _, err := fs1.Open("plain"); !errors.Is(err, ErrNotEncrypted) {
		t.Fatalf("plaintext file: %v", err)
	}
}

// TestCryptFSConcurrentReadAt reads one file from many goroutines.
func TestCryptFSConcurrentReadAt(t *testing.T) {
	mem := vfs.NewMem()
	fs := mustCryptFS(t, mem, DefaultSuite(), testKey(t))
	want := make([]byte, 300_000)
	_, _ = rand.Read(want)
	writeCryptFile(t, fs, "f", want, 70_000)
	f, err := fs.Open("f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(g), 9))
			for range 300 {
				off, n := rng.IntN(len(want)), rng.IntN(20000)+1
				b := make([]byte, n)
				m, err := f.ReadAt(b, int64(off))
				if err != nil && !errors.Is(err, io.EOF) || !bytes.Equal(b[:m], want[off:off+m]) || m != min(n, len(want)-off) {
					errs <- errors.New("concurrent ReadAt returned wrong data")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestCryptFSCrashTail crashes a file mid-write (every page not synced
// kept or lost at random, as the disk may) and reads it back: every
// synced byte is there, and what follows is a prefix of what was written.
func TestCryptFSCrashTail(t *testing.T) {
	key := testKey(t)
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			rng := mrand.New(mrand.NewPCG(faultSeed(t), uint64(s.suite)))
			for iter := range 200 {
				mem := vfs.NewCrashableMem()
				fs := mustCryptFS(t, mem, s.suite, key)
				var f vfs.File
				var err error
				if rng.IntN(2) == 0 {
					// A recycled WAL: the old file's bytes stay past the new ones.
					old := make([]byte, rng.IntN(100_000))
					_, _ = rand.Read(old)
					writeCryptFile(t, fs, "old", old, 10_000)
					_ = syncDir(fs, "")
					f, err = fs.ReuseForWrite("old", "wal", vfs.WriteCategoryUnspecified)
				} else {
					f, err = fs.Create("wal", vfs.WriteCategoryUnspecified)
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := syncDir(fs, ""); err != nil {
					t.Fatal(err)
				}
				var all []byte
				synced := 0
				for range rng.IntN(30) + 1 {
					p := make([]byte, rng.IntN(6000)+1)
					_, _ = rand.Read(p)
					all = append(all, p...)
					if _, err := f.Write(p); err != nil {
						t.Fatal(err)
					}
					if rng.IntN(2) == 0 {
						if err := f.Sync(); err != nil {
							t.Fatal(err)
						}
						synced = len(all)
					}
				}
				crashed := mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rng})
				cfs := mustCryptFS(t, crashed, s.suite, key)
				g, err := cfs.Open("wal")
				if err != nil {
					t.Fatalf("iteration %d: open after the crash: %v", iter, err)
				}
				got, err := io.ReadAll(g)
				g.Close()
				if err != nil {
					t.Fatalf("iteration %d: sequential read after the crash: %v", iter, err)
				}
				if len(got) < synced || len(got) > len(all) || !bytes.Equal(got, all[:len(got)]) {
					t.Fatalf("iteration %d: read %d bytes after the crash, %d were written, %d synced", iter, len(got), len(all), synced)
				}
				f.Close()
			}
		})
	}
}

// tearFS records, for the one file it creates, what was synced and every
// write since, so that a crash can be simulated at the 512-byte sector:
// each sector an unsynced write touched is kept new or left old at random
// (a disk writes a sector whole or not at all, pages in any order).
type tearFS struct {
	vfs.FS
	f *tearFile
}

type tearFile struct {
	vfs.File
	cur, synced []byte
}

func (fs *tearFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	if err != nil {
		return nil, err
	}
	fs.f = &tearFile{File: f}
	return fs.f, nil
}

func (f *tearFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(f.cur) {
		f.cur = append(f.cur, make([]byte, end-len(f.cur))...)
	}
	copy(f.cur[off:], p)
	return f.File.WriteAt(p, off)
}

func (f *tearFile) Write(p []byte) (int, error) { return f.WriteAt(p, int64(len(f.cur))) }

func (f *tearFile) Sync() error {
	f.synced = bytes.Clone(f.cur)
	return f.File.Sync()
}

// crash returns the file as a disk might hold it after a crash now.
func (f *tearFile) crash(rng *mrand.Rand) []byte {
	out := bytes.Clone(f.synced)
	if len(f.cur) > len(out) {
		out = append(out, make([]byte, len(f.cur)-len(out))...)
	}
	keepAll := rng.IntN(100)
	for s := 0; s < len(f.cur); s += 512 {
		e := min(s+512, len(f.cur))
		if !bytes.Equal(out[s:e], f.cur[s:e]) && rng.IntN(100) < keepAll {
			copy(out[s:e], f.cur[s:e])
		}
	}
	// A file never grows past its last sector kept.
	end := len(f.synced)
	for s := len(f.synced) / 512 * 512; s < len(out); s += 512 {
		if e := min(s+512, len(out)); !bytes.Equal(out[s:e], make([]byte, e-s)) {
			end = max(end, e)
		}
	}
	return out[:end]
}

// TestCryptFSTornSectors crashes mid-write with sectors of the unsynced
// writes kept or lost one by one (finer than a page: a rewritten tag slot
// may reach the disk while the bytes it covers do not, or the reverse):
// every synced byte reads back, and nothing but a prefix of what was
// written.
func TestCryptFSTornSectors(t *testing.T) {
	key := testKey(t)
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) {
			rng := mrand.New(mrand.NewPCG(faultSeed(t), uint64(s.suite)))
			for iter := range 300 {
				tfs := &tearFS{FS: vfs.NewMem()}
				fs := mustCryptFS(t, tfs, s.suite, key)
				f, err := fs.Create("wal", vfs.WriteCategoryUnspecified)
				if err != nil {
					t.Fatal(err)
				}
				var all []byte
				synced := 0
				for range rng.IntN(40) + 1 {
					p := make([]byte, []int{1 + rng.IntN(50), 1 + rng.IntN(700), 1 + rng.IntN(9000)}[rng.IntN(3)])
					_, _ = rand.Read(p)
					all = append(all, p...)
					if _, err := f.Write(p); err != nil {
						t.Fatal(err)
					}
					if rng.IntN(2) == 0 {
						if err := f.Sync(); err != nil {
							t.Fatal(err)
						}
						synced = len(all)
					}
				}
				img := tfs.f.crash(rng)
				mem := vfs.NewMem()
				writeRaw(t, mem, "wal", img)
				got, err := func() ([]byte, error) {
					g, err := mustCryptFS(t, mem, s.suite, key).Open("wal")
					if err != nil {
						return nil, err
					}
					defer g.Close()
					return io.ReadAll(g)
				}()
				if err != nil {
					t.Fatalf("iteration %d: read after the crash: %v", iter, err)
				}
				if len(got) < synced || len(got) > len(all) || !bytes.Equal(got, all[:len(got)]) {
					t.Fatalf("iteration %d: %d bytes read after the crash, %d synced, a prefix: %v", iter, len(got), synced, bytes.Equal(got, all[:min(len(got), len(all))]))
				}
				f.Close()
			}
		})
	}
}
