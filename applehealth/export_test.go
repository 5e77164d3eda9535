package applehealth

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
)

const routePath = "/workout-routes/route_2023-06-01_7.12am.gpx"

// sampleXML is an export.xml with a few Records and a Workout whose route
// names a GPX file.
const sampleXML = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
]>
<HealthData locale="en_GB">
 <ExportDate value="2023-06-02 09:00:00 +0100"/>
 <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" unit="count/min" startDate="2023-06-01 07:10:00 +0100" endDate="2023-06-01 07:10:00 +0100" value="71"/>
 <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Phone" unit="count" startDate="2023-06-01 07:00:00 +0100" endDate="2023-06-01 07:10:00 +0100" value="812"/>
 <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="28.1" durationUnit="min" sourceName="Watch" startDate="2023-06-01 07:12:00 +0100" endDate="2023-06-01 07:40:06 +0100">
  <WorkoutRoute sourceName="Watch" startDate="2023-06-01 07:12:03 +0100" endDate="2023-06-01 07:40:06 +0100">
   <FileReference path="` + routePath + `"/>
  </WorkoutRoute>
 </Workout>
</HealthData>
`

type entry struct {
	name   string
	data   []byte
	method uint16
}

func mustGPX(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(routeFile)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// healthZip is an export.zip as the Health app makes it, under the folder
// top ("" for none).
func healthZip(t testing.TB, top string) []entry {
	if top != "" {
		top += "/"
	}
	return []entry{
		{name: top},
		{name: top + "export.xml", data: []byte(sampleXML), method: zip.Deflate},
		{name: top + "export_cda.xml", data: []byte(`<?xml version="1.0"?><ClinicalDocument/>`), method: zip.Deflate},
		{name: top + "workout-routes/"},
		{name: top + "workout-routes/route_2023-06-01_7.12am.gpx", data: mustGPX(t), method: zip.Deflate},
		{name: top + "electrocardiograms/ecg_2023-06-01.csv", data: []byte("Name,Test\n"), method: zip.Store},
	}
}

func mustZip(t testing.TB, entries []entry) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, e := range entries {
		f, err := w.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// rawZip writes one entry with the header h as given (sizes, CRC, flags,
// method) and data as its stored bytes: a zip that lies.
func rawZip(t testing.TB, h *zip.FileHeader, data io.Reader) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	f, err := w.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// deflated compresses n zero bytes (or data, if not nil).
func deflated(t testing.TB, data []byte, zeros int64) []byte {
	t.Helper()
	var b bytes.Buffer
	fw, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if data != nil {
		_, err = fw.Write(data)
	} else {
		_, err = io.Copy(fw, io.LimitReader(repeat(0), zeros))
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustOpen(t testing.TB, data []byte, lim Limits) *Export {
	t.Helper()
	e, err := OpenExport(bytes.NewReader(data), int64(len(data)), lim)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func readXML(e *Export) ([]byte, error) {
	rc, err := e.XML()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// TestZipExport: in an export.zip under any top folder, XML gives
// export.xml's bytes, twice alike, the scanner reads them, and the route
// the workout names reads back with its values.
func TestZipExport(t *testing.T) {
	for _, top := range []string{"apple_health_export", "Apple Health Export", "Exportación", "export/nested", ""} {
		e := mustOpen(t, mustZip(t, healthZip(t, top)), Limits{})
		if !e.Zipped() || e.XMLSize() != int64(len(sampleXML)) {
			t.Errorf("%q: zipped %v, size %d", top, e.Zipped(), e.XMLSize())
		}
		first, err := readXML(e)
		if err != nil || string(first) != sampleXML {
			t.Fatalf("%q: XML gives %d bytes, %v", top, len(first), err)
		}
		second, err := readXML(e)
		if err != nil || !bytes.Equal(first, second) {
			t.Errorf("%q: a second XML differs: %v", top, err)
		}
		rc, err := e.XML()
		if err != nil {
			t.Fatal(err)
		}
		items, err := scanAll(t, rc)
		rc.Close()
		if err != nil || len(items) != 5 {
			t.Fatalf("%q: scanned %d items, %v", top, len(items), err)
		}
		w := items[4].(*Workout)
		if len(w.Routes) != 1 {
			t.Fatalf("%q: workout %+v", top, w)
		}
		points, err := e.Route(w.Routes[0].FilePath)
		if err != nil {
			t.Fatalf("%q: %v", top, err)
		}
		checkRoute(t, points)
	}
}

// TestXMLConcurrentReaders: readers of one Export are independent.
func TestXMLConcurrentReaders(t *testing.T) {
	e := mustOpen(t, mustZip(t, healthZip(t, "apple_health_export")), Limits{})
	a, _ := e.XML()
	b, _ := e.XML()
	defer a.Close()
	defer b.Close()
	var got [2]bytes.Buffer
	for {
		na, _ := io.CopyN(&got[0], a, 7)
		nb, _ := io.CopyN(&got[1], b, 13)
		if na == 0 && nb == 0 {
			break
		}
	}
	if got[0].String() != sampleXML || got[1].String() != sampleXML {
		t.Errorf("interleaved readers gave %d and %d bytes", got[0].Len(), got[1].Len())
	}
}

func TestBareExport(t *testing.T) {
	for name, data := range map[string]string{
		"plain":                sampleXML,
		"bom and white space":  "\xef\xbb\xbf \r\n\t" + sampleXML,
		"long leading spaces":  strings.Repeat(" ", 10000) + "<HealthData/>",
		"no declaration, tiny": "<HealthData/>",
	} {
		e := mustOpen(t, []byte(data), Limits{})
		if e.Zipped() || e.XMLSize() != int64(len(data)) {
			t.Errorf("%s: zipped %v, size %d", name, e.Zipped(), e.XMLSize())
		}
		for range 2 {
			got, err := readXML(e)
			if err != nil || string(got) != data {
				t.Errorf("%s: XML gives %d bytes, %v", name, len(got), err)
			}
		}
		if _, err := e.Route(routePath); !errors.Is(err, ErrNoRoute) {
			t.Errorf("%s: Route: %v, want ErrNoRoute", name, err)
		}
	}
	f, err := os.Open("testdata/export.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	e, err := OpenExport(f, fi.Size(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := e.XML()
	if err != nil {
		t.Fatal(err)
	}
	if items, err := scanAll(t, rc); err != nil || len(items) != 8 {
		t.Errorf("testdata/export.xml: %d items, %v", len(items), err)
	}
	if _, err := OpenExport(f, fi.Size(), Limits{MaxXMLBytes: fi.Size() - 1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a bare export over MaxXMLBytes: %v, want ErrTooLarge", err)
	}
}

func TestNotAnExport(t *testing.T) {
	for name, data := range map[string]string{
		"empty":       "",
		"white space": " \n\t ",
		"bom only":    "\xef\xbb\xbf",
		"text":        "hello <HealthData/>",
		"pdf":         "%PDF-1.7\n",
		"empty zip":   "PK\x05\x06" + strings.Repeat("\x00", 18),
		"gzip":        "\x1f\x8b\x08\x00",
	} {
		_, err := OpenExport(strings.NewReader(data), int64(len(data)), Limits{})
		if _, ok := errors.AsType[*ExportError](err); !ok {
			t.Errorf("%s: error %v, want an *ExportError", name, err)
		}
	}
}

// TestHostileZip: each hostile or unsupported zip gives its own clear
// error at OpenExport.
func TestHostileZip(t *testing.T) {
	xml := []byte(sampleXML)
	good := mustZip(t, healthZip(t, "apple_health_export"))
	zeros := deflated(t, nil, 10<<20)
	for name, c := range map[string]struct {
		zip  []byte
		lim  Limits
		want string
		is   error
	}{
		"escaping names only": {zip: mustZip(t, []entry{
			{name: "../export.xml", data: xml}, {name: "/export.xml", data: xml}, {name: `a\export.xml`, data: xml},
			{name: "a\x00/export.xml", data: xml}, {name: "C:/export.xml", data: xml}, {name: "a/./export.xml", data: xml},
			{name: "a//export.xml", data: xml},
		}), want: "no export.xml in the zip; it holds no entry of a safe name (7 ignored"},
		"no export.xml": {zip: mustZip(t, []entry{{name: "notes/"}, {name: "notes/a.txt"}, {name: "export.xml.bak"}}),
			want: `it holds 3 entries: "notes/", "notes/a.txt", "export.xml.bak"`},
		"empty": {zip: mustZip(t, nil), want: "the zip is empty"},
		"two at one depth": {zip: mustZip(t, []entry{{name: "a/export.xml", data: xml}, {name: "b/export.xml", data: xml}}),
			want: `two export.xml at the same depth, "a/export.xml" and "b/export.xml"`},
		"the same name twice": {zip: mustZip(t, []entry{{name: "a/export.xml", data: xml}, {name: "a/export.xml", data: xml}}),
			want: "two export.xml at the same depth"},
		"truncated":      {zip: good[:len(good)/2], want: "the zip is damaged or truncated", is: zip.ErrFormat},
		"truncated tail": {zip: good[:len(good)-1], want: "the zip is damaged or truncated", is: zip.ErrFormat},
		"encrypted": {zip: rawZip(t, &zip.FileHeader{Name: "export.xml", Method: zip.Deflate, Flags: 0x1,
			CompressedSize64: 100, UncompressedSize64: 100}, bytes.NewReader(make([]byte, 100))), want: "encrypted"},
		"bzip2": {zip: rawZip(t, &zip.FileHeader{Name: "export.xml", Method: 12,
			CompressedSize64: 100, UncompressedSize64: 100}, bytes.NewReader(make([]byte, 100))), want: "method 12 is not supported"},
		"over MaxXMLBytes": {zip: good, lim: Limits{MaxXMLBytes: int64(len(xml)) - 1}, want: "over the limit", is: ErrTooLarge},
		"over MaxRatio": {zip: rawZip(t, &zip.FileHeader{Name: "export.xml", Method: zip.Deflate, CRC32: 1,
			CompressedSize64: uint64(len(zeros)), UncompressedSize64: 10 << 20}, bytes.NewReader(zeros)),
			lim: Limits{MaxRatio: 100}, want: "a zip bomb?", is: ErrTooLarge},
		"over the default ratio": {zip: rawZip(t, &zip.FileHeader{Name: "export.xml", Method: zip.Deflate,
			CompressedSize64: 1000, UncompressedSize64: 1000*1000 + 1}, bytes.NewReader(make([]byte, 1000))),
			want: "over 1000:1", is: ErrTooLarge},
	} {
		_, err := OpenExport(bytes.NewReader(c.zip), int64(len(c.zip)), c.lim)
		if _, ok := errors.AsType[*ExportError](err); !ok || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want an *ExportError with %q", name, err, c.want)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: error %v is not %v", name, err, c.is)
		}
	}
}

// TestEscapingNamesIgnored: entries whose names escape the archive are not
// found, whatever they are named; the safe export.xml deeper down is.
func TestEscapingNamesIgnored(t *testing.T) {
	bogus := []byte("<HealthData><Record/></HealthData>")
	entries := append(healthZip(t, "apple_health_export"),
		entry{name: "../export.xml", data: bogus},
		entry{name: "/export.xml", data: bogus},
		entry{name: `..\export.xml`, data: bogus},
		entry{name: "apple_health_export/workout-routes/../../evil.gpx", data: mustGPX(t)},
		entry{name: "/workout-routes/abs.gpx", data: mustGPX(t)},
	)
	e := mustOpen(t, mustZip(t, entries), Limits{})
	if got, err := readXML(e); err != nil || string(got) != sampleXML {
		t.Errorf("XML gives %q, %v", got, err)
	}
	for _, p := range []string{"/../evil.gpx", "../../evil.gpx", "/workout-routes/../../evil.gpx", "evil.gpx",
		"/workout-routes/abs.gpx", `\workout-routes\route_2023-06-01_7.12am.gpx`, "/workout-routes/route_2023-06-01_7.12am.gpx\x00",
		"", "/", "..", "/workout-routes/"} {
		if _, err := e.Route(p); !errors.Is(err, ErrNoRoute) {
			t.Errorf("Route(%q): %v, want ErrNoRoute", p, err)
		}
	}
}

// TestRouteLookup: the forms of FilePath that name the one GPX file, and
// the fallback to a workout-routes folder elsewhere.
func TestRouteLookup(t *testing.T) {
	e := mustOpen(t, mustZip(t, healthZip(t, "apple_health_export")), Limits{})
	for _, p := range []string{routePath, routePath[1:], "//workout-routes/./route_2023-06-01_7.12am.gpx",
		"/workout-routes/x/../route_2023-06-01_7.12am.gpx", "/elsewhere/route_2023-06-01_7.12am.gpx", "route_2023-06-01_7.12am.gpx"} {
		points, err := e.Route(p)
		if err != nil {
			t.Errorf("Route(%q): %v", p, err)
			continue
		}
		checkRoute(t, points)
	}
	if _, err := e.Route("/workout-routes/route_2020-01-01_1.00am.gpx"); !errors.Is(err, ErrNoRoute) {
		t.Errorf("a missing route: %v, want ErrNoRoute", err)
	}

	// The routes beside an export.xml at the top of the zip, and a
	// workout-routes folder that is not beside export.xml.
	gpx := mustGPX(t)
	e = mustOpen(t, mustZip(t, []entry{
		{name: "export.xml", data: []byte(sampleXML)},
		{name: "old/workout-routes/route_2023-06-01_7.12am.gpx", data: gpx},
		{name: "a/workout-routes/twice.gpx", data: gpx},
		{name: "b/workout-routes/twice.gpx", data: gpx},
	}), Limits{})
	if points, err := e.Route(routePath); err != nil {
		t.Errorf("a route in another workout-routes folder: %v", err)
	} else {
		checkRoute(t, points)
	}
	if _, err := e.Route("/workout-routes/twice.gpx"); err == nil || errors.Is(err, ErrNoRoute) || !strings.Contains(err.Error(), "2 workout-routes folders") {
		t.Errorf("a route in two folders: %v, want an error naming the ambiguity", err)
	}

	// Beside export.xml the path decides, whatever other folders hold; a
	// path that leaves the export's folder is refused even where the zip
	// has a file there.
	other := []byte(`<gpx><trk><trkseg><trkpt lat="1" lon="1"/></trkseg></trk></gpx>`)
	for _, top := range []string{"apple_health_export", "export."} {
		e = mustOpen(t, mustZip(t, []entry{
			{name: top + "/export.xml", data: []byte(sampleXML)},
			{name: top + "/workout-routes/a.gpx", data: gpx},
			{name: "other/workout-routes/a.gpx", data: other},
		}), Limits{})
		for _, p := range []string{"/workout-routes/a.gpx", "//workout-routes/./a.gpx", "/workout-routes/x/../a.gpx"} {
			if points, err := e.Route(p); err != nil {
				t.Errorf("%q: Route(%q): %v", top, p, err)
			} else {
				checkRoute(t, points)
			}
		}
		if _, err := e.Route("/../other/workout-routes/a.gpx"); !errors.Is(err, ErrNoRoute) {
			t.Errorf("%q: a path out of the export's folder: %v, want ErrNoRoute", top, err)
		}
	}
}

func TestRouteLimits(t *testing.T) {
	gpx := mustGPX(t)
	data := mustZip(t, healthZip(t, "apple_health_export"))
	if _, err := mustOpen(t, data, Limits{MaxRouteBytes: int64(len(gpx)) - 1}).Route(routePath); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a route over MaxRouteBytes: %v, want ErrTooLarge", err)
	}
	if _, err := mustOpen(t, data, Limits{MaxRoutePoints: 3}).Route(routePath); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a route over MaxRoutePoints: %v, want ErrTooLarge", err)
	}
	if points, err := mustOpen(t, data, Limits{MaxRouteBytes: int64(len(gpx)), MaxRoutePoints: 4}).Route(routePath); err != nil || len(points) != 4 {
		t.Errorf("a route at the limits: %d points, %v", len(points), err)
	}
	for name, entries := range map[string][]entry{
		"not a gpx":   {{name: "export.xml", data: []byte(sampleXML)}, {name: "workout-routes/route_2023-06-01_7.12am.gpx", data: []byte("<kml/>")}},
		"unsupported": {{name: "export.xml", data: []byte(sampleXML)}, {name: "workout-routes/route_2023-06-01_7.12am.gpx", data: gpx, method: 99}},
	} {
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		for _, en := range entries {
			var f io.Writer
			var err error
			if en.method == 99 {
				f, err = w.CreateRaw(&zip.FileHeader{Name: en.name, Method: 99, CompressedSize64: uint64(len(en.data)), UncompressedSize64: uint64(len(en.data))})
			} else {
				f, err = w.Create(en.name)
			}
			if err != nil {
				t.Fatal(err)
			}
			f.Write(en.data)
		}
		w.Close()
		_, err := mustOpen(t, b.Bytes(), Limits{}).Route(routePath)
		if _, ok := errors.AsType[*ExportError](err); !ok || errors.Is(err, ErrNoRoute) {
			t.Errorf("%s: %v, want an *ExportError", name, err)
		}
	}
}

// TestLyingHeader: an entry that inflates past the size its header
// declares stops there with ErrTooLarge, having cost only a few reads; one
// that ends short of it, or with a wrong checksum, is an error too.
func TestLyingHeader(t *testing.T) {
	bomb := deflated(t, nil, 200<<20) // 200 MB of zeros in about 200 KB
	data := rawZip(t, &zip.FileHeader{Name: "apple_health_export/export.xml", Method: zip.Deflate,
		CompressedSize64: uint64(len(bomb)), UncompressedSize64: 1000}, bytes.NewReader(bomb))
	e := mustOpen(t, data, Limits{})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rc, err := e.XML()
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) || n != 1000 {
		t.Errorf("a bomb behind a lying header: %d bytes, %v; want 1000 and ErrTooLarge", n, err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("allocated %d bytes", got)
	}

	xml := []byte(sampleXML)
	comp := deflated(t, xml, 0)
	for name, c := range map[string]struct {
		h    zip.FileHeader
		data []byte
		want string
		is   error
	}{
		"short": {h: zip.FileHeader{Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(xml), UncompressedSize64: uint64(2 * len(xml))},
			data: comp, want: fmt.Sprintf("ends after %d of the %d bytes", len(xml), 2*len(xml))},
		"long": {h: zip.FileHeader{Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(xml), UncompressedSize64: uint64(len(xml) - 1)},
			data: comp, want: "inflates past", is: ErrTooLarge},
		"stored long": {h: zip.FileHeader{Method: zip.Store, UncompressedSize64: uint64(len(xml) - 1)},
			data: xml, want: "inflates past", is: ErrTooLarge},
		"checksum": {h: zip.FileHeader{Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(xml) + 1, UncompressedSize64: uint64(len(xml))},
			data: comp, want: "checksum mismatch", is: zip.ErrChecksum},
		"corrupt data": {h: zip.FileHeader{Method: zip.Deflate, UncompressedSize64: uint64(len(xml))},
			data: bytes.Repeat([]byte{0xff}, 64), want: "the compressed data is damaged"},
		"cut data": {h: zip.FileHeader{Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(xml), UncompressedSize64: uint64(len(xml))},
			data: comp[:len(comp)/2], want: "the compressed data is damaged", is: io.ErrUnexpectedEOF},
	} {
		c.h.Name = "export.xml"
		c.h.CompressedSize64 = uint64(len(c.data))
		e := mustOpen(t, rawZip(t, &c.h, bytes.NewReader(c.data)), Limits{})
		got, err := readXML(e)
		if _, ok := errors.AsType[*ExportError](err); !ok || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %d bytes, error %v; want an *ExportError with %q", name, len(got), err, c.want)
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: error %v is not %v", name, err, c.is)
		}
		if len(got) > len(xml) {
			t.Errorf("%s: %d bytes, more than the entry holds", name, len(got))
		}
	}
}

// TestXMLMemoryBounded: reading a large export.xml out of the zip streams
// it, allocating a small fixed amount whatever its size.
func TestXMLMemoryBounded(t *testing.T) {
	const size = 64 << 20
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	w.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) { return flate.NewWriter(out, flate.BestSpeed) })
	f, err := w.Create("apple_health_export/export.xml")
	if err != nil {
		t.Fatal(err)
	}
	chunk := generate(1 << 20)
	for written := 0; written < size; written += len(chunk) {
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	e := mustOpen(t, b.Bytes(), Limits{})
	want := e.XMLSize()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rc, err := e.XML()
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	runtime.ReadMemStats(&after)
	if err != nil || n != want || n < size {
		t.Fatalf("read %d of %d bytes: %v", n, want, err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("reading %d bytes allocated %d", n, got)
	}
}

// FuzzOpenExport: no upload makes OpenExport, XML or Route panic, and XML
// never gives more than the size it declares.
func FuzzOpenExport(f *testing.F) {
	f.Add(mustZip(f, healthZip(f, "apple_health_export")))
	f.Add([]byte(sampleXML))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := OpenExport(bytes.NewReader(data), int64(len(data)), Limits{MaxXMLBytes: 1 << 20, MaxRouteBytes: 1 << 20})
		if err != nil {
			return
		}
		got, _ := readXML(e)
		if int64(len(got)) > e.XMLSize() {
			t.Fatalf("XML gave %d bytes, more than the %d declared", len(got), e.XMLSize())
		}
		e.Route(routePath)
	})
}
