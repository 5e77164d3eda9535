package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/app"
	"wearhouse/auth"
	"wearhouse/ingest"
	"wearhouse/pebblestore"
)

// The console in a real browser: Debian's Chromium, driven by
// playwright-core (e2e/), against real servers on loopback ports that this
// test starts and fills with known data. It needs /usr/bin/chromium (or
// WEARHOUSE_CHROMIUM), node, and `npm ci` run in e2e/; without them it is
// skipped with a message, except under CI, where .ci/run installs them and
// a skip would hide the console's tests.
//
// WEARHOUSE_SCREENSHOTS=dir writes screenshots of the main pages there
// (the README's come from it).

const e2eAdminKey = "sk-e2e-0000000000000000000000000000"

// knownDay is the day the known user's data is built around (UTC; the
// browser runs in UTC too).
var knownDay = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

func browserPrereqs(t *testing.T) (chromium, node string) {
	t.Helper()
	chromium = os.Getenv("WEARHOUSE_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	missing := ""
	if _, err := os.Stat(chromium); err != nil {
		missing = chromium + " (apt-get install chromium)"
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing += " node"
	}
	if _, err := os.Stat(filepath.Join("e2e", "node_modules", "playwright-core", "package.json")); err != nil {
		missing += " e2e/node_modules/playwright-core (cd e2e && npm ci)"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the console's browser tests need:%s", missing)
		}
		t.Skipf("skipping the console's browser tests: missing %s", missing)
	}
	return chromium, node
}

// e2eServer is a real server on a loopback port.
type e2eServer struct {
	app  *app.App
	base string
}

func startE2EServer(t *testing.T, idle time.Duration, logs io.Writer) *e2eServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Start(app.Options{
		Store:    pebblestore.Options{Dir: t.TempDir()},
		Auth:     auth.Options{AdminKey: e2eAdminKey, SessionIdle: idle},
		Ingest:   ingest.Options{AutoCreateUsers: true, BallastSize: -1},
		Logger:   zerolog.New(logs),
		Announce: io.Discard,
	}, ln)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		a.Close(ctx)
	})
	return &e2eServer{app: a, base: "http://" + ln.Addr().String()}
}

func (s *e2eServer) call(t *testing.T, method, path string, body []byte, want int) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, s.base+path, bytes.NewReader(body))
	req.Header.Set("X-Open-Wearables-API-Key", e2eAdminKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return b
}

func (s *e2eServer) user(t *testing.T, external string) string {
	t.Helper()
	var u struct {
		ID string `json:"id"`
	}
	json.Unmarshal(s.call(t, "POST", "/api/v1/users", fmt.Appendf(nil, `{"external_user_id":%q,"first_name":"Known","last_name":%q}`, external, external), 201), &u)
	return u.ID
}

// indexed waits until the compactor has indexed everything.
func (s *e2eServer) indexed(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, _ := s.app.Compactor.Lag(); b == 0 {
			return
		}
	}
	t.Fatal("the compactor did not catch up in 3 minutes")
}

// appleSource is the source object of the known data's records.
const appleSource = `{"name":"E2E Watch","bundleIdentifier":"com.apple.health","deviceManufacturer":"Apple Inc.","deviceModel":"Watch","productType":"Watch7,5"}`

type batch struct {
	records, sleep, workouts []string
}

func (b *batch) record(id, typ, unit string, v float64, start, end time.Time) {
	b.records = append(b.records, fmt.Sprintf(`{"id":%q,"type":%q,"unit":%q,"value":%g,"startDate":%q,"endDate":%q,"source":%s}`,
		id, typ, unit, v, start.Format(time.RFC3339), end.Format(time.RFC3339), appleSource))
}

func (b *batch) body(n int) []byte {
	return fmt.Appendf(nil, `{"provider":"apple","sdkVersion":"1.0.0","syncTimestamp":"2026-03-11T12:%02d:%02dZ","data":{"records":[%s],"sleep":[%s],"workouts":[%s]}}`,
		n/60%60, n%60, strings.Join(b.records, ","), strings.Join(b.sleep, ","), strings.Join(b.workouts, ","))
}

// sendBatches posts the batches of the records gen makes, 2,000 items a
// body, over a few connections.
func (s *e2eServer) sendBatches(t *testing.T, user string, gen func(emit func(b *batch))) int {
	t.Helper()
	bodies := make(chan []byte, 8)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range bodies {
				req, _ := http.NewRequest("POST", s.base+"/api/v1/sdk/users/"+user+"/sync", bytes.NewReader(body))
				req.Header.Set("X-Open-Wearables-API-Key", e2eAdminKey)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 202 {
						err = fmt.Errorf("sync: %d", res.StatusCode)
					}
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	n := 0
	gen(func(b *batch) { n++; bodies <- b.body(n) })
	close(bodies)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	return n
}

// expectedPoints are the points each chart of the known user's page must
// draw on knownDay, from the data seedKnown sends.
var expectedPoints = map[string]int{
	"hr-day":      288, // a day of minute heart rate in 5-minute buckets
	"hr-week":     168, // 7 days in hours
	"resting-hr":  60,  // one a day for 60 days
	"hrv":         60,
	"steps-month": 30, "energy-month": 30, // 30 days of hourly steps and energy
	"sleep-night":   16, // 8 hours of half-hour stages
	"sleep-month":   14, // 14 nights
	"workout-route": 120, "workout-hr": 120, "workout-elevation": 120,
	"body": 20, // a weight every third day for 60 days
}

// seedKnown gives a user the known data of expectedPoints.
func (s *e2eServer) seedKnown(t *testing.T, user string) {
	t.Helper()
	d := knownDay
	s.sendBatches(t, user, func(emit func(*batch)) {
		b := &batch{}
		flush := func(force bool) {
			if len(b.records)+len(b.sleep)+len(b.workouts) >= 2000 || force && len(b.records)+len(b.sleep)+len(b.workouts) > 0 {
				emit(b)
				b = &batch{}
			}
		}
		for m := range 7 * 24 * 60 {
			at := d.AddDate(0, 0, -6).Add(time.Duration(m) * time.Minute)
			// A day's rhythm, lower at night, with a little noise.
			hr := 68 - 12*math.Cos(2*math.Pi*float64(m%1440)/1440) + float64(m*7919%11) - 5
			b.record(fmt.Sprintf("hr-%d", m), "HKQuantityTypeIdentifierHeartRate", "count/min", math.Round(hr), at, at)
			flush(false)
		}
		for i := range 60 {
			day := d.AddDate(0, 0, -i)
			b.record(fmt.Sprintf("rhr-%d", i), "HKQuantityTypeIdentifierRestingHeartRate", "count/min", math.Round(52+3*math.Sin(float64(i)/9)), day.Add(8*time.Hour), day.Add(8*time.Hour))
			b.record(fmt.Sprintf("hrv-%d", i), "HKQuantityTypeIdentifierHeartRateVariabilitySDNN", "ms", math.Round(46+8*math.Sin(float64(i)/7)), day.Add(3*time.Hour), day.Add(3*time.Hour))
			if i%3 == 0 {
				b.record(fmt.Sprintf("w-%d", i), "HKQuantityTypeIdentifierBodyMass", "kg", math.Round((71.5+float64(i)*0.02+0.3*math.Sin(float64(i)))*10)/10, day.Add(7*time.Hour), day.Add(7*time.Hour))
			}
			flush(false)
		}
		for h := range 30 * 24 {
			at := d.AddDate(0, 0, -29).Add(time.Duration(h) * time.Hour)
			b.record(fmt.Sprintf("st-%d", h), "HKQuantityTypeIdentifierStepCount", "count", 100, at, at.Add(30*time.Minute))
			b.record(fmt.Sprintf("en-%d", h), "HKQuantityTypeIdentifierActiveEnergyBurned", "kcal", 10, at, at.Add(30*time.Minute))
			flush(false)
		}
		stages := []string{"light", "deep", "light", "rem"}
		for n := range 14 {
			start := d.AddDate(0, 0, -n-1).Add(22 * time.Hour)
			for i := range 16 {
				st := start.Add(time.Duration(i) * 30 * time.Minute)
				b.sleep = append(b.sleep, fmt.Sprintf(`{"id":"sl-%d-%d","stage":%q,"startDate":%q,"endDate":%q,"source":%s}`,
					n, i, stages[i%4], st.Format(time.RFC3339), st.Add(30*time.Minute).Format(time.RFC3339), appleSource))
			}
		}
		ws := d.Add(7 * time.Hour)
		var route, samples []string
		for i := range 120 {
			at := ws.Add(time.Duration(i) * 15 * time.Second).Format(time.RFC3339)
			// A loop of about 5 km, a hill on it, the heart rate settling.
			th := 2 * math.Pi * float64(i) / 120
			route = append(route, fmt.Sprintf(`{"timestamp":%q,"latitude":%.6f,"longitude":%.6f,"altitudeM":%.1f}`, at,
				52.2+0.007*math.Sin(th), 21.0+0.0115*math.Cos(th)+0.003*math.Sin(2*th), 100+10*math.Sin(2*th)))
			samples = append(samples, fmt.Sprintf(`{"timestamp":%q,"type":"heartRate","value":%.0f,"unit":"bpm"}`, at,
				128+25*(1-math.Exp(-float64(i)/20))+3*math.Sin(float64(i)/5)))
		}
		b.workouts = append(b.workouts, fmt.Sprintf(`{"id":"wk-1","type":"running","startDate":%q,"endDate":%q,"source":%s,`+
			`"values":[{"type":"duration","unit":"s","value":1800},{"type":"distance","unit":"m","value":5000}],"route":[%s],"samples":[%s]}`,
			ws.Format(time.RFC3339), ws.Add(30*time.Minute).Format(time.RFC3339), appleSource, strings.Join(route, ","), strings.Join(samples, ",")))
		flush(true)
	})
}

// seedYear gives a user a year of minute heart rate and steps, up to
// knownDay.
func (s *e2eServer) seedYear(t *testing.T, user string) int {
	t.Helper()
	start := knownDay.AddDate(-1, 0, 1)
	return s.sendBatches(t, user, func(emit func(*batch)) {
		b := &batch{}
		for m := 0; start.Add(time.Duration(m) * time.Minute).Before(knownDay.AddDate(0, 0, 1)); m++ {
			at := start.Add(time.Duration(m) * time.Minute)
			b.record(fmt.Sprintf("yh-%d", m), "HKQuantityTypeIdentifierHeartRate", "count/min", float64(55+m%50), at, at)
			b.record(fmt.Sprintf("ys-%d", m), "HKQuantityTypeIdentifierStepCount", "count", float64(m%30), at, at.Add(time.Minute))
			if len(b.records) >= 2000 {
				emit(b)
				b = &batch{}
			}
		}
		if len(b.records) > 0 {
			emit(b)
		}
	})
}

// TestConsoleInBrowser drives the console through its users' paths; the
// script (e2e/console.mjs) checks each step and prints a RESULT line of
// figures at the end.
func TestConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	chromium, node := browserPrereqs(t)
	logs := &lockedBuffer{}
	main := startE2EServer(t, 15*time.Minute, logs)
	idle := startE2EServer(t, 3*time.Second, io.Discard)
	if _, err := idle.app.Auth.Accounts.CreateAccount("idle@example.com", "idle-password-1", auth.RoleViewer); err != nil {
		t.Fatal(err)
	}
	setupURL, ok := main.app.SetupURL(false)
	if !ok || !bytes.Contains([]byte(logs.String()), []byte(`"setup_url":"`+setupURL+`"`)) {
		t.Fatalf("no setup link logged: %s", []byte(logs.String()))
	}

	known := main.user(t, "known-user")
	main.seedKnown(t, known)
	year := main.user(t, "year-user")
	t0 := time.Now()
	batches := main.seedYear(t, year)
	main.indexed(t)
	t.Logf("seeded a year of minute heart rate and steps (%d batches) in %v", batches, time.Since(t0).Round(time.Millisecond))

	expect, _ := json.Marshal(expectedPoints)
	importFile, err := filepath.Abs(filepath.Join("testdata", "apple-health", "small-export.zip"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "console.mjs")
	cmd.Dir = "e2e"
	cmd.Env = append(os.Environ(),
		"WH_CHROMIUM="+chromium, "WH_BASE="+main.base, "WH_SETUP_URL="+setupURL, "WH_ADMIN_KEY="+e2eAdminKey,
		"WH_IDLE_BASE="+idle.base, "WH_KNOWN_USER="+known, "WH_YEAR_USER="+year,
		"WH_DAY="+knownDay.Format(time.DateOnly), "WH_EXPECT="+string(expect),
		"WH_SHOTS="+os.Getenv("WEARHOUSE_SCREENSHOTS"), "WH_IMPORT_FILE="+importFile)
	out, err := cmd.CombinedOutput()
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		t.Log(sc.Text())
	}
	if err != nil {
		t.Fatalf("the browser script failed: %v", err)
	}
	if !bytes.Contains(out, []byte("RESULT ")) {
		t.Fatal("the browser script printed no RESULT")
	}
	// No health value and no secret in the server's log.
	for _, secret := range []string{"idle-password-1", "e2e-admin-password", "E2E Watch"} {
		if bytes.Contains([]byte(logs.String()), []byte(secret)) {
			t.Errorf("the server's log holds %q", secret)
		}
	}
}
