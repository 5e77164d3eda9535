package applehealth

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

const routeFile = "testdata/route_2023-06-01_7.12am.gpx"

// samePoint compares two points, NaN equal to NaN.
func samePoint(a, b RoutePoint) bool {
	eq := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	return a.Time.Equal(b.Time) && eq(a.Latitude, b.Latitude) && eq(a.Longitude, b.Longitude) &&
		eq(a.Elevation, b.Elevation) && eq(a.Speed, b.Speed) && eq(a.Course, b.Course) &&
		eq(a.HorizontalAccuracy, b.HorizontalAccuracy) && eq(a.VerticalAccuracy, b.VerticalAccuracy)
}

// wantRoute is what testdata's GPX holds: two segments, a point with no
// extensions or elevation, and one with no position (skipped).
func wantRoute() []RoutePoint {
	nan := math.NaN()
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	return []RoutePoint{
		{Time: at("2023-06-01T06:12:03Z"), Latitude: 51.5074, Longitude: -0.1277, Elevation: 12.3, Speed: 2.9, Course: 183.4, HorizontalAccuracy: 3.2, VerticalAccuracy: 2.1},
		{Time: at("2023-06-01T06:12:04Z"), Latitude: 51.50738, Longitude: -0.12765, Elevation: 12.5, Speed: 3.1, Course: -1, HorizontalAccuracy: 3, VerticalAccuracy: 2},
		{Time: at("2023-06-01T06:15:00.25Z"), Latitude: 51.5073, Longitude: -0.1275, Elevation: nan, Speed: nan, Course: nan, HorizontalAccuracy: nan, VerticalAccuracy: nan},
		{Time: at("2023-06-01T06:15:02Z"), Latitude: 51.50729, Longitude: -0.12745, Elevation: 13.1, Speed: 2.8, Course: 90, HorizontalAccuracy: 4.5, VerticalAccuracy: 3.5},
	}
}

func checkRoute(t *testing.T, got []RoutePoint) {
	t.Helper()
	want := wantRoute()
	if len(got) != len(want) {
		t.Fatalf("got %d points, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !samePoint(got[i], want[i]) {
			t.Errorf("point %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestReadGPX(t *testing.T) {
	data, err := os.ReadFile(routeFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadGPX(bytes.NewReader(data), 0)
	if err != nil {
		t.Fatal(err)
	}
	checkRoute(t, got)
}

func TestReadGPXFields(t *testing.T) {
	nan := math.NaN()
	for name, c := range map[string]struct {
		in   string
		want []RoutePoint
	}{
		"empty route": {`<gpx><trk><trkseg></trkseg></trk></gpx>`, nil},
		"bad numbers are missing": {`<gpx><trk><trkseg><trkpt lat="1" lon="2"><ele>high</ele><time>noon</time><extensions><speed>Inf</speed><course>1e999</course><hAcc>` + strings.Repeat("1", 100) + `</hAcc><vAcc> 7 </vAcc></extensions></trkpt></trkseg></trk></gpx>`,
			[]RoutePoint{{Latitude: 1, Longitude: 2, Elevation: nan, Speed: nan, Course: nan, HorizontalAccuracy: nan, VerticalAccuracy: 7}}},
		"no position or out of range": {`<gpx><trk><trkseg><trkpt lat="91" lon="0"/><trkpt lat="0" lon="-181"/><trkpt lat="x" lon="0"/><trkpt lon="0"/><trkpt lat="-90" lon="180"/></trkseg></trk></gpx>`,
			[]RoutePoint{{Latitude: -90, Longitude: 180, Elevation: nan, Speed: nan, Course: nan, HorizontalAccuracy: nan, VerticalAccuracy: nan}}},
		"trkpt outside trkseg, fields outside their place": {`<gpx><wpt lat="5" lon="5"/><trk><trkpt lat="6" lon="6"/><trkseg><trkpt lat="1" lon="1"><speed>3</speed><x><ele>4</ele><speed>5</speed></x></trkpt></trkseg></trk></gpx>`,
			[]RoutePoint{{Latitude: 1, Longitude: 1, Elevation: nan, Speed: nan, Course: nan, HorizontalAccuracy: nan, VerticalAccuracy: nan}}},
		"two tracks in order, prefixes ignored": {`<g:gpx xmlns:g="http://www.topografix.com/GPX/1/1"><g:trk><g:trkseg><g:trkpt lat="1" lon="1"/></g:trkseg></g:trk><g:trk><g:trkseg><g:trkpt lat="2" lon="2"/></g:trkseg></g:trk></g:gpx>`,
			[]RoutePoint{{Latitude: 1, Longitude: 1, Elevation: nan, Speed: nan, Course: nan, HorizontalAccuracy: nan, VerticalAccuracy: nan},
				{Latitude: 2, Longitude: 2, Elevation: nan, Speed: nan, Course: nan, HorizontalAccuracy: nan, VerticalAccuracy: nan}}},
	} {
		got, err := ReadGPX(strings.NewReader(c.in), 0)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: got %+v, want %+v", name, got, c.want)
			continue
		}
		for i := range got {
			if !samePoint(got[i], c.want[i]) {
				t.Errorf("%s: point %d: got %+v, want %+v", name, i, got[i], c.want[i])
			}
		}
	}
}

// laughs is the billion laughs: ten levels of ten references, a few GB if
// a parser expanded them.
func laughs(use string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY lol0 "lol">`)
	for i := 1; i < 10; i++ {
		b.WriteString(`<!ENTITY lol` + string(rune('0'+i)) + ` "`)
		for range 10 {
			b.WriteString(`&lol` + string(rune('0'+i-1)) + `;`)
		}
		b.WriteString(`">`)
	}
	b.WriteString(`]>`)
	b.WriteString(use)
	return b.String()
}

func TestReadGPXHostile(t *testing.T) {
	pt := `<trkpt lat="1" lon="1"/>`
	// want is encoding/xml's error (readGPXXML); scanned, what the scanner
	// says, "" where it reads the file (it ignores an encoding declaration:
	// a route's numbers and times are ASCII in any of them).
	for name, c := range map[string]struct{ in, want, scanned string }{
		"laughs in text":      {laughs(`<gpx><trk><trkseg><trkpt lat="1" lon="1"><ele>&lol9;</ele></trkpt></trkseg></trk></gpx>`), "invalid character entity &lol9;", "DOCTYPE"},
		"laughs in attribute": {laughs(`<gpx><trk><trkseg><trkpt lat="&lol9;" lon="1"/></trkseg></trk></gpx>`), "invalid character entity &lol9;", "DOCTYPE"},
		"entity, no DTD":      {`<gpx><trk><trkseg><trkpt lat="&lol9;" lon="1"/></trkseg></trk></gpx>`, "invalid character entity &lol9;", "entity"},
		"external entity":     {`<!DOCTYPE gpx [<!ENTITY x SYSTEM "file:///etc/passwd">]><gpx><trk><name>&x;</name></trk></gpx>`, "invalid character entity &x;", "DOCTYPE"},
		"truncated":           {`<gpx><trk><trkseg>` + pt, "unexpected EOF", "truncated"},
		"mismatched tags":     {`<gpx><trk></trkseg></gpx>`, "closed by </trkseg>", "</trkseg> closes <trk>"},
		"wrong root":          {`<HealthData/>`, "not a GPX file", "not a GPX file"},
		"second root":         {`<gpx/><gpx/>`, "a second root", "a second root"},
		"empty":               {``, "no gpx element", "no gpx element"},
		"not xml":             {"\x00\x01PK", "illegal character", "no gpx element"},
		"other charset":       {`<?xml version="1.0" encoding="ISO-8859-1"?><gpx/>`, "ISO-8859-1", ""},
		"deep":                {`<gpx>` + strings.Repeat("<a>", MaxDepth) + strings.Repeat("</a>", MaxDepth) + `</gpx>`, "deeper than", "deeper than"},
	} {
		for _, r := range []struct {
			name string
			read func(io.Reader, int) ([]RoutePoint, error)
			want string
		}{{"encoding/xml", readGPXXML, c.want}, {"scanner", ReadGPX, c.scanned}} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			points, err := r.read(strings.NewReader(c.in), 0)
			runtime.ReadMemStats(&after)
			if r.want == "" && err != nil || r.want != "" && (err == nil || !strings.Contains(err.Error(), r.want)) {
				t.Errorf("%s, %s: error %v (%d points), want one with %q", name, r.name, err, len(points), r.want)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Errorf("%s, %s: allocated %d bytes", name, r.name, got)
			}
		}
	}
}

func TestReadGPXMaxPoints(t *testing.T) {
	in := `<gpx><trk><trkseg>` + strings.Repeat(`<trkpt lat="1" lon="1"/><trkpt/>`, 10) + `</trkseg></trk></gpx>`
	if got, err := ReadGPX(strings.NewReader(in), 10); err != nil || len(got) != 10 {
		t.Errorf("10 points with a limit of 10: %d points, %v", len(got), err)
	}
	if _, err := ReadGPX(strings.NewReader(in), 9); !errors.Is(err, ErrTooLarge) {
		t.Errorf("10 points with a limit of 9: %v, want ErrTooLarge", err)
	}
}

// FuzzReadGPX: no input makes ReadGPX panic, and what it returns has valid
// positions.
func FuzzReadGPX(f *testing.F) {
	data, err := os.ReadFile(routeFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(laughs(`<gpx><trk><trkseg><trkpt lat="1" lon="1"><ele>&lol9;</ele></trkpt></trkseg></trk></gpx>`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		points, err := ReadGPX(bytes.NewReader(data), 100)
		if err != nil {
			return
		}
		if len(points) > 100 {
			t.Fatalf("%d points over a limit of 100", len(points))
		}
		for _, p := range points {
			if !(math.Abs(p.Latitude) <= 90 && math.Abs(p.Longitude) <= 180) {
				t.Fatalf("a point with no valid position: %+v", p)
			}
		}
	})
}
