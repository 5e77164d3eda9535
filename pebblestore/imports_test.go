package pebblestore

import (
	"testing"
	"time"
)

// TestImportedPointsFillOnly: an imported point never replaces a stored
// point, nor one a sync adds in the same batch; it fills the gaps, and the
// others count as duplicates of its tag.
func TestImportedPointsFillOnly(t *testing.T) {
	s := openStore(t)
	const hour = int64(3600_000_000)
	base := int64(1_767_225_600_000_000)
	ib := s.NewIndexBatch()
	ib.AddPoint(1, 1, 7, Point{Start: base, End: base, Value: 60, ExtID: "synced"})
	if err := ib.Commit(); err != nil {
		t.Fatal(err)
	}
	ib = s.NewIndexBatch()
	ib.AddImportedPoint(1, 1, 7, Point{Start: base, End: base, Value: 99}, 41)               // stored: a duplicate
	ib.AddImportedPoint(1, 1, 7, Point{Start: base + 60e6, End: base + 60e6, Value: 61}, 41) // a gap: stored
	ib.AddPoint(1, 1, 7, Point{Start: base + 120e6, End: base + 120e6, Value: 62, ExtID: "sync"})
	ib.AddImportedPoint(1, 1, 7, Point{Start: base + 120e6, End: base + 120e6, Value: 98}, 42)   // the sync's, same batch
	ib.AddImportedPoint(1, 1, 7, Point{Start: base + 2*hour, End: base + 2*hour, Value: 63}, 42) // a block of its own
	dups, err := ib.Merge()
	if err != nil {
		t.Fatal(err)
	}
	if err := ib.Commit(); err != nil {
		t.Fatal(err)
	}
	if dups[41] != 1 || dups[42] != 1 || len(dups) != 2 {
		t.Fatalf("duplicates %v, want 41:1 42:1", dups)
	}
	var got []float64
	if err := s.SeriesRange(1, 1, base, base+3*hour, func(p *SourcedPoint) bool {
		got = append(got, p.Value)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if want := []float64{60, 61, 62, 63}; len(got) != len(want) || got[0] != 60 || got[1] != 61 || got[2] != 62 || got[3] != 63 {
		t.Fatalf("points %v, want %v", got, want)
	}
}

// TestImportRunMovesAndIsErased: an import's run follows its last chunk,
// and a user's erasure takes the job and the run's pointer.
func TestImportRunMovesAndIsErased(t *testing.T) {
	s := openStore(t)
	b := s.NewBatch()
	u, err := b.CreateUser("u", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	id := [16]byte{1, 2, 3}
	run := &Run{Seq: 5, UserID: "u", UserIID: u.IID, Status: "queued", Source: "import"}
	if err := b.PutRun(run); err != nil {
		t.Fatal(err)
	}
	if err := b.PutImport(&ImportJob{ID: id, UserID: "u", UserIID: u.IID, RunSeq: 5, State: "reading"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	ib := s.NewIndexBatch()
	if err := ib.MoveImportRun(run, id, 9); err != nil {
		t.Fatal(err)
	}
	if err := ib.Commit(); err != nil {
		t.Fatal(err)
	}
	if seq, err := s.ImportRunSeq(u.IID, id); err != nil || seq != 9 {
		t.Fatalf("run pointer %d %v", seq, err)
	}
	if _, err := s.RunBySeq(5); err != ErrNotFound {
		t.Fatalf("the run is still at its first place: %v", err)
	}
	var seqs []uint64
	s.UserRuns(u.IID, func(r *Run) bool { seqs = append(seqs, r.Seq); return true })
	if len(seqs) != 1 || seqs[0] != 9 {
		t.Fatalf("user's runs %v", seqs)
	}
	if _, err := s.DeleteUser(u); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(u.IID, id); err != ErrNotFound {
		t.Fatalf("job after erasure: %v", err)
	}
	if _, err := s.ImportRunSeq(u.IID, id); err != ErrNotFound {
		t.Fatalf("run pointer after erasure: %v", err)
	}
	n := 0
	s.Imports(func(*ImportJob) bool { n++; return true })
	if n != 0 {
		t.Fatalf("%d jobs after erasure", n)
	}
}
