package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wearhouse/codec"
)

func newGen(t testing.TB, cfg PayloadConfig) *Generator {
	t.Helper()
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGeneratorIsDeterministic(t *testing.T) {
	for _, p := range []string{ProviderApple, ProviderSamsung, ProviderGoogle, ProviderMixed} {
		a := newGen(t, PayloadConfig{Seed: 7, Items: 300, Provider: p})
		b := newGen(t, PayloadConfig{Seed: 7, Items: 300, Provider: p})
		c := newGen(t, PayloadConfig{Seed: 8, Items: 300, Provider: p})
		pool := a.Pool(6) // generated in parallel, in another order
		for i := range 6 {
			x, y, z := pool[i], b.Body(i), c.Body(i)
			if !bytes.Equal(x.Data, y.Data) || !sameCounts(x, y) {
				t.Fatalf("%s: body %d differs between two generators with the same seed", p, i)
			}
			if bytes.Equal(x.Data, z.Data) {
				t.Fatalf("%s: body %d is the same with seeds 7 and 8", p, i)
			}
		}
	}
}

func sameCounts(x, y *Body) bool {
	return x.Index == y.Index && x.Provider == y.Provider && x.Records == y.Records && x.Sleep == y.Sleep &&
		x.Workouts == y.Workouts && x.RoutePoints == y.RoutePoints && x.Samples == y.Samples && x.NonceOffset == y.NonceOffset
}

func TestBodiesAreUnique(t *testing.T) {
	for _, p := range []string{ProviderApple, ProviderSamsung, ProviderGoogle, ProviderMixed} {
		g := newGen(t, PayloadConfig{Items: 120, Provider: p})
		seen := map[[32]byte]int{}
		for i, b := range g.Pool(64) {
			h := sha256.Sum256(b.Data)
			if j, dup := seen[h]; dup {
				t.Fatalf("%s: bodies %d and %d are identical", p, j, i)
			}
			seen[h] = i
		}
	}
}

// Every generated body decodes with the server's decoder, keeps every item,
// and has the counts the generator reports.
func TestBodiesDecodeWhole(t *testing.T) {
	for _, p := range []string{ProviderApple, ProviderSamsung, ProviderGoogle, ProviderMixed} {
		for _, items := range []int{1, 49, 100, 2000} {
			g := newGen(t, PayloadConfig{Seed: 3, Items: items, Provider: p})
			for _, b := range g.Pool(8) {
				if b.Items() != items {
					t.Fatalf("%s/%d: body %d has %d items", p, items, b.Index, b.Items())
				}
				batch, err := codec.DecodeSync(b.Data, CeilingMaxItems)
				if err != nil {
					t.Fatalf("%s/%d: body %d: %v", p, items, b.Index, err)
				}
				if batch.Dropped != 0 || len(batch.Warnings) != 0 {
					t.Fatalf("%s/%d: body %d: dropped %d, errors %v, warnings %v", p, items, b.Index, batch.Dropped, batch.Errors, batch.Warnings)
				}
				if len(batch.Records) != b.Records || len(batch.Sleep) != b.Sleep || len(batch.Workouts) != b.Workouts {
					t.Fatalf("%s/%d: body %d decodes to %d/%d/%d items, generated %d/%d/%d", p, items, b.Index,
						len(batch.Records), len(batch.Sleep), len(batch.Workouts), b.Records, b.Sleep, b.Workouts)
				}
				if batch.Provider != b.Provider {
					t.Fatalf("%s/%d: body %d: provider %q, generated %q", p, items, b.Index, batch.Provider, b.Provider)
				}
				if !json.Valid(b.Data) {
					t.Fatalf("%s/%d: body %d is not valid JSON", p, items, b.Index)
				}
			}
		}
	}
}

// The shapes of each provider: id suffixes, parents, sources.
func TestBodyShapes(t *testing.T) {
	body := func(p string) string { return string(newGen(t, PayloadConfig{Provider: p}).Body(0).Data) }
	for _, c := range []struct {
		provider string
		want     []string
	}{
		{ProviderApple, []string{`"HKQuantityTypeIdentifierHeartRate"`, `"HKQuantityTypeIdentifierOxygenSaturation"`,
			`"HKQuantityTypeIdentifierHeartRateVariabilitySDNN"`, `"HKQuantityTypeIdentifierBasalEnergyBurned"`,
			`"bundleIdentifier":"com.apple.health.`, `"operatingSystemVersion":{"majorVersion":`, `"stage":"in_bed"`,
			`"type":"averageHeartRate"`}},
		{ProviderSamsung, []string{`-sys","type":"BLOOD_PRESSURE_SYSTOLIC"`, `-pulse","type":"HEART_RATE"`, `-weight"`,
			`-s0-0","parentId":"`, `"type":"sleepScore"`, `-s0","parentId":"`, `"appId":"com.sec.android.app.shealth"`,
			`"type":"altitudeGain"`}},
		{ProviderGoogle, []string{`-s0","type":"HEART_RATE"`, `{"method":"rmssd"}`, `-dia","type":"BLOOD_PRESSURE_DIASTOLIC"`,
			`"values":[{"type":"duration"`}},
	} {
		b := body(c.provider)
		for _, w := range c.want {
			if !strings.Contains(b, w) {
				t.Errorf("%s body lacks %s", c.provider, w)
			}
		}
	}
	// Some Samsung exercise in a few bodies carries a 1 Hz route and samples.
	g := newGen(t, PayloadConfig{Provider: ProviderSamsung, Items: 200})
	var route, samples int
	for _, b := range g.Pool(12) {
		route += b.RoutePoints
		samples += b.Samples
	}
	if route == 0 || samples != 3*route {
		t.Errorf("Samsung bodies: %d route points and %d samples", route, samples)
	}
}

func TestRequestsAreUnique(t *testing.T) {
	g := newGen(t, PayloadConfig{Items: 50})
	bodies := g.Pool(4)
	cfg := &Config{Users: 3, Payload: g.Config()}
	d := newDriver(cfg, "127.0.0.1:1", "127.0.0.1:1", bodies)
	seen := map[[32]byte]int64{}
	pairs := map[[2]int]int64{}
	for k := range int64(40) {
		j, user := d.pick(k)
		b := bodies[j]
		data := bytes.Clone(b.Data)
		d.nonce(data[b.NonceOffset:b.NonceOffset+36], k)
		if !json.Valid(data) {
			t.Fatalf("request %d is not valid JSON", k)
		}
		h := sha256.Sum256(data)
		if j, dup := seen[h]; dup {
			t.Fatalf("requests %d and %d have the same body", j, k)
		}
		seen[h] = k
		// (user, body) pairs repeat only after pool × users requests.
		if k < 12 {
			p := [2]int{b.Index, user}
			if j, dup := pairs[p]; dup {
				t.Fatalf("requests %d and %d send body %d to user %d", j, k, b.Index, user)
			}
			pairs[p] = k
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, target := range []string{
		"http://10.0.0.1:8080", "http://example.com:8080", "http://192.168.1.2", "http://0.0.0.0:8080",
		"https://127.0.0.1:8443", "127.0.0.1:8080", "http://127.0.0.1.example.com:80", "http://[::ffff:10.0.0.1]:80",
		"http://user:pw@127.0.0.1:80", "http://127.0.0.1:80/api",
	} {
		_, err := Run(context.Background(), Config{Target: target, APIKey: "k", Requests: 1})
		if err == nil {
			t.Errorf("Run accepted target %s", target)
		}
	}
	for _, target := range []string{"http://127.0.0.1:8080", "http://[::1]:8080", "http://localhost:8080", "http://localhost"} {
		if _, _, err := loopbackTarget(target); err != nil {
			t.Errorf("target %s refused: %v", target, err)
		}
	}
}

// startServer starts an in-process server for a test or benchmark.
func startServer(tb testing.TB) *Server {
	tb.Helper()
	srv, err := StartServer(ServerOptions{Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Error(err)
		}
	})
	return srv
}

func TestRunAgainstInProcessServer(t *testing.T) {
	srv := startServer(t)
	r, err := Run(context.Background(), Config{
		Target: srv.URL, APIKey: srv.APIKey, InProcess: true,
		Connections: 2, Duration: time.Second, Users: 5,
		Payload: PayloadConfig{Items: 500}, Pool: 6, Ceiling: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Accepted == 0 || r.Items == 0 || r.ErrorCount() != 0 || r.DroppedBatches != 0 {
		t.Fatalf("report:\n%s", r)
	}
	if r.Sent != r.Accepted || r.Latency.Count != r.Accepted || r.Latency.Max <= 0 {
		t.Fatalf("sent %d, accepted %d, latencies %d, max %s", r.Sent, r.Accepted, r.Latency.Count, r.Latency.Max)
	}
	// The server counted what the driver counted.
	st := &srv.App.Ingest.Stats
	if got := int64(st.Batches.Load()); got != r.Accepted {
		t.Errorf("server accepted %d batches, driver %d", got, r.Accepted)
	}
	if got := int64(st.Records.Load() + st.Sleep.Load() + st.Workouts.Load()); got != r.Items {
		t.Errorf("server accepted %d items, driver %d", got, r.Items)
	}
	if st.Duplicates.Load() != 0 || st.Dropped.Load() != 0 {
		t.Errorf("server saw %d duplicates and %d dropped items", st.Duplicates.Load(), st.Dropped.Load())
	}
	if r.Ceiling == nil || r.Ceiling.Records == 0 || r.CeilingFraction <= 0 {
		t.Errorf("ceiling: %+v, fraction %v", r.Ceiling, r.CeilingFraction)
	}
	if r.RSSPeak <= 0 {
		t.Errorf("no resident memory reported")
	}
	for _, want := range []string{"throughput", "latency 202", "p99", "ceiling", "errors      none"} {
		if !strings.Contains(r.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(out, &back); err != nil || back["accepted"] != float64(r.Accepted) {
		t.Fatalf("JSON report: %s (%v)", out, err)
	}
}

// At a fixed rate the schedule, not the server's speed, decides how many
// requests are sent.
func TestOpenLoopSendsTheSchedule(t *testing.T) {
	srv := startServer(t)
	r, err := Run(context.Background(), Config{
		Target: srv.URL, APIKey: srv.APIKey, Connections: 2, Rate: 40, Duration: 500 * time.Millisecond,
		Payload: PayloadConfig{Items: 20}, Pool: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent != 20 || r.Accepted != 20 || r.ErrorCount() != 0 {
		t.Fatalf("sent %d, accepted %d, errors %d; want 20 of 20\n%s", r.Sent, r.Accepted, r.ErrorCount(), r)
	}
}

func TestRequestsBound(t *testing.T) {
	srv := startServer(t)
	r, err := Run(context.Background(), Config{
		Target: srv.URL, APIKey: srv.APIKey, Connections: 3, Requests: 7, Payload: PayloadConfig{Items: 10}, Pool: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent != 7 || r.Accepted != 7 {
		t.Fatalf("sent %d, accepted %d; want 7", r.Sent, r.Accepted)
	}
}

func TestWrongKeyIsCountedByStatus(t *testing.T) {
	srv := startServer(t)
	r, err := Run(context.Background(), Config{
		Target: srv.URL, APIKey: "not-the-key", Connections: 1, Requests: 3, Payload: PayloadConfig{Items: 10}, Pool: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Accepted != 0 || r.Errors[401] != 3 || r.FirstError == "" {
		t.Fatalf("accepted %d, errors %v, first %q", r.Accepted, r.Errors, r.FirstError)
	}
}

// ---- benchmarks ----

var (
	benchPoolOnce sync.Once
	benchPool     []*Body
)

// benchBodies is the pool of the Go benchmarks: 32 mixed bodies of 2,000
// items, generated once.
func benchBodies(tb testing.TB) []*Body {
	benchPoolOnce.Do(func() {
		g, err := NewGenerator(PayloadConfig{Items: 2000})
		if err != nil {
			tb.Fatal(err)
		}
		benchPool = g.Pool(32)
	})
	return benchPool
}

// BenchmarkIngest sends b.N sync requests of 2,000 items over 16
// connections to an in-process server and reports what the 202s carried.
func BenchmarkIngest(b *testing.B) {
	bodies := benchBodies(b)
	srv := startServer(b)
	b.ResetTimer()
	r, err := Run(context.Background(), Config{
		Target: srv.URL, APIKey: srv.APIKey, InProcess: true,
		Connections: 16, Requests: int64(b.N), Bodies: bodies,
	})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	// Overload answered with 503 and Retry-After is a result, not a failure.
	if n := r.ErrorCount() - r.Overloaded; n > 0 {
		b.Fatalf("%d errors:\n%s", n, r)
	}
	b.SetBytes(r.BodyBytes / max(r.Accepted, 1))
	b.ReportMetric(r.RecordsPerSec, "records/s")
	b.ReportMetric(float64(r.Overloaded)/float64(max(r.Sent, 1)), "503/req")
	b.ReportMetric(float64(r.Latency.P50)/float64(time.Millisecond), "p50-ms")
	b.ReportMetric(float64(r.Latency.P99)/float64(time.Millisecond), "p99-ms")
}

// BenchmarkDecode is the ceiling: the server's decoder alone on the same
// bodies, on all cores.
func BenchmarkDecode(b *testing.B) {
	bodies := benchBodies(b)
	for _, body := range bodies {
		if err := checkDecode(body); err != nil {
			b.Fatal(err)
		}
	}
	var items, size int64
	for _, body := range bodies {
		items += int64(body.Items())
		size += int64(len(body.Data))
	}
	b.SetBytes(size / int64(len(bodies)))
	b.ResetTimer()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := bodies[int(next.Add(1))%len(bodies)]
			if _, err := codec.DecodeSync(body.Data, CeilingMaxItems); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(items)/float64(len(bodies))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
