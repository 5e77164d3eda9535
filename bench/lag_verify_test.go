package bench

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The lag is sampled while the load runs, and the drain and the indexing
// rate are measured after it. How many samples a second of load gets and
// how long the drain takes depend on the machine: they are logged, not
// asserted; the drain's limit only turns a compactor that never catches up
// into a failure.
func TestLagIsSampledAndDrained(t *testing.T) {
	srv := startServer(t)
	r, err := Run(context.Background(), Config{
		Target: srv.URL, APIKey: srv.APIKey, InProcess: true,
		Connections: 2, Duration: time.Second, Users: 4,
		Payload: PayloadConfig{Items: 300}, Pool: 4, LagInterval: 100 * time.Millisecond,
		DrainTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	l := r.Lag
	if l == nil {
		t.Fatalf("no lag in the report:\n%s", r)
	}
	t.Logf("%d lag samples during %s of load; drained in %s", l.Samples, r.Duration, l.DrainTime)
	if l.Samples < 1 || l.NotReady != 0 {
		t.Errorf("%d samples, %d not ready (%s); want the lag sampled during the load", l.Samples, l.NotReady, l.FirstIssue)
	}
	if l.MaxSeconds < l.MedianSeconds || l.MaxBatches < l.MedianBatches {
		t.Errorf("max below median: %+v", l)
	}
	if !l.Drained {
		t.Fatalf("not drained: %+v\n%s", l, r)
	}
	// Everything accepted was indexed between the first sample and the
	// drain: the server's indexed_records counts records, not sleep stages
	// or workouts.
	if int64(l.IndexedRecords) != r.Records || l.IndexedPerSec <= 0 || l.IndexSpan < r.Duration {
		t.Errorf("indexed %d records in %s (%v/s); accepted %d in %s", l.IndexedRecords, l.IndexSpan, l.IndexedPerSec, r.Records, r.Duration)
	}
	for _, want := range []string{"compactor   during the load: median", "drained to 0 in"} {
		if !strings.Contains(r.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Lag struct {
			Drained bool `json:"drained"`
			Samples int  `json:"samples"`
		} `json:"compactor_lag"`
	}
	if err := json.Unmarshal(out, &back); err != nil || !back.Lag.Drained || back.Lag.Samples != l.Samples {
		t.Errorf("JSON report: %s (%v)", out, err)
	}
}

// A paused compactor is not waited for: the drain is not started (a drain
// sets its limit first; were it started here, it would give up after its
// second and say so).
func TestPausedCompactorIsNotWaitedFor(t *testing.T) {
	srv, err := StartServer(ServerOptions{Dir: t.TempDir(), PauseCompactor: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	r, err := Run(context.Background(), Config{
		Target: srv.URL, APIKey: srv.APIKey, CompactorPaused: true, DrainTimeout: time.Second,
		Connections: 1, Requests: 2, Payload: PayloadConfig{Items: 20}, Pool: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if l := r.Lag; l == nil || l.Skipped == "" || l.DrainLimit != 0 || l.Drained ||
		!strings.Contains(r.String(), "drain not measured: the compactor is paused") {
		t.Fatalf("lag %+v\n%s", r.Lag, r)
	}
	if _, err := Run(context.Background(), Config{Target: srv.URL, APIKey: srv.APIKey, CompactorPaused: true, Verify: true}); err == nil {
		t.Error("verify with a paused compactor was accepted")
	}
}

func TestVerifyPasses(t *testing.T) {
	srv := startServer(t)
	r, err := Run(context.Background(), Config{
		Target: srv.URL, APIKey: srv.APIKey, InProcess: true, Verify: true,
		Connections: 2, Requests: 14, Users: 3, Warmup: 100 * time.Millisecond,
		Payload: PayloadConfig{Items: 400}, Pool: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	v := r.Verify
	if v == nil || !v.OK() {
		t.Fatalf("verify: %+v\n%s", v, r)
	}
	// 4 bodies × 3 users: every pair is sent within the warm-up and the
	// 14 requests, and each body's records are distinct samples.
	if v.Users != 3 || v.Bodies != 12 || v.Missing != 0 || v.Read < v.Expected {
		t.Errorf("verify: %+v", v)
	}
	var perBody int64
	g := newGen(t, PayloadConfig{Items: 400})
	for i := range 4 {
		e, err := expectedSamples(g.Body(i))
		if err != nil {
			t.Fatal(err)
		}
		perBody += int64(len(e.keys))
	}
	if v.Expected != 3*perBody {
		t.Errorf("expected %d samples, want %d", v.Expected, 3*perBody)
	}
	if !strings.Contains(r.String(), "verify      verified ") {
		t.Errorf("report:\n%s", r)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Verify struct {
			OK       bool  `json:"ok"`
			Expected int64 `json:"expected_samples"`
		} `json:"verify"`
	}
	if err := json.Unmarshal(out, &back); err != nil || !back.Verify.OK || back.Verify.Expected != v.Expected {
		t.Errorf("JSON report: %s (%v)", out, err)
	}
}

// A key that was never sent is reported missing, and a read that fails
// fails the verification.
func TestVerifyDetectsAMissingRecord(t *testing.T) {
	srv := startServer(t)
	g := newGen(t, PayloadConfig{Items: 200, Provider: ProviderSamsung})
	bodies := g.Pool(3)
	cfg := Config{
		Target: srv.URL, APIKey: srv.APIKey, Bodies: bodies, Verify: true,
		Connections: 1, Requests: 6, Users: 2,
	}
	r, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Accepted != 6 || r.Verify == nil || !r.Verify.OK() {
		t.Fatalf("accepted %d, verify %+v", r.Accepted, r.Verify)
	}
	cfg.EnsureDefaults()
	d := newDriver(&cfg, "127.0.0.1:1", "127.0.0.1:1", bodies)
	acked := map[uint64]struct{}{}
	for k := range int64(6) {
		j, u := d.pick(k)
		acked[ackKey(j, u)] = struct{}{}
	}
	pool := make([]bodySamples, len(bodies))
	for i, b := range bodies {
		if pool[i], err = expectedSamples(b); err != nil {
			t.Fatal(err)
		}
	}
	dial, hostport, _ := loopbackTarget(srv.URL)
	v := newVerifier(dial, hostport, srv.APIKey, 10*time.Second, pool)
	users := expectations(acked)
	if rep := v.verify(context.Background(), users); !rep.OK() || rep.Users != 2 {
		t.Fatalf("the run's own expectations: %+v", rep)
	}

	// One extra key, inside the span read: a microsecond past a stored
	// sample (the generated starts are whole seconds).
	k := pool[users[1].bodies[0]].keys[5]
	k.at++
	users[1].extra = []sampleKey{k}
	rep := v.verify(context.Background(), users)
	if rep.OK() || rep.Missing != 1 || rep.MissingUsers != 1 || len(rep.FirstMissing) != 1 ||
		rep.FirstMissing[0] != users[1].user+" "+k.String() {
		t.Fatalf("with an extra key: %+v", rep)
	}
	if !strings.Contains(rep.line(), "FAILED: 1 of ") {
		t.Errorf("line: %s", rep.line())
	}
	// An unknown series is missing too.
	users[1].extra = []sampleKey{{"no_such_series", pool[0].from}}
	if rep := v.verify(context.Background(), users); rep.Missing != 1 {
		t.Fatalf("with an unknown series: %+v", rep)
	}

	users[1].extra = nil
	bad := newVerifier(dial, hostport, "not-the-key", 10*time.Second, pool)
	if rep := bad.verify(context.Background(), users); rep.OK() || !strings.Contains(rep.Error, "401") {
		t.Fatalf("with a wrong key: %+v", rep)
	}
}
