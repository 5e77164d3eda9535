package bench

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"testing"
	"time"
)

var (
	appleExportFile  = flag.String("apple-export", "", "write an Apple Health export.xml (export.zip with -apple-export-zip) to this file, for trying the importer on a big one")
	appleExportBytes = flag.Int64("apple-export-bytes", 2<<30, "the size of the -apple-export file's export.xml")
	appleExportZip   = flag.Bool("apple-export-zip", false, "write -apple-export as export.zip with routes")
)

// TestWriteExportFile writes a file of the size asked when -apple-export is
// given:
//
//	go test ./bench -run TestWriteExportFile -apple-export export.xml -apple-export-bytes 2000000000
func TestWriteExportFile(t *testing.T) {
	if *appleExportFile == "" {
		t.Skip("no -apple-export file")
	}
	f, err := os.Create(*appleExportFile)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c, err := WriteExport(f, ExportOptions{Seed: 1, XMLBytes: *appleExportBytes, Zip: *appleExportZip, Routes: *appleExportZip})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	t.Logf("%s: %d bytes of export.xml in %v (%.0f MB/s), %d records (%d heart rate), %d workouts, %d route points",
		*appleExportFile, c.XMLBytes, elapsed.Round(time.Millisecond), float64(c.XMLBytes)/1e6/elapsed.Seconds(),
		c.Records, c.HeartRate, c.Workouts, c.RoutePoints)
}

func exportSum(t *testing.T, o ExportOptions) ([32]byte, ExportCounts) {
	t.Helper()
	h := sha256.New()
	c, err := WriteExport(h, o)
	if err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil)), c
}

func TestWriteExportIsDeterministic(t *testing.T) {
	for _, o := range []ExportOptions{{Seed: 5, Days: 20, Routes: true}, {Seed: 5, Days: 5, Zip: true, Routes: true}} {
		a, ca := exportSum(t, o)
		b, cb := exportSum(t, o)
		if a != b || fmt.Sprint(ca) != fmt.Sprint(cb) {
			t.Errorf("%+v: two runs differ", o)
		}
		o.Seed++
		if c, _ := exportSum(t, o); c == a {
			t.Errorf("%+v: another seed gives the same bytes", o)
		}
	}
}

// TestWriteExportSize: XMLBytes gives an export.xml near the size asked,
// with as many summaries as days begun.
func TestWriteExportSize(t *testing.T) {
	for _, size := range []int64{200 << 10, 3 << 20, 40 << 20} {
		_, c := exportSum(t, ExportOptions{Seed: 2, XMLBytes: size})
		if off := float64(c.XMLBytes-size) / float64(size); off < -0.05 || off > 0.05 {
			t.Errorf("asked %d bytes, got %d (%+.1f%%)", size, c.XMLBytes, 100*off)
		}
		if c.Summaries == 0 || c.HeartRate == 0 || c.Records != sumOf(c.ByType) {
			t.Errorf("%d bytes: %+v", size, c)
		}
	}
	if _, err := WriteExport(io.Discard, ExportOptions{Days: 1, XMLBytes: 1}); err == nil {
		t.Error("Days and XMLBytes together are accepted")
	}
}

func sumOf(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestWriteExportConstantMemory: ten times the data allocates no more than
// a little over the tenth, and the heap does not grow with the output.
func TestWriteExportConstantMemory(t *testing.T) {
	alloc := func(days int) (uint64, uint64) {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := WriteExport(io.Discard, ExportOptions{Seed: 1, Days: days, Routes: true}); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc, after.HeapInuse
	}
	small, _ := alloc(10)
	big, heap := alloc(100)
	if big > 4<<20 || big > 3*small {
		t.Errorf("10 days allocate %d bytes, 100 days %d", small, big)
	}
	if heap > 64<<20 {
		t.Errorf("heap in use %d bytes after 100 days", heap)
	}
}

// TestExportZones: the dates follow the phone through the change to summer
// time and the trip (+0900), and a day of 23 hours is written whole.
func TestExportZones(t *testing.T) {
	var b bytes.Buffer
	if _, err := WriteExport(&b, ExportOptions{Seed: 1, Days: 20}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`startDate="2023-03-26 01:`, `startDate="2023-03-26 03:`, // the hour from 02:00 is skipped
		`+0100"`, `+0200"`, `+0900"`, `value="HKCategoryValueSleepAnalysisInBed"`,
		`<MetadataEntry key="HKTimeZone" value="Asia/Tokyo"/>`, `dateComponents="2023-04-08"`,
	} {
		if !bytes.Contains(b.Bytes(), []byte(s)) {
			t.Errorf("no %s", s)
		}
	}
	if bytes.Contains(b.Bytes(), []byte(`startDate="2023-03-26 02:`)) {
		t.Error("a date in the hour summer time skips")
	}
}

// ExampleWriteExport writes a week's export.zip to a file.
func ExampleWriteExport() {
	f, err := os.CreateTemp("", "export-*.zip")
	if err != nil {
		panic(err)
	}
	defer os.Remove(f.Name())
	c, err := WriteExport(f, ExportOptions{Seed: 1, Days: 7, Zip: true, Routes: true})
	if err := f.Close(); err != nil {
		panic(err)
	}
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Workouts, c.Routes, c.Summaries, c.Clinical)
	// Output: 3 3 7 2
}

func BenchmarkWriteExport(b *testing.B) {
	for _, zip := range []bool{false, true} {
		b.Run(fmt.Sprintf("zip=%v", zip), func(b *testing.B) {
			var n int64
			b.ReportAllocs()
			for b.Loop() {
				c, err := WriteExport(io.Discard, ExportOptions{Seed: 1, Days: 30, Zip: zip, Routes: zip})
				if err != nil {
					b.Fatal(err)
				}
				n = c.XMLBytes
			}
			b.SetBytes(n)
		})
	}
}
