package pebblestore

import (
	"crypto/rand"
	mrand "math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// benchFS is each filesystem the benchmarks compare: the plain one and
// the encrypted one with each suite, all over the same base.
func benchFS(b *testing.B, base vfs.FS, fn func(b *testing.B, fs vfs.FS)) {
	key := testKey(b)
	b.Run("plain", func(b *testing.B) { fn(b, base) })
	for _, s := range suites {
		b.Run(s.name, func(b *testing.B) { fn(b, mustCryptFS(b, base, s.suite, key)) })
	}
}

// BenchmarkCryptFSWrite writes a file sequentially in 64 KiB writes (a
// table or a blob file), on the disk; one fsync at the end.
func BenchmarkCryptFSWrite(b *testing.B) {
	dir := b.TempDir()
	benchFS(b, vfs.Default, func(b *testing.B, fs vfs.FS) {
		p := make([]byte, 64<<10)
		_, _ = rand.Read(p)
		b.SetBytes(int64(len(p)))
		f, err := fs.Create(fs.PathJoin(dir, "f"), vfs.WriteCategoryUnspecified)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := range b.N {
			if i > 0 && i%1024 == 0 { // a new 64 MiB file
				f.Close()
				if f, err = fs.Create(fs.PathJoin(dir, "f"), vfs.WriteCategoryUnspecified); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := f.Write(p); err != nil {
				b.Fatal(err)
			}
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	})
}

// BenchmarkCryptFSAppend appends WAL-sized pieces (a 300-byte commit, no
// fsync: the crypto and write cost alone), in memory.
func BenchmarkCryptFSAppend(b *testing.B) {
	benchFS(b, vfs.NewMem(), func(b *testing.B, fs vfs.FS) {
		p := make([]byte, 300)
		b.SetBytes(int64(len(p)))
		f, _ := fs.Create("wal", vfs.WriteCategoryUnspecified)
		b.ResetTimer()
		for i := range b.N {
			if i > 0 && i%100_000 == 0 {
				f.Close()
				f, _ = fs.Create("wal", vfs.WriteCategoryUnspecified)
			}
			if _, err := f.Write(p); err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
	})
}

// BenchmarkCryptFSReadAt256K reads 256 KiB at random offsets (a
// compaction's readahead), as BenchmarkCryptFSReadAt.
func BenchmarkCryptFSReadAt256K(b *testing.B) { benchReadAt(b, 256<<10) }

// BenchmarkCryptFSReadAt reads 4 KiB at random offsets of a 64 MiB file
// (in the page cache) from 2 goroutines.
func BenchmarkCryptFSReadAt(b *testing.B) { benchReadAt(b, 4096) }

func benchReadAt(b *testing.B, n int) {
	dir := b.TempDir()
	benchFS(b, vfs.Default, func(b *testing.B, fs vfs.FS) {
		const size = 64 << 20
		data := make([]byte, size)
		_, _ = rand.Read(data)
		writeCryptFile(b, fs, fs.PathJoin(dir, "r"), data, 1<<20)
		f, err := fs.Open(fs.PathJoin(dir, "r"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.SetBytes(int64(n))
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			rng := mrand.New(mrand.NewPCG(mrand.Uint64(), 1))
			p := make([]byte, n)
			for pb.Next() {
				if _, err := f.ReadAt(p, rng.Int64N(int64(size-n))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkStoreCommit measures synced commits of a 2 KB queue entry from
// 8 goroutines on a store on the disk, plaintext and encrypted.
func BenchmarkStoreCommit(b *testing.B) {
	key := testKey(b)
	for _, c := range []struct {
		name  string
		suite byte
	}{{"plain", 0}, {"plain-no-wal-reuse", 0}, {"aes", SuiteAES}, {"chacha", SuiteChaCha}} {
		b.Run(c.name, func(b *testing.B) {
			o := Options{Dir: b.TempDir(), Logger: faultLogger()}
			if c.name == "plain-no-wal-reuse" {
				o.FS = noReuseFS{vfs.Default}
			}
			if c.suite != 0 {
				o.EncryptionKey, o.EncryptionSuite = key, c.suite
			}
			s, err := Open(o)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			body := make([]byte, 2000)
			var seq atomic.Uint64
			b.SetBytes(int64(len(body)))
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					bt := s.NewBatch()
					if err := bt.PutQueue(&QueueEntry{Seq: seq.Add(1), UserIID: 1, UserID: "u", Provider: "apple", Body: body}); err != nil {
						b.Error(err)
						return
					}
					if err := bt.Commit(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// noReuseFS is the disk without WAL recycling, as the encrypted
// filesystem has it: the cost of that alone.
type noReuseFS struct{ vfs.FS }

func (fs noReuseFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	_ = fs.FS.Remove(oldname)
	return fs.FS.Create(newname, c)
}
