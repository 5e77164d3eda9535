package ingest

import (
	"crypto/rand"

	"strconv"
	"sync/atomic"
	"testing"
	"wearhouse/pebblestore"
)

// BenchmarkSubmit measures the write path alone, without HTTP: 2,000-record
// HealthKit-like batches submitted by 16 goroutines, each acknowledged
// after its synced queue write. Every request is new (no replay): a pool of
// bodies is cycled over users, a new user every len(pool) requests.
func BenchmarkSubmit(b *testing.B) { benchSubmit(b) }

func benchSubmit(b *testing.B) {
	s, _ := newService(b, Options{MaxBacklogBytes: 1 << 40})
	pool := make([][]byte, 64)
	size := 0
	for i := range pool {
		pool[i] = appleBody(i, 2000)
		size += len(pool[i])
	}
	var next atomic.Int64
	b.SetBytes(int64(size / len(pool)))
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1) - 1)
			req := &Request{UserID: "u" + strconv.Itoa(i/len(pool)), Body: pool[i%len(pool)]}
			if _, err := s.Submit(req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSubmitEncryption is BenchmarkSubmit on a plaintext store and on
// encrypted ones, with each cipher suite.
func BenchmarkSubmitEncryption(b *testing.B) {
	eachEncryption(b, benchSubmit)
}

// BenchmarkCompactorEncryption is BenchmarkCompactor likewise.
func BenchmarkCompactorEncryption(b *testing.B) {
	eachEncryption(b, BenchmarkCompactor)
}

func eachEncryption(b *testing.B, fn func(*testing.B)) {
	key := make([]byte, pebblestore.KeySize)
	_, _ = rand.Read(key)
	for _, c := range []struct {
		name  string
		suite byte
	}{{"plain", 0}, {"aes", pebblestore.SuiteAES}, {"chacha", pebblestore.SuiteChaCha}} {
		b.Run(c.name, func(b *testing.B) {
			testStoreOptions = func(o *pebblestore.Options) {
				if c.suite != 0 {
					o.EncryptionKey, o.EncryptionSuite = key, c.suite
				}
			}
			defer func() { testStoreOptions = nil }()
			fn(b)
		})
	}
}
