package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fhirBody is a sync batch of known vitals: two heart rates, a blood
// pressure (both halves), an SpO2 and a weight, from one watch.
func fhirBody(marker string, hr float64) []byte {
	src := fmt.Sprintf(`{"name":"Watch %[1]s","bundleIdentifier":"com.apple.health","deviceManufacturer":"Apple Inc.","deviceModel":"Watch","productType":"Watch6,1"}`, marker)
	rec := func(id, typ, unit string, v float64, at string) string {
		return fmt.Sprintf(`{"id":%q,"type":%q,"unit":%q,"value":%v,"startDate":%q,"endDate":%q,"source":%s}`, id, typ, unit, v, at, at, src)
	}
	recs := []string{
		rec(marker+"-hr1", "HKQuantityTypeIdentifierHeartRate", "count/min", hr, "2026-03-01T08:00:00Z"),
		rec(marker+"-hr2", "HKQuantityTypeIdentifierHeartRate", "count/min", hr+10, "2026-03-01T08:01:00Z"),
		rec(marker+"-sys", "HKQuantityTypeIdentifierBloodPressureSystolic", "mmHg", 121, "2026-03-01T09:00:00Z"),
		rec(marker+"-dia", "HKQuantityTypeIdentifierBloodPressureDiastolic", "mmHg", 79, "2026-03-01T09:00:00Z"),
		rec(marker+"-spo2", "HKQuantityTypeIdentifierOxygenSaturation", "%", 0.97, "2026-03-01T10:00:00Z"),
		rec(marker+"-w", "HKQuantityTypeIdentifierBodyMass", "kg", 71.5, "2026-03-01T11:00:00Z"),
	}
	return fmt.Appendf(nil, `{"provider":"apple","sdkVersion":"1.0.0","syncTimestamp":"2026-03-01T12:00:00Z","data":{"records":[%s]}}`,
		strings.Join(recs, ","))
}

func fhirGet(t *testing.T, ts *testServer, path string, want int) map[string]any {
	t.Helper()
	r := ts.send("GET", path, nil, "X-Open-Wearables-API-Key", adminKey)
	if r.status != want {
		t.Fatalf("GET %s: %d, want %d: %s", path, r.status, want, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/fhir+json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return m
}

func entries(b map[string]any) []map[string]any {
	var out []map[string]any
	es, _ := b["entry"].([]any)
	for _, e := range es {
		out = append(out, e.(map[string]any)["resource"].(map[string]any))
	}
	return out
}

func nextLink(b map[string]any) string {
	ls, _ := b["link"].([]any)
	for _, l := range ls {
		if m := l.(map[string]any); m["relation"] == "next" {
			u := m["url"].(string)
			return u[strings.Index(u, "/fhir/"):]
		}
	}
	return ""
}

func TestFHIRReadsBackKnownValues(t *testing.T) {
	ts := startIndexing(t)
	const a, b = "fhir-user-a", "fhir-user-b"
	for _, u := range []struct {
		id, marker string
		hr         float64
	}{{a, "zqalpha", 61}, {b, "zqbravo", 90}} {
		if r := ts.asAdmin(u.id, fhirBody(u.marker, u.hr)); r.status != 202 {
			t.Fatalf("sync: %d %s", r.status, r.body)
		}
	}
	for _, f := range []string{"apple_sdk_import__sample_sdk_payload.json", "sleep_service__DETAILED_STAGES_PAYLOAD.json"} {
		if r := ts.asAdmin(a, fixture(t, f)); r.status != 202 {
			t.Fatalf("sync %s: %d %s", f, r.status, r.body)
		}
	}
	ts.indexed()

	p := fhirGet(t, ts, "/fhir/r4/Patient/"+a, 200)
	if id := p["identifier"].([]any)[0].(map[string]any); id["system"] != "urn:wearhouse:user" || id["value"] != a {
		t.Errorf("Patient identifier %v", id)
	}
	fhirGet(t, ts, "/fhir/r4/Patient/nobody", 404)

	hr := entries(fhirGet(t, ts, "/fhir/r4/Observation?patient="+a+"&code=http://loinc.org|8867-4", 200))
	if len(hr) != 2 {
		t.Fatalf("heart rate: %d Observations, want 2: %v", len(hr), hr)
	}
	q := hr[0]["valueQuantity"].(map[string]any)
	coding := hr[0]["code"].(map[string]any)["coding"].([]any)
	if q["value"] != 61.0 || q["code"] != "/min" || q["system"] != "http://unitsofmeasure.org" ||
		coding[0].(map[string]any)["code"] != "8867-4" || coding[1].(map[string]any)["system"] != "urn:wearhouse:series" {
		t.Errorf("heart rate Observation: %v", hr[0])
	}
	// The same sample has the same id every time.
	again := entries(fhirGet(t, ts, "/fhir/r4/Observation?patient="+a+"&code=heart_rate", 200))
	if again[0]["id"] != hr[0]["id"] {
		t.Errorf("ids differ between reads: %v %v", again[0]["id"], hr[0]["id"])
	}
	bp := entries(fhirGet(t, ts, "/fhir/r4/Observation?patient="+a+"&code=85354-9", 200))
	if len(bp) != 1 || len(bp[0]["component"].([]any)) != 2 {
		t.Fatalf("blood pressure: %v", bp)
	}
	spo2 := entries(fhirGet(t, ts, "/fhir/r4/Observation?patient="+a+"&code=59408-5", 200))
	if len(spo2) != 1 {
		t.Fatalf("SpO2: %v", spo2)
	}
	if v := spo2[0]["valueQuantity"].(map[string]any); v["code"] != "%" {
		t.Errorf("SpO2 unit: %v", v)
	}
	sleep := entries(fhirGet(t, ts, "/fhir/r4/Observation?patient="+a+"&code=93832-4", 200))
	if len(sleep) == 0 || sleep[0]["effectivePeriod"] == nil {
		t.Errorf("sleep: %v", sleep)
	}
	// B's heart rate is B's; A's never shows under B.
	bhr := fhirGet(t, ts, "/fhir/r4/Observation?patient="+b+"&code=8867-4", 200)
	if raw, _ := json.Marshal(bhr); bytes.Contains(raw, []byte("zqalpha")) || bytes.Contains(raw, []byte(a)) {
		t.Errorf("B's answer holds A's data: %s", raw)
	}
	if v := entries(bhr)[0]["valueQuantity"].(map[string]any)["value"]; v != 90.0 {
		t.Errorf("B's first heart rate %v, want 90", v)
	}

	// Paging: one entry a page, following next links, reaches every
	// Observation once.
	all := entries(fhirGet(t, ts, "/fhir/r4/Observation?patient="+a+"&_count=1000", 200))
	seen := map[string]bool{}
	path := "/fhir/r4/Observation?patient=" + a + "&_count=1"
	for pages := 0; path != ""; pages++ {
		bd := fhirGet(t, ts, path, 200)
		for _, e := range entries(bd) {
			if seen[e["id"].(string)] {
				t.Errorf("%s seen twice", e["id"])
			}
			seen[e["id"].(string)] = true
		}
		path = nextLink(bd)
		if pages > 100 {
			t.Fatal("no end to the pages")
		}
	}
	if len(seen) != len(all) || len(all) < 6 {
		t.Errorf("paged %d Observations, one page holds %d", len(seen), len(all))
	}

	ev := entries(fhirGet(t, ts, "/fhir/r4/Patient/"+a+"/$everything", 200))
	if ev[0]["resourceType"] != "Patient" || ev[1]["resourceType"] != "Device" {
		t.Errorf("$everything starts with %v, %v", ev[0]["resourceType"], ev[1]["resourceType"])
	}
	devs := entries(fhirGet(t, ts, "/fhir/r4/Device?patient="+a, 200))
	if len(devs) < 2 {
		t.Errorf("Devices: %v", devs)
	}

	// Bulk export of A: kick-off, status, files.
	r := ts.send("GET", "/fhir/r4/Patient/$export?patient="+a, nil, "X-Open-Wearables-API-Key", adminKey, "Prefer", "respond-async")
	if r.status != 202 || r.header.Get("Content-Location") == "" {
		t.Fatalf("kick-off: %d %v %s", r.status, r.header, r.body)
	}
	status := r.header.Get("Content-Location")
	status = status[strings.Index(status, "/fhir/"):]
	var manifest struct {
		Output []struct{ Type, URL string }
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		r = ts.send("GET", status, nil, "X-Open-Wearables-API-Key", adminKey)
		if r.status == 200 {
			break
		}
		if r.status != 202 || time.Now().After(deadline) {
			t.Fatalf("status: %d %s", r.status, r.body)
		}
	}
	if err := json.Unmarshal(r.body, &manifest); err != nil || len(manifest.Output) != 3 {
		t.Fatalf("manifest: %v %s", err, r.body)
	}
	dir := t.TempDir()
	files := []string{}
	for _, o := range manifest.Output {
		u := o.URL[strings.Index(o.URL, "/fhir/"):]
		r := ts.send("GET", u, nil, "X-Open-Wearables-API-Key", adminKey)
		if r.status != 200 || r.header.Get("Content-Type") != "application/fhir+ndjson" {
			t.Fatalf("GET %s: %d %s", u, r.status, r.header.Get("Content-Type"))
		}
		lines := 0
		sc := bufio.NewScanner(bytes.NewReader(r.body))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m["resourceType"] != o.Type {
				t.Errorf("%s: line %d: %v %s", u, lines, err, sc.Bytes())
			}
			lines++
		}
		if o.Type == "Observation" && lines != len(all) {
			t.Errorf("the export has %d Observations, the search %d", lines, len(all))
		}
		f := filepath.Join(dir, o.Type+".ndjson")
		os.WriteFile(f, r.body, 0o600)
		files = append(files, f)
	}
	if r := ts.send("DELETE", status, nil, "X-Open-Wearables-API-Key", adminKey); r.status != 202 {
		t.Errorf("cancel: %d", r.status)
	}
	if r := ts.send("GET", status, nil, "X-Open-Wearables-API-Key", adminKey); r.status != 404 {
		t.Errorf("status after cancel: %d", r.status)
	}

	// Every kind validates against the FHIR R4 JSON schema.
	for name, path := range map[string]string{
		"metadata": "/fhir/r4/metadata", "patient": "/fhir/r4/Patient/" + a, "bundle": "/fhir/r4/Patient/" + a + "/$everything",
		"observations": "/fhir/r4/Observation?patient=" + a, "devices": "/fhir/r4/Device?patient=" + a, "outcome": "/fhir/r4/Patient/nobody",
	} {
		r := ts.send("GET", path, nil, "X-Open-Wearables-API-Key", adminKey)
		f := filepath.Join(dir, name+".json")
		os.WriteFile(f, r.body, 0o600)
		files = append(files, f)
	}
	validateFHIR(t, files)
}

// validateFHIR runs the schema check of e2e/fhir-validate.cjs: skipped
// when node or the npm package is missing, unless CI=true.
func validateFHIR(t *testing.T, files []string) {
	t.Helper()
	e2e, _ := filepath.Abs(filepath.Join("..", "e2e"))
	_, err := exec.LookPath("node")
	_, serr := os.Stat(filepath.Join(e2e, "node_modules", "@asymmetrik", "fhir-json-schema-validator", "fhir.schema.json"))
	if err != nil || serr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the FHIR schema check needs node and `npm ci` in e2e/: %v %v", err, serr)
		}
		t.Skip("skipping the FHIR schema check: it needs node and `npm ci` in e2e/")
	}
	cmd := exec.Command("node", append([]string{filepath.Join(e2e, "fhir-validate.cjs")}, files...)...)
	cmd.Dir = e2e
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("FHIR schema check: %v\n%s", err, out)
	}
	t.Logf("FHIR schema check: %s", bytes.TrimSpace(out))
}
