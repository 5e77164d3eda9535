package pebblestore

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/rs/zerolog"
)

// dayOfHeartRate is a day of 1 Hz heart rate: a random walk between 45 and
// 180 bpm. withIDs gives every sample its own UUID, as HealthKit does;
// without, samples carry the id of their series record and an index, as
// Health Connect's heart rate series do.
func dayOfHeartRate(seed int64, withIDs bool) []Point {
	rng := rand.New(rand.NewSource(seed))
	start := int64(1_767_225_600_000_000) // 2026-01-01T00:00:00Z in µs
	pts := make([]Point, 86_400)
	hr := 70.0
	for i := range pts {
		hr += float64(rng.Intn(5) - 2)
		hr = min(max(hr, 45), 180)
		t := start + int64(i)*1_000_000
		p := Point{Start: t, End: t, Value: hr, Zone: "+01:00"}
		if withIDs {
			p.ExtID = fmt.Sprintf("%08X-%04X-%04X-%04X-%012X", rng.Uint32(), rng.Intn(1<<16), rng.Intn(1<<16), rng.Intn(1<<16), rng.Int63n(1<<48))
		} else {
			p.ExtID = fmt.Sprintf("hc-heart-rate-%d-%d", i/3600, i%3600)
		}
		pts[i] = p
	}
	return pts
}

// diskBytes writes points with write, flushes and compacts everything, and
// returns the bytes of the store's tables.
func diskBytes(t testing.TB, write func(s *Store)) uint64 {
	t.Helper()
	s, err := Open(Options{Dir: t.TempDir(), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	write(s)
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Compact(t.Context(), []byte{0}, []byte{0xff}, true); err != nil {
		t.Fatal(err)
	}
	m := s.db.Metrics()
	var n uint64
	for _, l := range m.Levels {
		n += uint64(l.TablesSize)
	}
	return n
}

// writeBlocks stores points the way the compactor does: a block per
// (user, series, hour, data source), written in batches of 2,000 points.
func writeBlocks(t testing.TB, s *Store, pts []Point) {
	for i := 0; i < len(pts); i += 2000 {
		ib := s.NewIndexBatch()
		for _, p := range pts[i:min(i+2000, len(pts))] {
			ib.AddPoint(7, 1, 3, p)
		}
		if err := ib.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// writeKeyPerPoint is the layout we did not choose: one key per point,
// (user, series, time, source) -> value, zone, ids.
func writeKeyPerPoint(t testing.TB, s *Store, pts []Point) {
	b := s.db.NewBatch()
	for _, p := range pts {
		k := append([]byte{'P'}, be32(7)...)
		k = append(k, 0, 1)
		k = append(k, usec(p.Start)...)
		k = append(k, be32(3)...)
		v := append(be64(uint64(p.Value*1000)), lenPrefixed(nil, p.Zone)...)
		v = lenPrefixed(v, p.ExtID)
		if err := b.Set(k, v, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		t.Fatal(err)
	}
}

// TestBytesPerStoredPoint measures both layouts on a day of 1 Hz heart rate
// and holds the chosen one to the budget of 16 bytes per point. A HealthKit
// sample carries its own random UUID, 16 bytes that no encoding can shrink:
// there the budget is for what the store adds to them.
func TestBytesPerStoredPoint(t *testing.T) {
	for _, withIDs := range []bool{false, true} {
		pts := dayOfHeartRate(1, withIDs)
		blocks := diskBytes(t, func(s *Store) { writeBlocks(t, s, pts) })
		keys := diskBytes(t, func(s *Store) { writeKeyPerPoint(t, s, pts) })
		perBlock := float64(blocks) / float64(len(pts))
		perKey := float64(keys) / float64(len(pts))
		t.Logf("ids per sample %-5v: blocks %.2f B/point, one key per point %.2f B/point", withIDs, perBlock, perKey)
		budget := 16.0
		if withIDs {
			budget += 16
		}
		if perBlock > budget {
			t.Errorf("blocks take %.2f bytes per point, over the budget of %.0f", perBlock, budget)
		}
	}
}

// BenchmarkBytesPerStoredPoint reports the figure for BENCHMARKS.md.
func BenchmarkBytesPerStoredPoint(b *testing.B) {
	for _, withIDs := range []bool{false, true} {
		b.Run(fmt.Sprintf("uuids=%v", withIDs), func(b *testing.B) {
			pts := dayOfHeartRate(1, withIDs)
			var n uint64
			for i := 0; i < b.N; i++ {
				n = diskBytes(b, func(s *Store) { writeBlocks(b, s, pts) })
			}
			b.ReportMetric(float64(n)/float64(len(pts)), "B/point")
		})
	}
}
