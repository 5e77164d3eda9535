package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// exportGet sends a GET with the admin key (unless headers are given) and
// returns the answer whatever its content type.
func exportGet(ts *testServer, path string, headers ...string) resp {
	ts.t.Helper()
	if headers == nil {
		headers = []string{"X-Open-Wearables-API-Key", adminKey}
	}
	return ts.send("GET", path, nil, headers...)
}

// workoutIDs lists the ids of a user's workouts, newest first.
func workoutIDs(ts *testServer, user string) []string {
	ts.t.Helper()
	var ids []string
	for _, w := range ts.get("/api/v1/users/"+user+"/events/workouts", url.Values{"start_date": {"2020-01-01"}, "end_date": {"2030-01-01"}})["data"].([]any) {
		ids = append(ids, w.(map[string]any)["id"].(string))
	}
	return ids
}

const gpxNS = "http://www.topografix.com/GPX/1/1"

// gpxDoc mirrors the parts of the GPX 1.1 schema (gpxType, metadataType,
// trkType, trksegType, wptType) that a route export writes.
type gpxDoc struct {
	XMLName        xml.Name `xml:"http://www.topografix.com/GPX/1/1 gpx"`
	Version        string   `xml:"version,attr"`
	Creator        string   `xml:"creator,attr"`
	SchemaLocation string   `xml:"http://www.w3.org/2001/XMLSchema-instance schemaLocation,attr"`
	Metadata       *struct {
		Name   string `xml:"http://www.topografix.com/GPX/1/1 name"`
		Bounds *struct {
			MinLat string `xml:"minlat,attr"`
			MinLon string `xml:"minlon,attr"`
			MaxLat string `xml:"maxlat,attr"`
			MaxLon string `xml:"maxlon,attr"`
		} `xml:"http://www.topografix.com/GPX/1/1 bounds"`
	} `xml:"http://www.topografix.com/GPX/1/1 metadata"`
	Trk []struct {
		Name   string `xml:"http://www.topografix.com/GPX/1/1 name"`
		Type   string `xml:"http://www.topografix.com/GPX/1/1 type"`
		Trkseg []struct {
			Trkpt []struct {
				Lat  string  `xml:"lat,attr"`
				Lon  string  `xml:"lon,attr"`
				Ele  *string `xml:"http://www.topografix.com/GPX/1/1 ele"`
				Time *string `xml:"http://www.topografix.com/GPX/1/1 time"`
			} `xml:"http://www.topografix.com/GPX/1/1 trkpt"`
		} `xml:"http://www.topografix.com/GPX/1/1 trkseg"`
	} `xml:"http://www.topografix.com/GPX/1/1 trk"`
}

// gpxChildOrder is the schema's sequence of child elements per element;
// gpxRepeatable are the children that may occur more than once.
var (
	gpxChildOrder = map[string][]string{
		"gpx":      {"metadata", "wpt", "rte", "trk", "extensions"},
		"metadata": {"name", "desc", "author", "copyright", "link", "time", "keywords", "bounds", "extensions"},
		"trk":      {"name", "cmt", "desc", "src", "link", "number", "type", "extensions", "trkseg"},
		"trkseg":   {"trkpt", "extensions"},
		"trkpt": {"ele", "time", "magvar", "geoidheight", "name", "cmt", "desc", "src", "link", "sym", "type", "fix",
			"sat", "hdop", "vdop", "pdop", "ageofdgpsdata", "dgpsid", "extensions"},
	}
	gpxRepeatable = map[string]bool{"wpt": true, "rte": true, "trk": true, "link": true, "trkseg": true, "trkpt": true}
	xsdDecimal    = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
)

// checkGPXStructure walks a GPX document: every element is in the GPX 1.1
// namespace, children come in the schema's order and only repeatable ones
// repeat, the required attributes are there, and coordinates, elevations
// and times have the schema's lexical forms.
func checkGPXStructure(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	type frame struct {
		name string
		last int // index in the parent's order of the last child seen
		seen map[string]bool
	}
	var stack []*frame
	var text strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("GPX does not parse: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			name := e.Name.Local
			if e.Name.Space != gpxNS {
				t.Errorf("<%s> in namespace %q", name, e.Name.Space)
			}
			if len(stack) == 0 && name != "gpx" {
				t.Errorf("root <%s>", name)
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				if order, ok := gpxChildOrder[p.name]; ok {
					i := slices.Index(order, name)
					switch {
					case i < 0:
						t.Errorf("<%s> is not a child of <%s>", name, p.name)
					case i < p.last:
						t.Errorf("<%s> after <%s> in <%s>", name, order[p.last], p.name)
					case p.seen[name] && !gpxRepeatable[name]:
						t.Errorf("<%s> twice in <%s>", name, p.name)
					}
					p.last = max(p.last, i)
					p.seen[name] = true
				}
			}
			attrs := map[string]string{}
			for _, a := range e.Attr {
				attrs[a.Name.Local] = a.Value
			}
			required := map[string][]string{"gpx": {"version", "creator"}, "bounds": {"minlat", "minlon", "maxlat", "maxlon"},
				"trkpt": {"lat", "lon"}}
			for _, a := range required[name] {
				v, ok := attrs[a]
				switch {
				case !ok:
					t.Errorf("<%s> without %s", name, a)
				case name != "gpx" && !xsdDecimal.MatchString(v):
					t.Errorf("<%s %s=%q>: not an xsd:decimal", name, a, v)
				}
			}
			if name == "gpx" && attrs["version"] != "1.1" {
				t.Errorf("version %q", attrs["version"])
			}
			stack = append(stack, &frame{name: name, seen: map[string]bool{}})
			text.Reset()
		case xml.CharData:
			text.Write(e)
		case xml.EndElement:
			v := strings.TrimSpace(text.String())
			switch e.Name.Local {
			case "ele":
				if !xsdDecimal.MatchString(v) {
					t.Errorf("<ele>%s</ele>: not an xsd:decimal", v)
				}
			case "time":
				if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
					t.Errorf("<time>%s</time>: %v", v, err)
				}
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		}
	}
}

// routePayload is a google batch with one walk whose route is sent out of
// order, with one point outside the valid range and one without a
// longitude, and one yoga session without a route.
const routePayload = `{"provider":"google","sdkVersion":"1","syncTimestamp":"2026-05-01T12:00:00Z","data":{"workouts":[
 {"id":"walk-1","type":"WALKING","startDate":"2026-05-01T07:00:00Z","endDate":"2026-05-01T07:30:00Z","zoneOffset":"+02:00",
  "source":{"deviceModel":"Pixel Watch 2"},"values":[{"type":"distance","value":2100,"unit":"m"}],
  "route":[
   {"timestamp":"2026-05-01T07:02:00Z","latitude":48.8570,"longitude":2.3530,"altitudeM":36.5,"horizontalAccuracyM":4,"verticalAccuracyM":null},
   {"timestamp":"2026-05-01T07:00:30Z","latitude":48.8566,"longitude":2.3522,"altitudeM":35,"horizontalAccuracyM":5,"verticalAccuracyM":3},
   {"timestamp":"2026-05-01T07:01:00Z","latitude":-91,"longitude":2.3525},
   {"timestamp":"2026-05-01T07:01:30Z","latitude":48.8568},
   {"timestamp":"2026-05-01T07:03:00.5Z","latitude":48.8575,"longitude":-2.354,"altitudeM":null}
  ]},
 {"id":"yoga-1","type":"YOGA","startDate":"2026-05-01T18:00:00Z","endDate":"2026-05-01T18:45:00Z","source":{"deviceModel":"Pixel Watch 2"}}
]}}`

func TestRouteGPX(t *testing.T) {
	ts := startIndexing(t)
	if r := ts.asAdmin("runner", []byte(routePayload)); r.status != 202 {
		t.Fatalf("post: %d %s", r.status, r.body)
	}
	ts.indexed()
	ids := workoutIDs(ts, "runner")
	if len(ids) != 2 {
		t.Fatalf("%d workouts", len(ids))
	}
	yoga, walk := ids[0], ids[1] // newest first
	path := "/api/v1/users/runner/events/workouts/" + walk + "/route.gpx"
	r := exportGet(ts, path)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/gpx+xml" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="`+walk+`.gpx"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if !bytes.HasPrefix(r.body, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Errorf("no XML declaration: %.80s", r.body)
	}
	checkGPXStructure(t, r.body)
	var g gpxDoc
	if err := xml.Unmarshal(r.body, &g); err != nil {
		t.Fatal(err)
	}
	if g.Version != "1.1" || g.Creator != "wearhouse" ||
		g.SchemaLocation != "http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd" {
		t.Errorf("gpx attributes: %q %q %q", g.Version, g.Creator, g.SchemaLocation)
	}
	if len(g.Trk) != 1 || len(g.Trk[0].Trkseg) != 1 {
		t.Fatalf("%d tracks", len(g.Trk))
	}
	trk := g.Trk[0]
	if trk.Name != "walking 2026-05-01T07:00:00Z" || trk.Type != "walking" {
		t.Errorf("track %q, type %q", trk.Name, trk.Type)
	}
	var got []string
	for _, p := range trk.Trkseg[0].Trkpt {
		ele, at := "-", "-"
		if p.Ele != nil {
			ele = *p.Ele
		}
		if p.Time != nil {
			at = *p.Time
		}
		got = append(got, strings.Join([]string{p.Lat, p.Lon, ele, at}, " "))
	}
	want := []string{
		"48.8566 2.3522 35 2026-05-01T07:00:30Z",
		"48.857 2.353 36.5 2026-05-01T07:02:00Z",
		"48.8575 -2.354 - 2026-05-01T07:03:00.5Z",
	}
	if !slices.Equal(got, want) {
		t.Errorf("points\n got %q\nwant %q", got, want)
	}
	if m := g.Metadata; m == nil || m.Bounds == nil || m.Bounds.MinLat != "48.8566" || m.Bounds.MaxLat != "48.8575" ||
		m.Bounds.MinLon != "-2.354" || m.Bounds.MaxLon != "2.353" {
		t.Errorf("metadata %+v", g.Metadata)
	}

	// A trailing slash is the same route.
	if r2 := exportGet(ts, path+"/"); r2.status != 200 || !bytes.Equal(r2.body, r.body) {
		t.Errorf("trailing slash: %d", r2.status)
	}
	// No route, no workout, no user, another user: 404 with a JSON detail.
	ts.post("someone", "malformed_payload_debug__valid.json")
	ts.indexed()
	for _, c := range []struct{ path, detail string }{
		{"/api/v1/users/runner/events/workouts/" + yoga + "/route.gpx", "Workout has no route"},
		{"/api/v1/users/runner/events/workouts/00ff/route.gpx", "Workout not found"},
		{"/api/v1/users/nobody/events/workouts/" + walk + "/route.gpx", "Workout not found"},
		{"/api/v1/users/someone/events/workouts/" + walk + "/route.gpx", "Workout not found"},
	} {
		r := exportGet(ts, c.path)
		if r.status != 404 || r.header.Get("Content-Type") != "application/json" || r.detail(t) != c.detail {
			t.Errorf("%s: %d %s, want 404 %q", c.path, r.status, r.body, c.detail)
		}
	}
	// Read credentials: none, or an SDK token, is 401.
	if r := exportGet(ts, path, "Accept", "*/*"); r.status != 401 {
		t.Errorf("no credentials: %d", r.status)
	}
	if r := exportGet(ts, path, "Authorization", "Bearer "+ts.token("runner")); r.status != 401 {
		t.Errorf("SDK token: %d", r.status)
	}
}

func TestRouteGPXOfTheSeed(t *testing.T) {
	ts := startIndexing(t)
	ts.post("seed", "sync_request__SyncRequest_json_schema_example.json")
	ts.indexed()
	ids := workoutIDs(ts, "seed")
	if len(ids) != 1 {
		t.Fatalf("%d workouts", len(ids))
	}
	r := exportGet(ts, "/api/v1/users/seed/events/workouts/"+ids[0]+"/route.gpx")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	checkGPXStructure(t, r.body)
	var g gpxDoc
	if err := xml.Unmarshal(r.body, &g); err != nil {
		t.Fatal(err)
	}
	pt := g.Trk[0].Trkseg[0].Trkpt
	if len(pt) != 1 || pt[0].Lat != "52.229676" || pt[0].Lon != "21.012229" || *pt[0].Ele != "142" ||
		*pt[0].Time != "2026-02-24T06:01:00Z" || g.Trk[0].Name != "running 2026-02-24T06:00:00Z" {
		t.Errorf("seed route %s", r.body)
	}
}

const csvHeader = "timestamp,type,value,unit,zone_offset,provider,source,device\n"

func csvPath(user string, q url.Values) string {
	return "/api/v1/users/" + user + "/timeseries.csv?" + q.Encode()
}

func readCSV(t *testing.T, r resp) [][]string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if !bytes.HasPrefix(r.body, []byte(csvHeader)) {
		t.Fatalf("no header: %.100s", r.body)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	return rows[1:]
}

func TestTimeseriesCSVOfTheSeed(t *testing.T) {
	ts := startIndexing(t)
	ts.post("seed", "sync_request__SyncRequest_json_schema_example.json")
	ts.indexed()
	r := exportGet(ts, csvPath("seed", url.Values{"start_time": {"2026-02-24"}, "end_time": {"2026-02-24"}}))
	rows := readCSV(t, r)
	// The record, and the statistics that become series at the workout's
	// end: vo2_max (series 60) before cadence (180) at the same time;
	// maxCadence comes after meanCadence and replaces it.
	src := []string{"+01:00", "samsung", "Galaxy Watch7", "SM-R960"}
	want := [][]string{
		append([]string{"2026-02-24T06:45:00Z", "vo2_max", "42.5", "ml_kg_min"}, src...),
		append([]string{"2026-02-24T06:45:00Z", "cadence", "182", "rpm"}, src...),
		append([]string{"2026-02-24T08:30:00Z", "blood_pressure_systolic", "122", "mmHg"}, src...),
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("rows\n got %q\nwant %q", rows, want)
	}
	// The same rows as the JSON route, in the same order.
	var js []string
	for _, s := range series(ts, "seed", nil) {
		js = append(js, s["timestamp"].(string)+" "+s["type"].(string))
	}
	var cs []string
	for _, row := range rows {
		cs = append(cs, row[0]+" "+row[1])
	}
	if !slices.Equal(js, cs) {
		t.Errorf("CSV %v, JSON %v", cs, js)
	}
	// types filters; the window is half-open; a trailing slash is the same.
	if rows := readCSV(t, exportGet(ts, "/api/v1/users/seed/timeseries.csv/?start_time=2026-02-24T08:30:00Z&end_time=2026-02-24T08:30:01Z")); len(rows) != 1 {
		t.Errorf("[08:30:00, 08:30:01): %q", rows)
	}
	if rows := readCSV(t, exportGet(ts, csvPath("seed", url.Values{"start_time": {"2026-02-24T06:00:00Z"}, "end_time": {"2026-02-24T06:45:00Z"}}))); len(rows) != 0 {
		t.Errorf("[06:00, 06:45): %q", rows)
	}
	if rows := readCSV(t, exportGet(ts, csvPath("seed", url.Values{"start_time": {"2026-02-24"}, "end_time": {"2026-02-25"}, "types": {"cadence", "blood_pressure_systolic"}}))); len(rows) != 2 ||
		rows[0][1] != "cadence" || rows[1][1] != "blood_pressure_systolic" {
		t.Errorf("types: %q", rows)
	}

	// Errors come before any CSV, in JSON.
	for q, status := range map[string]int{
		"start_time=2026-02-24":                     400,
		"start_time=yesterday&end_time=2026-02-25":  400,
		"start_time=2026-02-25&end_time=2026-02-24": 400,
	} {
		r := exportGet(ts, "/api/v1/users/seed/timeseries.csv?"+q)
		if r.status != status || r.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
	if r := exportGet(ts, csvPath("seed", url.Values{"start_time": {"2026-02-24"}, "end_time": {"2026-02-25"}}), "Accept", "*/*"); r.status != 401 {
		t.Errorf("no credentials: %d", r.status)
	}
}

func TestTimeseriesCSVQuotingAndEmpty(t *testing.T) {
	ts := startIndexing(t)
	const name = `Jo's "Run, Walk" Watch`
	body := `{"provider":"apple","sdkVersion":"1","syncTimestamp":"2026-03-01T00:00:00Z","data":{"records":[
	 {"id":"r1","type":"HKQuantityTypeIdentifierHeartRate","startDate":"2026-03-01T10:00:00Z","endDate":"2026-03-01T10:00:00Z",
	  "value":71,"unit":"count/min","source":{"name":` + mustJSON(t, name) + `,"deviceModel":"Watch7,1"}}]}}`
	if r := ts.asAdmin("q", []byte(body)); r.status != 202 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	ts.indexed()
	r := exportGet(ts, csvPath("q", url.Values{"start_time": {"2026-03-01"}, "end_time": {"2026-03-01"}}))
	if want := csvHeader + `2026-03-01T10:00:00Z,heart_rate,71,bpm,,apple,"Jo's ""Run, Walk"" Watch","Watch7,1"` + "\n"; string(r.body) != want {
		t.Errorf("body\n%s\nwant\n%s", r.body, want)
	}
	if rows := readCSV(t, r); len(rows) != 1 || rows[0][6] != name {
		t.Errorf("rows %q", rows)
	}
	// HEAD answers the headers without running the export.
	head, err := http.NewRequest("HEAD", ts.base+csvPath("q", url.Values{"start_time": {"2026-03-01"}, "end_time": {"2026-03-01"}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	head.Header.Set("X-Open-Wearables-API-Key", adminKey)
	if res, err := ts.c.Do(head); err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Errorf("HEAD: %v %v", err, res)
	} else {
		res.Body.Close()
	}
	// An empty window, and an unknown user, give just the header.
	for _, p := range []string{
		csvPath("q", url.Values{"start_time": {"2026-03-02"}, "end_time": {"2026-03-03"}}),
		csvPath("nobody", url.Values{"start_time": {"2026-03-01"}, "end_time": {"2026-03-02"}}),
	} {
		if r := exportGet(ts, p); r.status != 200 || string(r.body) != csvHeader {
			t.Errorf("%s: %d %q", p, r.status, r.body)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTimeseriesCSVStreamsThreeDays exports three days of minute-level
// heart rate and steps, 8,640 rows, and checks that every row comes, once,
// in time order.
func TestTimeseriesCSVStreamsThreeDays(t *testing.T) {
	ts := startIndexing(t)
	start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	const minutes = 3 * 24 * 60
	for day := 0; day < 3; day++ {
		var b strings.Builder
		b.WriteString(`{"provider":"samsung","sdkVersion":"1","syncTimestamp":"2026-04-04T00:00:00Z","data":{"records":[`)
		for m := day * 1440; m < (day+1)*1440; m++ {
			at := start.Add(time.Duration(m) * time.Minute).Format(time.RFC3339)
			if m > day*1440 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"id":"hr-%d","type":"HEART_RATE","startDate":%q,"endDate":%q,"value":%d,"unit":"bpm","source":{"deviceModel":"SM-R960"}},`, m, at, at, 55+m%50)
			fmt.Fprintf(&b, `{"id":"st-%d","type":"STEP_COUNT","startDate":%q,"endDate":%q,"value":%d,"unit":"count","source":{"deviceModel":"SM-R960"}}`, m, at, at, m%120)
		}
		b.WriteString(`]}}`)
		if r := ts.asAdmin("big", []byte(b.String())); r.status != 202 {
			t.Fatalf("day %d: %d %s", day, r.status, r.body)
		}
	}
	ts.indexed()
	r := exportGet(ts, csvPath("big", url.Values{"start_time": {"2026-04-01"}, "end_time": {"2026-04-03"}}))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if te := r.header.Get("Content-Length"); te != "" {
		t.Errorf("Content-Length %s: the body was not streamed", te)
	}
	rows := readCSV(t, r)
	if len(rows) != 2*minutes {
		t.Fatalf("%d rows, want %d", len(rows), 2*minutes)
	}
	for i, row := range rows {
		at := start.Add(time.Duration(i/2) * time.Minute)
		typ, value := "heart_rate", fmt.Sprint(55+(i/2)%50)
		if i%2 == 1 {
			typ, value = "steps", fmt.Sprint((i/2)%120)
		}
		if row[0] != at.Format(time.RFC3339) || row[1] != typ || row[2] != value {
			t.Fatalf("row %d: %q, want %s %s %s", i, row, at.Format(time.RFC3339), typ, value)
		}
	}
}

func TestCoverage(t *testing.T) {
	ts := startServer(t, nil)
	r := ts.do("GET", "/api/v1/meta/coverage", nil) // no credentials
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var c struct {
		Providers  []string `json:"providers"`
		Timeseries []struct {
			Name    string `json:"name"`
			Metrics []struct {
				Code      string   `json:"code"`
				Unit      string   `json:"unit"`
				Providers []string `json:"providers"`
			} `json:"metrics"`
		} `json:"timeseries"`
		WorkoutFields []struct {
			Code      string   `json:"code"`
			Providers []string `json:"providers"`
		} `json:"workout_fields"`
		SleepFields          []map[string]any `json:"sleep_fields"`
		MenstrualCycleFields []map[string]any `json:"menstrual_cycle_fields"`
		HealthScores         []map[string]any `json:"health_scores"`
	}
	d := json.NewDecoder(bytes.NewReader(r.body))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		t.Fatalf("shape: %v\n%s", err, r.body)
	}
	if !slices.Equal(c.Providers, []string{"apple", "google", "samsung"}) {
		t.Errorf("providers %v", c.Providers)
	}
	if c.SleepFields == nil || c.MenstrualCycleFields == nil || c.HealthScores == nil || len(c.WorkoutFields) == 0 {
		t.Errorf("fields: sleep %v, menstrual %v, scores %v, workout %v", c.SleepFields, c.MenstrualCycleFields, c.HealthScores, c.WorkoutFields)
	}
	type entry struct{ category, unit, providers string }
	got := map[string]entry{}
	var categories []string
	for _, cat := range c.Timeseries {
		categories = append(categories, cat.Name)
		for _, m := range cat.Metrics {
			got[m.Code] = entry{cat.Name, m.Unit, strings.Join(m.Providers, ",")}
		}
	}
	if len(categories) == 0 || categories[0] != "Heart & Cardiovascular" || categories[len(categories)-1] != "Other" {
		t.Errorf("categories %v", categories)
	}
	for code, want := range map[string]entry{
		"heart_rate":                  {"Heart & Cardiovascular", "bpm", "apple,google,samsung"},
		"heart_rate_variability_sdnn": {"Heart & Cardiovascular", "ms", "apple"},
		"walking_step_length":         {"Activity - Walking", "cm", "apple"},
		"skeletal_muscle_mass":        {"Body Composition", "kg", "google,samsung"},
		"steps":                       {"Activity - Basic", "count", "apple,google,samsung"},
	} {
		if got[code] != want {
			t.Errorf("%s: %+v, want %+v", code, got[code], want)
		}
	}
	if _, ok := got["garmin_body_battery"]; ok {
		t.Error("a series no SDK feeds is listed")
	}
	// The same bytes every time, with a trailing slash too.
	if again := ts.do("GET", "/api/v1/meta/coverage/", nil); again.status != 200 || !bytes.Equal(again.body, r.body) {
		t.Errorf("second answer differs: %d", again.status)
	}
}
