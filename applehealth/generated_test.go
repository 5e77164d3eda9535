//go:debug zipinsecurepath=0

package applehealth_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"wearhouse/applehealth"
	"wearhouse/bench"
)

// The scanner against exports shaped as the Health app writes them: the
// generator's (bench.WriteExport), of any size, and the small hand-checked
// ones of testdata/apple-health (see its README.md).

var update = flag.Bool("update", false, "rewrite the zips of testdata/apple-health from their sources")

const exportDir = "../testdata/apple-health"

// scanned is what a scan of export.xml found, in the shape of the
// generator's counts, with what the tests check beside.
type scanned struct {
	counts  bench.ExportCounts
	items   int
	routes  []string // the FileReference paths
	offsets map[string]bool
	first   applehealth.Item
}

// scanExport scans an export.xml whole and checks what holds for every
// export: dates parse, devices parse, Records come sorted by type then start
// date, no two are the same sample.
func scanExport(t *testing.T, data []byte) scanned {
	t.Helper()
	sc := scanned{counts: bench.ExportCounts{ByType: map[string]int{}}, offsets: map[string]bool{}}
	s := applehealth.NewScanner(bytes.NewReader(data))
	typesDone := map[string]bool{}
	type sample struct{ typ, source, start string }
	seen := map[sample]bool{}
	var lastType string
	var lastStart time.Time
	date := func(what, v string) time.Time {
		tm, err := applehealth.ParseDate(v)
		if err != nil {
			t.Fatalf("%s %q: %v", what, v, err)
		}
		sc.offsets[v[len(v)-5:]] = true
		return tm
	}
	device := func(v string) {
		if v == "" {
			return
		}
		if d, err := applehealth.ParseDevice(v); err != nil || d.Manufacturer != "Apple Inc." || d.Hardware == "" {
			t.Fatalf("device %q: %+v %v", v, d, err)
		}
	}
	for {
		it, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		if sc.items == 0 {
			sc.first = it
		}
		sc.items++
		switch it := it.(type) {
		case *applehealth.Record:
			start := date("startDate", it.StartDate)
			if end := date("endDate", it.EndDate); end.Before(start) {
				t.Fatalf("record ends before it starts: %+v", it)
			}
			date("creationDate", it.CreationDate)
			device(it.Device)
			if it.Type != lastType {
				if typesDone[it.Type] {
					t.Fatalf("records of %s again after %s: not sorted by type", it.Type, lastType)
				}
				typesDone[lastType] = true
				lastType = it.Type
			} else if start.Before(lastStart) {
				t.Fatalf("%s at %s after %s: not sorted by date", it.Type, it.StartDate, lastStart)
			}
			lastStart = start
			k := sample{it.Type, it.SourceName, start.UTC().String()}
			if seen[k] {
				t.Fatalf("the same sample twice: %+v", k)
			}
			seen[k] = true
			sc.counts.Records++
			sc.counts.ByType[it.Type]++
		case *applehealth.Workout:
			date("startDate", it.StartDate)
			device(it.Device)
			sc.counts.Workouts++
			for _, r := range it.Routes {
				sc.counts.Routes++
				sc.routes = append(sc.routes, r.FilePath)
			}
			for _, st := range it.Statistics {
				date("statistics startDate", st.StartDate)
			}
			for _, ev := range it.Events {
				date("event date", ev.Date)
			}
		case *applehealth.ActivitySummary:
			sc.counts.Summaries++
		}
	}
	if s.Offset() != int64(len(data)) {
		t.Fatalf("the scan ended at byte %d of %d", s.Offset(), len(data))
	}
	sc.counts.HeartRate = sc.counts.ByType["HKQuantityTypeIdentifierHeartRate"]
	sc.counts.SleepStages = sc.counts.ByType["HKCategoryTypeIdentifierSleepAnalysis"]
	sc.counts.Clinical = bytes.Count(data, []byte("<ClinicalRecord "))
	sc.counts.XMLBytes = int64(len(data))
	return sc
}

// xmlElements counts the start elements of data by name with encoding/xml,
// the reference the scanner is held to.
func xmlElements(t *testing.T, data []byte) map[string]int {
	t.Helper()
	n := map[string]int{}
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("encoding/xml: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			n[se.Name.Local]++
		}
	}
}

func generate(t testing.TB, o bench.ExportOptions) ([]byte, bench.ExportCounts) {
	t.Helper()
	var b bytes.Buffer
	c, err := bench.WriteExport(&b, o)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), c
}

func checkCounts(t *testing.T, got, want bench.ExportCounts) {
	t.Helper()
	got.RoutePoints = want.RoutePoints // from the GPX files, checked apart
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("scanned %+v\n  written %+v", got, want)
	}
}

// TestScanGeneratedExport: six weeks from the generator, with the change to
// summer time and the trip to Tokyo, scan to the counts it wrote, and
// encoding/xml finds the same elements.
func TestScanGeneratedExport(t *testing.T) {
	data, want := generate(t, bench.ExportOptions{Seed: 7, Days: 42, Routes: true})
	sc := scanExport(t, data)
	checkCounts(t, sc.counts, want)
	if want.Workouts == 0 || want.Routes == 0 || want.HeartRate < 42*288 || want.SleepStages < 42*5 || want.Clinical == 0 {
		t.Errorf("thin export: %+v", want)
	}
	for _, off := range []string{"+0100", "+0200", "+0900"} {
		if !sc.offsets[off] {
			t.Errorf("no date at %s; offsets %v", off, slices.Sorted(maps.Keys(sc.offsets)))
		}
	}
	n := xmlElements(t, data)
	if n["Record"] != want.Records || n["Workout"] != want.Workouts || n["WorkoutRoute"] != want.Routes ||
		n["ActivitySummary"] != want.Summaries || n["ClinicalRecord"] != want.Clinical {
		t.Errorf("encoding/xml finds %v, the generator wrote %+v", n, want)
	}
	if n["HeartRateVariabilityMetadataList"] == 0 || n["WorkoutEvent"] == 0 || n["WorkoutStatistics"] == 0 || n["FileReference"] != want.Routes {
		t.Errorf("children missing: %v", n)
	}
	if _, ok := sc.first.(*applehealth.HealthData); !ok {
		t.Errorf("first item %T", sc.first)
	}
}

// TestScanGeneratedZip: the scanner reads export.xml from the zip, every
// FileReference names a GPX file of the zip, and the GPX files hold the
// points the generator counted.
func TestScanGeneratedZip(t *testing.T) {
	data, want := generate(t, bench.ExportOptions{Seed: 3, Days: 12, Zip: true, Routes: true})
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	xmlData := readEntry(t, files, "apple_health_export/export.xml")
	sc := scanExport(t, xmlData)
	checkCounts(t, sc.counts, want)
	if want.Routes == 0 || want.RoutePoints == 0 {
		t.Fatalf("no routes: %+v", want)
	}
	points := 0
	for _, p := range sc.routes {
		gpx := readEntry(t, files, "apple_health_export"+p)
		points += xmlElements(t, gpx)["trkpt"]
		delete(files, "apple_health_export"+p)
	}
	if points != want.RoutePoints {
		t.Errorf("%d route points in the GPX files, the generator counted %d", points, want.RoutePoints)
	}
	xmlElements(t, readEntry(t, files, "apple_health_export/export_cda.xml"))
	delete(files, "apple_health_export/export.xml")
	delete(files, "apple_health_export/export_cda.xml")
	for name := range files {
		if !strings.HasPrefix(name, "apple_health_export/clinical-records/") {
			t.Errorf("entry %s is referenced by nothing", name)
		}
	}
}

func readEntry(t *testing.T, files map[string]*zip.File, name string) []byte {
	t.Helper()
	f, ok := files[name]
	if !ok {
		t.Fatalf("no entry %s in the zip", name)
	}
	r, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// smallCounts are the hand-checked counts of small-export.xml, as its
// README.md lists them.
var smallCounts = bench.ExportCounts{
	Records: 28, HeartRate: 6, SleepStages: 9, Workouts: 2, Routes: 1, RoutePoints: 10, Summaries: 2, Clinical: 1,
	ByType: map[string]int{
		"HKQuantityTypeIdentifierBodyMass":                 2,
		"HKQuantityTypeIdentifierHeartRate":                6,
		"HKQuantityTypeIdentifierStepCount":                3,
		"HKQuantityTypeIdentifierDistanceWalkingRunning":   3,
		"HKQuantityTypeIdentifierBasalEnergyBurned":        1,
		"HKQuantityTypeIdentifierActiveEnergyBurned":       2,
		"HKQuantityTypeIdentifierRestingHeartRate":         1,
		"HKQuantityTypeIdentifierHeartRateVariabilitySDNN": 1,
		"HKCategoryTypeIdentifierSleepAnalysis":            9,
	},
}

const smallRoute = "/workout-routes/route_2023-03-26_8.25am.gpx"

func TestSmallExport(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(exportDir, "small-export.xml"))
	if err != nil {
		t.Fatal(err)
	}
	sc := scanExport(t, data)
	want := smallCounts
	want.XMLBytes = int64(len(data))
	checkCounts(t, sc.counts, want)
	// HealthData, ExportDate, Me, then the records, workouts and summaries.
	if sc.items != 3+28+2+2 {
		t.Errorf("%d items, want 35", sc.items)
	}
	if !slices.Equal(sc.routes, []string{smallRoute}) {
		t.Errorf("routes %v", sc.routes)
	}
	if !sc.offsets["+0100"] || !sc.offsets["+0200"] || len(sc.offsets) != 2 {
		t.Errorf("offsets %v, want +0100 and +0200", sc.offsets)
	}
	n := xmlElements(t, data)
	if n["Record"] != 28 || n["InstantaneousBeatsPerMinute"] != 5 || n["WorkoutEvent"] != 4 || n["WorkoutStatistics"] != 7 || n["MetadataEntry"] != 16 {
		t.Errorf("encoding/xml finds %v", n)
	}
}

// smallZip builds small-export.zip from its sources: the entries of the
// Health app's zip, stored (not deflated) at a fixed time so that the bytes
// do not depend on the Go version.
func smallZip(t *testing.T) []byte {
	t.Helper()
	entries := []struct{ name, src string }{
		{"export.xml", "small-export.xml"},
		{"export_cda.xml", "small/export_cda.xml"},
		{"workout-routes/" + path.Base(smallRoute), "small/workout-routes/" + path.Base(smallRoute)},
	}
	return writeZip(t, func(add func(name string, data []byte)) {
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(exportDir, e.src))
			if err != nil {
				t.Fatal(err)
			}
			add("apple_health_export/"+e.name, data)
		}
	})
}

func writeZip(t *testing.T, fill func(add func(name string, data []byte))) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	fill(func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: time.Date(2023, 3, 27, 7, 15, 0, 0, time.UTC)})
		if err == nil {
			_, err = w.Write(data)
		}
		if err != nil {
			t.Fatal(err)
		}
	})
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// checkGolden compares a zip with its checked-in bytes, or rewrites them
// under -update.
func checkGolden(t *testing.T, file string, data []byte) {
	t.Helper()
	name := filepath.Join(exportDir, file)
	if *update {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(old, data) {
		t.Fatalf("%s is not what its sources make: run go test ./applehealth -run %s -update", file, t.Name())
	}
}

func TestSmallExportZip(t *testing.T) {
	data := smallZip(t)
	checkGolden(t, "small-export.zip", data)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	sc := scanExport(t, readEntry(t, files, "apple_health_export/export.xml"))
	if sc.counts.Records != smallCounts.Records || !slices.Equal(sc.routes, []string{smallRoute}) {
		t.Errorf("zip's export.xml: %+v %v", sc.counts, sc.routes)
	}
	gpx := xmlElements(t, readEntry(t, files, "apple_health_export"+smallRoute))
	if gpx["trkpt"] != smallCounts.RoutePoints || gpx["hAcc"] != smallCounts.RoutePoints {
		t.Errorf("route: %v", gpx)
	}
	xmlElements(t, readEntry(t, files, "apple_health_export/export_cda.xml"))
}

// TestHostileExports: each hostile file is an error, never a short import.
func TestHostileExports(t *testing.T) {
	for _, file := range []string{"billion-laughs.xml", "truncated.xml"} {
		data, err := os.ReadFile(filepath.Join(exportDir, "hostile", file))
		if err != nil {
			t.Fatal(err)
		}
		s := applehealth.NewScanner(bytes.NewReader(data))
		for err == nil {
			_, err = s.Next()
		}
		var e *applehealth.Error
		if !errors.As(err, &e) {
			t.Errorf("%s: %v, want an *applehealth.Error", file, err)
		}
	}
	// An attribute of 2 MiB, over MaxToken, in an export otherwise whole.
	small, err := os.ReadFile(filepath.Join(exportDir, "small-export.xml"))
	if err != nil {
		t.Fatal(err)
	}
	huge := bytes.Replace(small, []byte(`value="HKCategoryValueSleepAnalysisInBed"`),
		[]byte(`value="`+strings.Repeat("InBed ", 2<<20/6)+`"`), 1)
	s := applehealth.NewScanner(bytes.NewReader(huge))
	for err == nil {
		_, err = s.Next()
	}
	if !errors.Is(err, applehealth.ErrTooLarge) {
		t.Errorf("2 MiB attribute: %v, want ErrTooLarge", err)
	}
}

// TestZipSlip: an entry named ../escape.xml is refused (archive/zip reports
// ErrInsecurePath with zipinsecurepath=0, set for this test binary; an
// importer must refuse it as well).
func TestZipSlip(t *testing.T) {
	data := writeZip(t, func(add func(string, []byte)) {
		add("apple_health_export/export.xml", []byte(`<HealthData locale="en_US"></HealthData>`))
		add("../escape.xml", []byte(`<HealthData locale="en_US"></HealthData>`))
	})
	checkGolden(t, "hostile/zip-slip.zip", data)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if !errors.Is(err, zip.ErrInsecurePath) {
		t.Errorf("zip.NewReader: %v, want ErrInsecurePath", err)
	}
	local := 0
	for _, f := range zr.File {
		if filepath.IsLocal(f.Name) {
			local++
		}
	}
	if len(zr.File) != 2 || local != 1 {
		t.Errorf("%d entries, %d local", len(zr.File), local)
	}
}

var (
	benchOnce   sync.Once
	benchExport []byte
)

// generated64 is a 64 MiB export from the generator, made once.
func generated64(b *testing.B) []byte {
	benchOnce.Do(func() { benchExport, _ = generate(b, bench.ExportOptions{Seed: 1, XMLBytes: 64 << 20}) })
	return benchExport
}

// BenchmarkScannerGenerated: the scanner over a 64 MiB export, every item
// built (the importer's read side).
func BenchmarkScannerGenerated(b *testing.B) {
	data := generated64(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s := applehealth.NewScanner(bytes.NewReader(data))
		for {
			if _, err := s.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEncodingXMLGenerated: merely tokenizing the same export with
// encoding/xml (RawToken), the comparison for the scanner's figure.
func BenchmarkEncodingXMLGenerated(b *testing.B) {
	data := generated64(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := xml.NewDecoder(bytes.NewReader(data))
		for {
			if _, err := d.RawToken(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
