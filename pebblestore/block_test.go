package pebblestore

import (
	"math/rand"
	"reflect"
	"testing"
)

func TestBlockRoundTrip(t *testing.T) {
	const base = int64(1_767_225_600_000_000) // an hour boundary, in µs
	rng := rand.New(rand.NewSource(1))
	cases := map[string][]Point{
		"empty":      {},
		"one":        {{Start: base + 5, End: base + 5, Value: 61}},
		"1 Hz heart": nil,
		"mixed": {
			{Start: base, End: base + 1_000_000, Value: 0.304, Zone: "+01:00", ExtID: "A1B2", ParentID: "p", Meta: []byte(`{"k":1}`)},
			{Start: base + 7, End: base + 7, Value: 110.10922, Zone: "-05:00", ExtID: "A1B3"},
			{Start: base + 3_599_999_999, End: base + 3_700_000_000, Value: -1e300},
		},
		"uuids": {{Start: base, End: base, Value: 1, ExtID: "3F2504E0-4F89-11D3-9A0C-0305E82C3301", ParentID: "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
			{Start: base + 1, End: base + 1, Value: 2, ExtID: "00000000-0000-0000-0000-000000000000", ParentID: "abcdefab-cdef-abcd-efab-cdefabcdefab"}},
		"mixed uuid case": {{Start: base, End: base, Value: 1, ExtID: "3F2504E0-4F89-11D3-9A0C-0305E82C3301"},
			{Start: base + 1, End: base + 1, Value: 2, ExtID: "3f2504e0-4f89-11d3-9a0c-0305e82c3301"}},
		"fractions": {{Start: base, End: base, Value: 61.5}, {Start: base + 1, End: base + 1, Value: 0.1}, {Start: base + 2, End: base + 2, Value: 175.26}},
	}
	var hr []Point
	for i := 0; i < 3600; i++ {
		s := base + int64(i)*1_000_000
		hr = append(hr, Point{Start: s, End: s, Value: float64(55 + rng.Intn(40)), Zone: "+02:00",
			ExtID: "3F2504E0-4F89-11D3-9A0C-0305E82C3301-" + string(rune('a'+i%26))})
	}
	cases["1 Hz heart"] = hr
	for name, pts := range cases {
		b := encodeBlock(base, pts)
		got, err := decodeBlock(base, b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(pts) == 0 && len(got) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, pts) {
			t.Errorf("%s: round trip differs:\n got %+v\nwant %+v", name, got[:min(3, len(got))], pts[:min(3, len(pts))])
		}
		if name == "1 Hz heart" {
			t.Logf("1 Hz heart rate: %d bytes for %d points (%.2f bytes/point before compression)", len(b), len(pts), float64(len(b))/float64(len(pts)))
		}
	}
}

func TestBlockRejectsGarbage(t *testing.T) {
	good := encodeBlock(0, []Point{{Start: 1, End: 2, Value: 3, ExtID: "x"}})
	for i := 0; i < len(good); i++ {
		if _, err := decodeBlock(0, good[:i]); err == nil {
			t.Errorf("truncated at %d: no error", i)
		}
	}
}

func TestMergeReplacesByStart(t *testing.T) {
	stored := []Point{{Start: 1, Value: 1}, {Start: 3, Value: 3}}
	in := []Point{{Start: 3, Value: 30}, {Start: 2, Value: 2}, {Start: 2, Value: 20}}
	got := mergePoints(stored, in)
	want := []Point{{Start: 1, Value: 1}, {Start: 2, Value: 20}, {Start: 3, Value: 30}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merge = %+v", got)
	}
	// Merging the same points again changes nothing.
	if again := mergePoints(got, in); !reflect.DeepEqual(again, want) {
		t.Errorf("replayed merge = %+v", again)
	}
}

func FuzzDecodeBlock(f *testing.F) {
	f.Add(encodeBlock(0, []Point{{Start: 1, End: 2, Value: 3.5, Zone: "+01:00", ExtID: "x", ParentID: "y", Meta: []byte("{}")}}))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		pts, err := decodeBlock(0, b)
		if err != nil {
			return
		}
		// Whatever decodes must re-encode and decode to the same points.
		again, err := decodeBlock(0, encodeBlock(0, pts))
		if err != nil || len(again) != len(pts) {
			t.Fatalf("re-encode: %v (%d vs %d points)", err, len(again), len(pts))
		}
	})
}

func TestUUIDCaseAndBytes(t *testing.T) {
	for s, want := range map[string]byte{
		"3F2504E0-4F89-11D3-9A0C-0305E82C3301":  2,
		"3f2504e0-4f89-11d3-9a0c-0305e82c3301":  3,
		"12345678-1234-1234-1234-123456789012":  2,
		"3F2504e0-4F89-11D3-9A0C-0305E82C3301":  0, // mixed within one id
		"3G2504E0-4F89-11D3-9A0C-0305E82C3301":  0,
		"3F2504E0-4F89-11D3-9A0C-0305E82C330":   0,
		"3F2504E0-4F89-11D3-9A0C-0305E82C33011": 0,
		"3F2504E04-F89-11D3-9A0C-0305E82C3301":  0,
		"3F2504E0-4F89-11D3-9A0C-0305E82C330 ":  0,
	} {
		if got := uuidCase(s); got != want {
			t.Errorf("uuidCase(%q) = %d, want %d", s, got, want)
		}
		if want != 0 {
			if back := FormatUUID(appendUUID(nil, s), want == 3); back != s {
				t.Errorf("%q comes back as %q", s, back)
			}
		}
	}
}
