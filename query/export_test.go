package query

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/health"
	"wearhouse/pebblestore"
)

// openStore opens a store in a temporary directory, closed when the test
// ends, with the users "u1" and "u2", of internal ids 1 and 2.
func openStore(t testing.TB) (*pebblestore.Store, *Service) {
	t.Helper()
	s, err := pebblestore.Open(pebblestore.Options{Dir: t.TempDir(), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b := s.NewBatch()
	for i, id := range []string{"u1", "u2"} {
		if u, err := b.CreateUser(id, time.Now(), nil); err != nil || u.IID != uint32(i+1) {
			t.Fatalf("user %s: %v", id, err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	return s, New(s)
}

// putWorkout stores a running workout of user u1 with the route as given
// (nil for none) and returns its id.
func putWorkout(t *testing.T, s *pebblestore.Store, start time.Time, route string) string {
	t.Helper()
	main, err := pebblestore.EncodeWorkout(&pebblestore.WorkoutRecord{Type: "running", Title: "Park <loop> & back", DurationSeconds: 1800})
	if err != nil {
		t.Fatal(err)
	}
	var parts [5][]byte
	parts[pebblestore.PartWorkout] = main
	if route != "" {
		parts[pebblestore.PartRoute] = []byte(route)
	}
	return putRawWorkout(t, s, start, parts)
}

// gpxTrackOf is the part of a GPX file the tests look at.
type gpxTrackOf struct {
	XMLName  xml.Name `xml:"http://www.topografix.com/GPX/1/1 gpx"`
	Metadata struct {
		Name   string `xml:"name"`
		Bounds struct {
			MinLat float64 `xml:"minlat,attr"`
			MinLon float64 `xml:"minlon,attr"`
			MaxLat float64 `xml:"maxlat,attr"`
			MaxLon float64 `xml:"maxlon,attr"`
		} `xml:"bounds"`
	} `xml:"metadata"`
	Trk struct {
		Name   string `xml:"name"`
		Desc   string `xml:"desc"`
		Type   string `xml:"type"`
		Trkseg struct {
			Trkpt []struct {
				Lat  string  `xml:"lat,attr"`
				Lon  string  `xml:"lon,attr"`
				Ele  *string `xml:"ele"`
				Time *string `xml:"time"`
			} `xml:"trkpt"`
		} `xml:"trkseg"`
	} `xml:"trk"`
}

func TestWorkoutGPXPointsOrderAndSkips(t *testing.T) {
	s, q := openStore(t)
	start := time.Date(2026, 2, 24, 6, 0, 0, 0, time.UTC)
	// Sent out of order, with points to skip: no latitude, null longitude,
	// out of range, a string latitude; one without a timestamp, which
	// stays after the point sent before it; one at a tiny latitude that
	// must not be written with an exponent.
	id := putWorkout(t, s, start, `[
		{"timestamp":"2026-02-24T06:03:00Z","latitude":52.3,"longitude":21.3,"altitudeM":150.5},
		{"timestamp":"2026-02-24T06:01:00Z","latitude":52.1,"longitude":21.1,"altitudeM":null},
		{"latitude":52.15,"longitude":-21.15},
		{"timestamp":"2026-02-24T06:02:00.250Z","latitude":0.0000001,"longitude":-180,"altitudeM":-3},
		{"timestamp":"2026-02-24T06:04:00Z","longitude":21.4},
		{"timestamp":"2026-02-24T06:05:00Z","latitude":52.5,"longitude":null},
		{"timestamp":"2026-02-24T06:06:00Z","latitude":90.5,"longitude":21.6},
		{"timestamp":"2026-02-24T06:07:00Z","latitude":52.7,"longitude":180.01},
		{"timestamp":"2026-02-24T06:08:00Z","latitude":"52.8","longitude":21.8},
		"not a point"
	]`)
	b, err := q.WorkoutGPX("u1", id)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(xml.Header)) {
		t.Errorf("no XML declaration: %.60s", b)
	}
	var g gpxTrackOf
	if err := xml.Unmarshal(b, &g); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	type pt struct{ lat, lon, ele, time string }
	var got []pt
	for _, p := range g.Trk.Trkseg.Trkpt {
		x := pt{lat: p.Lat, lon: p.Lon}
		if p.Ele != nil {
			x.ele = *p.Ele
		}
		if p.Time != nil {
			x.time = *p.Time
		}
		got = append(got, x)
	}
	want := []pt{
		{"52.1", "21.1", "", "2026-02-24T06:01:00Z"},
		{"52.15", "-21.15", "", ""},
		{"0.0000001", "-180", "-3", "2026-02-24T06:02:00.25Z"},
		{"52.3", "21.3", "150.5", "2026-02-24T06:03:00Z"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("points\n got %v\nwant %v", got, want)
	}
	if g.Trk.Name != "running 2026-02-24T06:00:00Z" || g.Trk.Type != "running" || g.Trk.Desc != "Park <loop> & back" ||
		g.Metadata.Name != g.Trk.Name {
		t.Errorf("track %q %q %q, metadata %q", g.Trk.Name, g.Trk.Type, g.Trk.Desc, g.Metadata.Name)
	}
	bd := g.Metadata.Bounds
	if bd.MinLat != 0.0000001 || bd.MaxLat != 52.3 || bd.MinLon != -180 || bd.MaxLon != 21.3 {
		t.Errorf("bounds %+v", bd)
	}
}

func TestWorkoutGPXNotFoundAndNoRoute(t *testing.T) {
	s, q := openStore(t)
	start := time.Date(2026, 2, 24, 6, 0, 0, 0, time.UTC)
	none := putWorkout(t, s, start, "")
	empty := putWorkout(t, s, start.Add(time.Hour), `[]`)
	invalid := putWorkout(t, s, start.Add(2*time.Hour), `[{"latitude":91,"longitude":0},{"latitude":null,"longitude":1}]`)
	notArray := putWorkout(t, s, start.Add(3*time.Hour), `{"latitude":1,"longitude":1}`)
	for name, id := range map[string]string{"none": none, "empty": empty, "invalid": invalid, "not an array": notArray} {
		if _, err := q.WorkoutGPX("u1", id); !errors.Is(err, ErrNoRoute) {
			t.Errorf("%s: %v, want ErrNoRoute", name, err)
		}
	}
	for _, c := range []struct{ user, id string }{
		{"u1", "zz"}, {"u1", "00ff"}, {"u1", none[:len(none)-1] + "f"},
		{"u2", none},     // another user's workout
		{"nobody", none}, // an unknown user
	} {
		if _, err := q.WorkoutGPX(c.user, c.id); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of user %s: %v, want ErrNotFound", c.id, c.user, err)
		}
	}
}

// storeSeries stores points of two series from two data sources of user u1:
// heart rate from both sources every minute (ties on every timestamp),
// steps from the first every other minute, for n minutes from start.
func storeSeries(t *testing.T, s *pebblestore.Store, start time.Time, n int) {
	t.Helper()
	ib := s.NewIndexBatch()
	watch, err := ib.DataSource(pebblestore.SourceRecord{UserIID: 1, Provider: "apple", DeviceModel: "Watch7,1", SourceName: `Jo's "Watch", 2`})
	if err != nil {
		t.Fatal(err)
	}
	phone, err := ib.DataSource(pebblestore.SourceRecord{UserIID: 1, Provider: "apple", DeviceModel: "iPhone15,2"})
	if err != nil {
		t.Fatal(err)
	}
	hr, _ := health.SeriesByCode("heart_rate")
	steps, _ := health.SeriesByCode("steps")
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * time.Minute).UnixMicro()
		ib.AddPoint(1, hr.ID, watch, pebblestore.Point{Start: at, End: at, Value: float64(60 + i%40), Zone: "+01:00"})
		ib.AddPoint(1, hr.ID, phone, pebblestore.Point{Start: at, End: at, Value: float64(61 + i%40)})
		if i%2 == 0 {
			ib.AddPoint(1, steps.ID, watch, pebblestore.Point{Start: at, End: at + 60e6, Value: float64(i) + 0.5, Zone: "+01:00"})
		}
	}
	if err := ib.Commit(); err != nil {
		t.Fatal(err)
	}
}

func exportCSV(t *testing.T, q *Service, user string, p CSVParams) [][]string {
	t.Helper()
	write, err := q.TimeseriesCSV(user, p)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != "timestamp,type,value,unit,zone_offset,provider,source,device" {
		t.Fatalf("header %v", rows)
	}
	return rows[1:]
}

func TestTimeseriesCSVRowsAndOrder(t *testing.T) {
	s, q := openStore(t)
	start := time.Date(2026, 3, 1, 23, 58, 0, 0, time.UTC)
	storeSeries(t, s, start, 4)
	rows := exportCSV(t, q, "u1", CSVParams{Start: start, End: start.Add(3 * time.Minute)})
	want := [][]string{
		{"2026-03-01T23:58:00Z", "heart_rate", "60", "bpm", "+01:00", "apple", `Jo's "Watch", 2`, "Watch7,1"},
		{"2026-03-01T23:58:00Z", "heart_rate", "61", "bpm", "", "apple", "", "iPhone15,2"},
		{"2026-03-01T23:58:00Z", "steps", "0.5", "count", "+01:00", "apple", `Jo's "Watch", 2`, "Watch7,1"},
		{"2026-03-01T23:59:00Z", "heart_rate", "61", "bpm", "+01:00", "apple", `Jo's "Watch", 2`, "Watch7,1"},
		{"2026-03-01T23:59:00Z", "heart_rate", "62", "bpm", "", "apple", "", "iPhone15,2"},
		{"2026-03-02T00:00:00Z", "heart_rate", "62", "bpm", "+01:00", "apple", `Jo's "Watch", 2`, "Watch7,1"},
		{"2026-03-02T00:00:00Z", "heart_rate", "63", "bpm", "", "apple", "", "iPhone15,2"},
		{"2026-03-02T00:00:00Z", "steps", "2.5", "count", "+01:00", "apple", `Jo's "Watch", 2`, "Watch7,1"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("rows\n got %q\nwant %q", rows, want)
	}
	if got := exportCSV(t, q, "u1", CSVParams{Start: start, End: start.Add(time.Hour), Types: []string{"steps", "nope", "steps"}}); len(got) != 2 {
		t.Errorf("steps only: %q", got)
	}
	if got := exportCSV(t, q, "u1", CSVParams{Start: start.Add(time.Hour), End: start.Add(2 * time.Hour)}); len(got) != 0 {
		t.Errorf("empty window: %q", got)
	}
	if got := exportCSV(t, q, "nobody", CSVParams{Start: start, End: start.Add(time.Hour)}); len(got) != 0 {
		t.Errorf("unknown user: %q", got)
	}
	if _, err := q.TimeseriesCSV("u1", CSVParams{Start: start, End: start}); err == nil {
		t.Error("an empty window was accepted")
	}
}

// TestTimeseriesCSVChunks exports more points than a chunk, with two data
// sources tied on every timestamp, and checks that every point comes out
// once, in order.
func TestTimeseriesCSVChunks(t *testing.T) {
	s, q := openStore(t)
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	n := 3*csvChunk + 7
	storeSeries(t, s, start, n)
	rows := exportCSV(t, q, "u1", CSVParams{Start: start, End: start.Add(time.Duration(n) * time.Minute)})
	if want := 2*n + (n+1)/2; len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	// The order key: time, then series (heart_rate 1 before steps 80),
	// then data source (the watch was made first).
	rank := map[string]string{"heart_rate": "0", "steps": "1", "Watch7,1": "0", "iPhone15,2": "1"}
	counts := map[string]int{}
	prev := ""
	for i, r := range rows {
		key := r[0] + rank[r[1]] + rank[r[7]]
		if key <= prev {
			t.Fatalf("row %d out of order: %q after %q", i, key, prev)
		}
		prev = key
		counts[r[1]]++
	}
	if counts["heart_rate"] != 2*n || counts["steps"] != (n+1)/2 {
		t.Errorf("counts %v", counts)
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n += len(p); w.n > 10_000 {
		return 0, io.ErrClosedPipe
	}
	return len(p), nil
}

func TestTimeseriesCSVStopsOnWriteError(t *testing.T) {
	s, q := openStore(t)
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	storeSeries(t, s, start, 2*csvChunk)
	write, err := q.TimeseriesCSV("u1", CSVParams{Start: start, End: start.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := write(&failingWriter{}); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("write error not returned: %v", err)
	}
}

// BenchmarkTimeseriesCSVYear exports a year of minute-level heart rate and
// steps of one data source, 1,051,200 rows, to io.Discard.
func BenchmarkTimeseriesCSVYear(b *testing.B) {
	s, q := openStore(b)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	hr, _ := health.SeriesByCode("heart_rate")
	steps, _ := health.SeriesByCode("steps")
	for day := 0; day < 365; day++ {
		ib := s.NewIndexBatch()
		sid, err := ib.DataSource(pebblestore.SourceRecord{UserIID: 1, Provider: "samsung", DeviceModel: "SM-R960", SourceName: "Galaxy Watch7"})
		if err != nil {
			b.Fatal(err)
		}
		for m := 0; m < 1440; m++ {
			at := start.Add(time.Duration(day*1440+m) * time.Minute).UnixMicro()
			ib.AddPoint(1, hr.ID, sid, pebblestore.Point{Start: at, End: at, Value: float64(50 + m%70), Zone: "+01:00"})
			ib.AddPoint(1, steps.ID, sid, pebblestore.Point{Start: at, End: at + 60e6, Value: float64(m % 130), Zone: "+01:00"})
		}
		if err := ib.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	p := CSVParams{Start: start, End: start.AddDate(1, 0, 0)}
	var cw countingWriter
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cw = countingWriter{}
		write, err := q.TimeseriesCSV("u1", p)
		if err != nil {
			b.Fatal(err)
		}
		if err := write(&cw); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(cw.n)
	b.ReportMetric(float64(cw.rows-1), "rows/op")
}

type countingWriter struct{ n, rows int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	w.rows += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}
