package codec

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// validated is what the queued form keeps of a decoded batch: the kept
// items with their parsed values, without the wire's raw fields and the
// error lists, empty byte strings as nil.
func validated(b *Batch) *Batch {
	c := &Batch{Provider: b.Provider, SDKVersion: b.SDKVersion, SyncTimestamp: b.SyncTimestamp, Dropped: b.Dropped}
	raw := func(m []byte) []byte {
		if len(m) == 0 {
			return nil
		}
		return m
	}
	plain := func(s span) span {
		return span{ID: s.ID, ParentID: s.ParentID, Source: s.Source, Metadata: raw(s.Metadata),
			Start: s.Start, End: s.End, ZoneOffset: s.ZoneOffset}
	}
	for _, r := range b.Records {
		c.Records = append(c.Records, Record{span: plain(r.span), Type: r.Type, Unit: r.Unit, Value: r.Value})
	}
	for _, s := range b.Sleep {
		c.Sleep = append(c.Sleep, SleepStage{span: plain(s.span), Stage: s.Stage, Values: raw(s.Values)})
	}
	for _, w := range b.Workouts {
		cw := Workout{span: plain(w.span), Type: w.Type, Title: w.Title, Notes: w.Notes,
			Segments: raw(w.Segments), Laps: raw(w.Laps), Route: raw(w.Route), Samples: raw(w.Samples)}
		for _, st := range w.Values {
			cw.Values = append(cw.Values, WorkoutStatistic{Type: st.Type, Unit: st.Unit, Value: st.Value})
		}
		c.Workouts = append(c.Workouts, cw)
	}
	return c
}

// checkQueued requires the queued form of b to decode to b's validated
// content, to be deterministic, and every truncation of it to be refused.
func checkQueued(t *testing.T, b *Batch) []byte {
	t.Helper()
	q := b.AppendQueued(nil)
	got, err := DecodeQueued(q)
	if err != nil {
		t.Fatalf("DecodeQueued of AppendQueued: %v", err)
	}
	if want := validated(b); !reflect.DeepEqual(validated(got), want) {
		g, _ := json.Marshal(validated(got))
		w, _ := json.Marshal(want)
		t.Fatalf("queued form round trip differs:\n got %s\nwant %s", g, w)
	}
	if q2 := got.AppendQueued(nil); !bytes.Equal(q, q2) {
		t.Fatalf("queued form is not deterministic: %d then %d bytes", len(q), len(q2))
	}
	return q
}

func TestQueuedFormRoundTripsFixtures(t *testing.T) {
	for _, name := range fixtureNames(t) {
		b, err := DecodeSync(readFixture(t, name), 0)
		if err != nil {
			continue // not a sync body, or one rejected whole
		}
		t.Run(name, func(t *testing.T) {
			q := checkQueued(t, b)
			for n := range len(q) {
				if _, err := DecodeQueued(q[:n]); err == nil {
					t.Fatalf("a truncation to %d of %d bytes decodes", n, len(q))
				}
			}
		})
	}
}

func TestQueuedFormKeepsEverything(t *testing.T) {
	src := `{"name":"Watch","deviceModel":"Watch7,1","operating_system_version":{"majorVersion":11,"minorVersion":2,"patchVersion":0},"bundle_identifier":"com.apple.health"}`
	body := syncBody(
		[]string{
			record("id", "A1", "parentId", "P", "startDate", "1969-07-20T20:17:40.5Z", "endDate", "1969-07-20T20:17:41Z",
				"zoneOffset", "-05:00", "source", json.RawMessage(src), "metadata", json.RawMessage(`{"k":[1,2]}`)),
			record("type", "SomethingNew", "unit", "zz", "value", "61.25", "startDate", 1.7e9),
			record("value", -0.0, "zoneOffset", "bad"),
		},
		[]string{sleepItem("stage", "deep", "values", json.RawMessage(`{"x":1}`), "source", json.RawMessage(src))},
		[]string{workoutItem("title", "Run", "notes", "n", "route", json.RawMessage(`[{"lat":1}]`),
			"samples", json.RawMessage(`[1]`), "laps", json.RawMessage(`[]`), "segments", json.RawMessage(`[{}]`))},
	)
	b := mustDecode(t, body, 0)
	if b.Items() != 5 {
		t.Fatalf("fixture: %d items kept, want 5 (dropped %v)", b.Items(), b.Errors)
	}
	q := checkQueued(t, b)
	got, _ := DecodeQueued(q)
	if s := got.Records[0].Source; s == nil || s.BundleIdentifier != "com.apple.health" || s.OperatingSystemVersion == nil ||
		s.OperatingSystemVersion.Minor != 2 {
		t.Fatalf("source not kept: %+v", s)
	}
	if got.Sleep[0].Source != got.Records[0].Source {
		t.Fatal("one source is written twice")
	}
	if got.Records[0].Start.Nanosecond() != 5e8 || got.Records[0].Start.Year() != 1969 {
		t.Fatalf("start %v", got.Records[0].Start)
	}
	if len(q) >= len(body) {
		t.Fatalf("queued form %d bytes, body %d", len(q), len(body))
	}
}

func TestDecodeQueuedRefusesDamage(t *testing.T) {
	b := mustDecode(t, readFixture(t, "apple_sdk_import__sample_sdk_payload.json"), 0)
	q := b.AppendQueued(nil)
	for _, bad := range [][]byte{nil, {}, {2}, append(bytes.Clone(q), 0)} {
		if _, err := DecodeQueued(bad); err == nil {
			t.Fatalf("%x decodes", bad[:min(len(bad), 8)])
		}
	}
}

func FuzzDecodeQueued(f *testing.F) {
	for _, s := range fuzzSeeds {
		if b, err := DecodeSync([]byte(s), 0); err == nil {
			f.Add(b.AppendQueued(nil))
		}
	}
	f.Fuzz(func(t *testing.T, q []byte) {
		b, err := DecodeQueued(q)
		if err != nil {
			return
		}
		// Whatever decodes encodes to something that decodes the same.
		b2, err := DecodeQueued(b.AppendQueued(nil))
		if err != nil {
			t.Fatalf("re-encoded form does not decode: %v", err)
		}
		if !reflect.DeepEqual(validated(b), validated(b2)) {
			t.Fatal("re-encoded form decodes differently")
		}
	})
}
