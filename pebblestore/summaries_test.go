package pebblestore

import (
	"fmt"
	"testing"

	"github.com/rs/zerolog"
)

// storeMixed stores two data sources' points of one series over three
// hours: UUID ids, free-form ids, no ids, metadata, several zones, float
// and decimal values.
func storeMixed(t *testing.T) *Store {
	s, err := Open(Options{Dir: t.TempDir(), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ib := s.NewIndexBatch()
	for i := 0; i < 3*60; i++ {
		start := int64(i) * 60e6
		p := Point{Start: start, End: start + 30e6, Value: float64(i) / 4, Zone: []string{"+01:00", "", "-05:30"}[i/50%3]}
		switch i % 4 {
		case 0:
			p.ExtID = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		case 1:
			p.ExtID = fmt.Sprintf("rec-%d", i)
		case 2:
			p.Meta = []byte(`{"a":1}`)
		}
		ib.AddPoint(1, 80, 1, p)
		if i%3 == 0 || i == 179 {
			p.Value = 1.0 / 3
			ib.AddPoint(1, 80, 2, p)
		}
	}
	if err := ib.Commit(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScanSeriesMatchesSeriesRange(t *testing.T) {
	s := storeMixed(t)
	for _, w := range [][2]int64{{0, 3 * hourUsec}, {17 * 60e6, 2*hourUsec + 1}, {hourUsec, hourUsec}, {-hourUsec, 60e6}} {
		var want []SourcedPoint
		if err := s.SeriesRange(1, 80, w[0], w[1], func(sp *SourcedPoint) bool { want = append(want, *sp); return true }); err != nil {
			t.Fatal(err)
		}
		got := map[[2]int64]LeanPoint{}
		n := 0
		err := s.ScanSeries(1, 80, w[0], w[1], func(b *LeanBlock) bool {
			zi, zn := 0, 0
			for i := range b.Start {
				for zn == b.Zones[zi].N {
					zi, zn = zi+1, 0
				}
				zn++
				got[[2]int64{int64(b.SID), b.Start[i]}] = LeanPoint{b.Start[i], b.End[i], b.Value[i], b.Zones[zi].Zone, b.Plain[i]}
				n++
			}
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != len(want) {
			t.Fatalf("window %v: %d points, want %d", w, n, len(want))
		}
		for _, sp := range want {
			g := got[[2]int64{int64(sp.SID), sp.Start}]
			plain := sp.ExtID == "" && sp.ParentID == "" && len(sp.Meta) == 0
			if g.End != sp.End || g.Value != sp.Value || g.Zone != sp.Zone || g.Plain != plain {
				t.Errorf("point %d/%d: %+v, want %+v", sp.SID, sp.Start, g, sp.Point)
			}
		}
	}
}

// LeanPoint is one point as the test reads it from a LeanBlock.
type LeanPoint struct {
	Start, End int64
	Value      float64
	Zone       string
	Plain      bool
}

func TestLatestPointsAndCounts(t *testing.T) {
	s := storeMixed(t)
	last := int64(179) * 60e6
	pts, err := s.LatestPoints(1, 80, 0, 3*hourUsec)
	if err != nil || len(pts) != 2 || pts[0].Start != last || pts[1].Start != last {
		t.Fatalf("latest: %v %+v", err, pts)
	}
	// Before the last point: the one before it, source 1 only.
	pts, _ = s.LatestPoints(1, 80, 0, last)
	if len(pts) != 1 || pts[0].Start != last-60e6 || pts[0].SID != 1 {
		t.Errorf("latest before the last: %+v", pts)
	}
	// Across an hour with nothing in the window's part of it.
	pts, _ = s.LatestPoints(1, 80, 0, hourUsec+1)
	if len(pts) != 2 || pts[0].Start != hourUsec {
		t.Errorf("latest of the first hour and a µs: %+v", pts)
	}
	if pts, _ := s.LatestPoints(1, 80, 3*hourUsec, 4*hourUsec); len(pts) != 0 {
		t.Errorf("empty window: %+v", pts)
	}
	c, err := s.SeriesCountBySource(1, 80, 30*60e6, 3*hourUsec)
	if err != nil || c[1] != 150 || c[2] != 51 {
		t.Errorf("counts %v %v", c, err)
	}
}
