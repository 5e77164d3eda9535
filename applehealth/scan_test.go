package applehealth

import (
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
)

func scanAll(t *testing.T, r io.Reader) ([]Item, error) {
	t.Helper()
	s := NewScanner(r)
	var items []Item
	for {
		it, err := s.Next()
		if err == io.EOF {
			return items, nil
		}
		if err != nil {
			return items, err
		}
		items = append(items, it)
	}
}

func TestExport(t *testing.T) {
	f, err := os.Open("testdata/export.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	items, err := scanAll(t, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 8 {
		t.Fatalf("got %d items, want 8", len(items))
	}
	r := items[3].(*Record)
	d, err := ParseDevice(r.Device)
	if err != nil || d.Name != "Apple Watch" || d.Hardware != "Watch6,2" || d.Software != "9.1" || d.Manufacturer != "Apple Inc." {
		t.Errorf("device %q: %+v %v", r.Device, d, err)
	}
	if len(r.Metadata) != 1 {
		t.Errorf("metadata %+v", r.Metadata)
	}
	if hrv := items[4].(*Record).HRV; len(hrv) != 2 || hrv[1].BPM != "63" {
		t.Errorf("hrv %+v", hrv)
	}
	if items[5].(*Record).Value != "120" {
		t.Errorf("correlation record %+v", items[5])
	}
	w := items[6].(*Workout)
	if len(w.Events) != 1 || len(w.Statistics) != 1 || len(w.Routes) != 1 || w.Routes[0].FilePath != "/workout-routes/route_2024-01-01_6.30pm.gpx" {
		t.Errorf("workout %+v", w)
	}
	tm, err := ParseDate(r.StartDate)
	if _, off := tm.Zone(); err != nil || off != 3600 || tm.Hour() != 8 {
		t.Errorf("date %v %v", tm, err)
	}
}

func TestHostile(t *testing.T) {
	for name, in := range map[string]string{
		"truncated": `<HealthData><Record type="a" startDate="x" endDate="y">`,
		"laughs":    `<!DOCTYPE HealthData [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><HealthData><Record type="&lol2;"/></HealthData>`,
		"garbage":   "\x00\x01garbage",
		"huge":      `<HealthData><Record type="` + strings.Repeat("a", 2*MaxToken) + `"/></HealthData>`,
	} {
		_, err := scanAll(t, strings.NewReader(in))
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error %v, want an *Error", name, err)
		}
	}
}

type repeat byte

func (r repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// TestHugeAttributeBounded: an endless attribute is refused after MaxToken
// bytes, having allocated a few MiB at most.
func TestHugeAttributeBounded(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	in := io.MultiReader(strings.NewReader(`<HealthData><Record type="`), io.LimitReader(repeat('a'), 1<<30))
	_, err := scanAll(t, in)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want one over a limit", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Errorf("allocated %d bytes", got)
	}
}
