package pebblestore

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func openStoreAt(t *testing.T, dir string, o Options) *Store {
	t.Helper()
	o.Dir, o.Logger = dir, zerolog.Nop()
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const hourOfMarch = int64(1_772_323_200_000_000) // 2026-03-01T00:00:00Z in µs

// addPoints indexes one point per series for a user.
func addPoints(t *testing.T, s *Store, user uint32, series ...uint16) {
	t.Helper()
	ib := s.NewIndexBatch()
	for i, id := range series {
		ib.AddPoint(user, id, 1, Point{Start: hourOfMarch + int64(i), End: hourOfMarch + int64(i), Value: float64(id)})
	}
	if err := ib.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestLegacyCustomSeriesReadAfterUpgrade: a store written by a release with
// one store-wide dictionary of unmapped types (ids shared by every user,
// points indexed under them) reads back the same after the upgrade, and
// new types of each user get ids of their own that collide with none of
// the user's old ones.
func TestLegacyCustomSeriesReadAfterUpgrade(t *testing.T) {
	dir := t.TempDir()
	s := openStoreAt(t, dir, Options{})
	// The old layout, as the earlier release wrote it.
	legacy := []struct {
		id        uint16
		typ, unit string
	}{{1000, "HKQuantityTypeIdentifierA", "mL"}, {1001, "HKQuantityTypeIdentifierB", "count"}, {1002, "HKQuantityTypeIdentifierC", "%"}}
	b := s.db.NewBatch()
	for _, l := range legacy {
		idb := []byte{byte(l.id >> 8), byte(l.id)}
		b.Set(key(prefixSeriesType, []byte(l.typ)), append(idb, l.unit...), nil)
		b.Set(key(prefixTypeByID, idb), []byte(l.typ+"\x00"+l.unit), nil)
	}
	if err := b.Commit(nil); err != nil {
		t.Fatal(err)
	}
	addPoints(t, s, 1, 1, 1000, 1002) // user 1: heart rate, A and C
	addPoints(t, s, 2, 1001)          // user 2: B
	s.Close()

	for reopen := 0; reopen < 2; reopen++ {
		s = openStoreAt(t, dir, Options{})
		for _, c := range []struct {
			user      uint32
			id        uint16
			typ, unit string
		}{{1, 1000, legacy[0].typ, "mL"}, {1, 1002, legacy[2].typ, "%"}, {2, 1001, legacy[1].typ, "count"}} {
			typ, unit, err := s.CustomSeries(c.user, c.id)
			if err != nil || typ != c.typ || unit != c.unit {
				t.Errorf("reopen %d: user %d series %d = %q %q (%v), want %q %q", reopen, c.user, c.id, typ, unit, err, c.typ, c.unit)
			}
			if id, err := s.CustomSeriesID(c.user, c.typ); err != nil || id != c.id {
				t.Errorf("reopen %d: user %d type %s = %d (%v), want %d", reopen, c.user, c.typ, id, err, c.id)
			}
			if n, err := s.SeriesCount(c.user, c.id, hourOfMarch, hourOfMarch+hourUsec); err != nil || n != 1 {
				t.Errorf("reopen %d: user %d series %d has %d points (%v)", reopen, c.user, c.id, n, err)
			}
		}
		if _, _, err := s.CustomSeries(1, 1001); reopen == 0 && !errors.Is(err, ErrNotFound) {
			t.Errorf("user 1 has series 1001 (%v); it has no points under it", err)
		}
		var left []string
		s.Each(func(k, _ []byte) error {
			if k[0] == prefixSeriesType || k[0] == prefixTypeByID {
				left = append(left, fmt.Sprintf("%q", k))
			}
			return nil
		})
		if len(left) > 0 {
			t.Errorf("reopen %d: the store-wide dictionary is still there: %v", reopen, left)
		}
		if reopen == 1 {
			break
		}
		// New types after the upgrade: the lowest ids each user has free.
		ib := s.NewIndexBatch()
		got := map[string]uint16{}
		for _, c := range []struct {
			user uint32
			typ  string
		}{{1, "new-1"}, {1, legacy[1].typ}, {2, "new-2"}, {1, "new-1"}} {
			id, err := ib.CustomSeries(c.user, c.typ, "u")
			if err != nil {
				t.Fatal(err)
			}
			got[fmt.Sprint(c.user, c.typ)] = id
		}
		if err := ib.Commit(); err != nil {
			t.Fatal(err)
		}
		want := map[string]uint16{"1new-1": 1001, "1" + legacy[1].typ: 1003, "2new-2": 1000}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("new ids %v, want %v", got, want)
		}
		s.Close()
	}
	defer s.Close()
	if typ, _, err := s.CustomSeries(1, 1003); err != nil || typ != legacy[1].typ {
		t.Errorf("user 1 series 1003 = %q (%v) after a restart", typ, err)
	}
}

// TestDictionaryLimitsPerUser: a user at a limit gets a *LimitError for a
// new entry, keeps the entries they have, and leaves other users alone.
func TestDictionaryLimitsPerUser(t *testing.T) {
	s := openStoreAt(t, t.TempDir(), Options{MaxSourcesPerUser: 2, MaxCustomSeriesPerUser: 3})
	defer s.Close()
	for round := 0; round < 2; round++ { // within a batch, then across batches
		ib := s.NewIndexBatch()
		for i := 0; i < 3; i++ {
			_, err := ib.CustomSeries(1, fmt.Sprint("t", i), "")
			if err != nil {
				t.Fatal(err)
			}
		}
		var le *LimitError
		if _, err := ib.CustomSeries(1, "t3", ""); !errors.As(err, &le) || le.Limit != 3 {
			t.Errorf("round %d: a fourth type: %v, want a limit of 3", round, err)
		}
		for i := 0; i < 2; i++ {
			if _, err := ib.DataSource(SourceRecord{UserIID: 1, Provider: "apple", SourceName: fmt.Sprint("s", i)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := ib.DataSource(SourceRecord{UserIID: 1, Provider: "apple", SourceName: "s2"}); !errors.As(err, &le) || le.Limit != 2 {
			t.Errorf("round %d: a third source: %v, want a limit of 2", round, err)
		}
		if _, err := ib.CustomSeries(2, "t3", ""); err != nil {
			t.Errorf("round %d: another user: %v", round, err)
		}
		if _, err := ib.DataSource(SourceRecord{UserIID: 2, Provider: "apple", SourceName: "s2"}); err != nil {
			t.Errorf("round %d: another user's source: %v", round, err)
		}
		if err := ib.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := (&Options{Dir: "x", MaxCustomSeriesPerUser: MaxCustomSeriesPerUser + 1}).Validate(); err == nil {
		t.Error("a custom series limit past the id space is accepted")
	}
}

// TestCustomSeriesIDsNeverRunOut: every user can fill the limit however
// many types other users have; the largest limit is the whole id space.
func TestCustomSeriesIDsNeverRunOut(t *testing.T) {
	s := openStoreAt(t, t.TempDir(), Options{MaxCustomSeriesPerUser: MaxCustomSeriesPerUser})
	defer s.Close()
	for user := uint32(1); user <= 2; user++ {
		ib := s.NewIndexBatch()
		for i := 0; i < MaxCustomSeriesPerUser; i++ {
			id, err := ib.CustomSeries(user, fmt.Sprint("type-", i), "")
			if err != nil || int(id) != FirstCustomSeries+i {
				t.Fatalf("user %d type %d: id %d (%v)", user, i, id, err)
			}
		}
		var le *LimitError
		if _, err := ib.CustomSeries(user, "one too many", ""); !errors.As(err, &le) {
			t.Fatalf("user %d past the id space: %v", user, err)
		}
		if err := ib.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDeleteUserErasesDictionaries: nothing of an erased user's
// dictionaries is left.
func TestDeleteUserErasesDictionaries(t *testing.T) {
	s := openStoreAt(t, t.TempDir(), Options{})
	defer s.Close()
	b := s.NewBatch()
	u, err := b.CreateUser("erased", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	ib := s.NewIndexBatch()
	sid, err := ib.DataSource(SourceRecord{UserIID: u.IID, Provider: "apple", SourceName: "Watch"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := ib.CustomSeries(u.IID, "HKQuantityTypeIdentifierSecret", "mL")
	if err != nil {
		t.Fatal(err)
	}
	ib.AddPoint(u.IID, id, sid, Point{Start: hourOfMarch, End: hourOfMarch, Value: 1})
	if err := ib.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteUser(u); err != nil {
		t.Fatal(err)
	}
	s.Each(func(k, v []byte) error {
		if bytes.Contains(k, []byte("Secret")) || bytes.Contains(v, []byte("Secret")) {
			t.Errorf("left after erasure: %q = %q", k, v)
		}
		return nil
	})
}
