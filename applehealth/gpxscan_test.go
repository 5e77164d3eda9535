package applehealth

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// gpxFile writes a route as the Health app does, with a few variations
// real files and hand-edited ones have.
func gpxFile(n int, variant int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<gpx version="1.1" creator="Apple Health Export" xmlns="http://www.topografix.com/GPX/1/1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` + "\n")
	b.WriteString(" <metadata><time>2023-06-01T06:12:00Z</time></metadata>\n <trk><name>Route &amp; run</name>\n  <trkseg>\n")
	t0 := time.Date(2023, 6, 1, 6, 12, 3, 0, time.UTC)
	for i := range n {
		lat, lon := 51.5+float64(i)*1e-5, -0.1-float64(i)*1e-5
		at := t0.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		switch (i + variant) % 5 {
		case 0:
			fmt.Fprintf(&b, `   <trkpt lon="%.6f" lat="%.6f"><ele>%.2f</ele><time>%s</time><extensions><speed>%.2f</speed><course>%.1f</course><hAcc>3.2</hAcc><vAcc>2.1</vAcc></extensions></trkpt>`+"\n", lon, lat, 12+float64(i%7), at, 2.9, float64(i%360))
		case 1: // single quotes, spaces, no extensions
			fmt.Fprintf(&b, "   <trkpt lat = '%.6f'  lon='%.6f' >\n    <ele> %.1f </ele>\n    <time>%s</time>\n   </trkpt>\n", lat, lon, 3.5, at)
		case 2: // a comment, CDATA, an entity, a prefixed extension
			fmt.Fprintf(&b, `   <trkpt lon="%.6f" lat="%.6f"><!-- a > comment --><ele><![CDATA[7.5]]></ele><time>%s</time><extensions><x:speed xmlns:x="urn:x">&#51;.0</x:speed><other>1</other></extensions></trkpt>`+"\n", lon, lat, at)
		case 3: // no position: skipped; a self-closing field
			fmt.Fprintf(&b, "   <trkpt><ele>1</ele><time/></trkpt>\n")
		case 4: // a field too long to be a number, out of the extensions
			fmt.Fprintf(&b, `   <trkpt lon="%.6f" lat="%.6f"><ele>%s</ele><speed>9</speed><time>%s</time></trkpt>`+"\n", lon, lat, strings.Repeat("1", 80), at)
		}
	}
	b.WriteString("  </trkseg>\n  <trkseg><trkpt lat=\"1\" lon=\"2\"/></trkseg>\n </trk>\n</gpx>\n")
	return b.Bytes()
}

func samePoints(a, b []RoutePoint) bool {
	if len(a) != len(b) {
		return false
	}
	eq := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	for i := range a {
		p, q := a[i], b[i]
		if !p.Time.Equal(q.Time) || !eq(p.Latitude, q.Latitude) || !eq(p.Longitude, q.Longitude) || !eq(p.Elevation, q.Elevation) ||
			!eq(p.Speed, q.Speed) || !eq(p.Course, q.Course) || !eq(p.HorizontalAccuracy, q.HorizontalAccuracy) ||
			!eq(p.VerticalAccuracy, q.VerticalAccuracy) {
			return false
		}
	}
	return true
}

// TestGPXScannerAgrees: the scanner reads what the encoding/xml reader
// reads, point for point, and fails where it fails.
func TestGPXScannerAgrees(t *testing.T) {
	for variant := range 5 {
		data := gpxFile(200, variant)
		want, err := readGPXXML(bytes.NewReader(data), 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := scanGPX(bytes.NewReader(data), 0)
		if err != nil {
			t.Fatal(err)
		}
		if !samePoints(got, want) {
			t.Fatalf("variant %d: %d points, want %d\n got %+v\nwant %+v", variant, len(got), len(want), got[:3], want[:3])
		}
		if len(got) < 100 || got[0].Latitude == 0 {
			t.Fatalf("variant %d: only %d points", variant, len(got))
		}
	}
	for _, bad := range []string{
		"", "<gpx>", "<gpx><trk></gpx>", "<kml/>", "<gpx/><gpx/>", `<gpx><trkseg><trkpt lat="1" lon="2"><ele>&bogus;</ele></trkpt></trkseg></gpx>`,
		`<gpx><trkseg><trkpt lat="1 lon="2"/></trkseg></gpx>`, `<!DOCTYPE gpx [<!ENTITY a "aaaa">]><gpx>&a;</gpx>`,
	} {
		if _, err := scanGPX(strings.NewReader(bad), 0); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := scanGPX(bytes.NewReader(gpxFile(50, 0)), 10); err == nil {
		t.Error("more points than the limit: no error")
	}
}

func FuzzGPXScanner(f *testing.F) {
	for v := range 5 {
		f.Add(gpxFile(6, v))
	}
	f.Add([]byte(`<gpx><trk><trkseg><trkpt lat="1" lon="2"><extensions><speed><![CDATA[1]]]]></speed></extensions></trkpt></trkseg></trk></gpx>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, gerr := scanGPX(bytes.NewReader(data), 1000)
		want, werr := readGPXXML(bytes.NewReader(data), 1000)
		if werr != nil || bytes.Contains(data, []byte("<!DOCTYPE")) {
			return // the scanner may be more lenient, never the other way round
		}
		if gerr != nil {
			t.Fatalf("encoding/xml reads it, the scanner fails: %v", gerr)
		}
		if !samePoints(got, want) {
			t.Fatalf("points differ:\n got %+v\nwant %+v", got, want)
		}
	})
}

func BenchmarkGPXScanner(b *testing.B) {
	data := gpxFile(3600, 0)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := scanGPX(bytes.NewReader(data), 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGPXEncodingXML(b *testing.B) {
	data := gpxFile(3600, 0)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := readGPXXML(bytes.NewReader(data), 0); err != nil {
			b.Fatal(err)
		}
	}
}
