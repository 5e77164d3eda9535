package query

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

// The years a time query parameter or a cursor can name in RFC 3339.
var (
	year0    = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	year9999 = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// A cursor the code made decodes back to the same position, whatever the
// time and the id (a timeseries id is "series:source", a workout's or a
// sleep session's is theirs).
func FuzzCursorRoundTrip(f *testing.F) {
	for _, s := range []struct {
		t  time.Time
		id string
	}{
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "3:17"},
		{time.Date(2026, 1, 1, 7, 30, 0, 123456000, time.FixedZone("", 2*3600)), "0:4294967295"},
		{time.Unix(0, 0), "a3f0c1d2e4b5a6978"},
		{time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC), ""},
		{time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), "id|with|bars"},
	} {
		f.Add(s.t.UnixNano(), s.id)
	}
	f.Fuzz(func(t *testing.T, ns int64, id string) {
		at := time.Unix(0, ns)
		c := encodeCursor(at, id)
		gotT, gotID, err := decodeCursor(*c)
		if err != nil || !gotT.Equal(at) || gotID != id {
			t.Fatalf("cursor %q of (%s, %q) decodes to (%s, %q, %v)", *c, at.UTC().Format(time.RFC3339Nano), id, gotT, gotID, err)
		}
	})
}

// Any cursor a client sends is refused with a query error or decodes to a
// position that, encoded again, decodes to the same position.
func FuzzDecodeCursor(f *testing.F) {
	for _, c := range []string{
		*encodeCursor(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "3:17"),
		*encodeCursor(time.Date(2026, 1, 1, 0, 0, 0, 5, time.UTC), "w1"),
		*encodeCursor(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), "") + "==",
		"MjAyNi0wMS0wMVQwMDowMDowMFp8MzoxNw", "prev_MjAyNi0wMS0wMVQwMDowMFo", "", "!!", "fA", "=",
	} {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, c string) {
		at, id, err := decodeCursor(c)
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) || qe.Detail == "" {
				t.Fatalf("cursor %q: %v, not a query error", c, err)
			}
			return
		}
		again := encodeCursor(at, id)
		at2, id2, err := decodeCursor(*again)
		if err != nil || !at2.Equal(at) || id2 != id {
			t.Fatalf("cursor %q decodes to (%s, %q); encoded again, %q decodes to (%s, %q, %v)", c, at, id, *again, at2, id2, err)
		}
	})
}

// An accepted time parameter is UTC (a bare date is midnight UTC), lies in
// the years RFC 3339 can name, and its RFC 3339 form is accepted as the
// same instant; Unix seconds are that many seconds from the epoch; the end
// of a bare date's day is a day after its start.
func FuzzParseTime(f *testing.F) {
	for _, v := range []string{
		"2026-01-01T00:00:00Z", "2026-01-01T10:00:00.123456+02:00", "2026-01-01T10:00:00 02:00",
		"2026-01-01T10:00:00.5", "2026-01-01T10:00", "2026-01-01", "1767225600", "1767225600.25",
		"-1", "0", "", "2026-13-01", "1e9", "now",
	} {
		f.Add(v, false)
		f.Add(v, true)
	}
	f.Fuzz(func(t *testing.T, v string, endOfDay bool) {
		got, err := ParseTime("start_time", v, endOfDay)
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) || qe.Detail == "" {
				t.Fatalf("%q: %v, not a query error", v, err)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Errorf("%q: %s is not UTC", v, got)
		}
		if got.Before(year0) || got.After(year9999.AddDate(0, 0, 1)) {
			t.Fatalf("%q accepted as %s, outside the years 0 to 9999", v, got)
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && !got.Equal(time.Unix(n, 0)) {
			t.Errorf("%q seconds accepted as %s", v, got)
		}
		if !got.After(year9999) {
			back, err := ParseTime("start_time", got.Format(time.RFC3339Nano), endOfDay)
			if err != nil || !back.Equal(got) {
				t.Errorf("%q accepted as %s, whose RFC 3339 form parses to %s (%v)", v, got, back, err)
			}
		}
		if d, err := time.Parse("2006-01-02", v); err == nil {
			want := d
			if endOfDay {
				want = d.AddDate(0, 0, 1)
			}
			if !got.Equal(want) {
				t.Errorf("date %q (end of day %v) accepted as %s, want %s", v, endOfDay, got, want)
			}
		}
	})
}
