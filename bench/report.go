package bench

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"wearhouse/codec"
)

// PoolStats describe the pre-generated bodies.
type PoolStats struct {
	Bodies       int
	Bytes        int64
	Items        int64
	Records      int64
	Sleep        int64
	Workouts     int64
	RoutePoints  int64
	Samples      int64
	BytesPerItem float64 // body bytes per item, envelope, routes and samples included
}

// NewPoolStats sums a pool.
func NewPoolStats(bodies []*Body) PoolStats {
	var p PoolStats
	p.Bodies = len(bodies)
	for _, b := range bodies {
		p.Bytes += int64(len(b.Data))
		p.Records += int64(b.Records)
		p.Sleep += int64(b.Sleep)
		p.Workouts += int64(b.Workouts)
		p.RoutePoints += int64(b.RoutePoints)
		p.Samples += int64(b.Samples)
	}
	p.Items = p.Records + p.Sleep + p.Workouts
	if p.Items > 0 {
		p.BytesPerItem = float64(p.Bytes) / float64(p.Items)
	}
	return p
}

// Latency summarises a latency histogram.
type Latency struct {
	Count                     int64
	Mean, P50, P90, P99, P999 time.Duration
	Max                       time.Duration
}

func newLatency(h *hdrhistogram.Histogram) Latency {
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	l := Latency{Count: h.TotalCount()}
	if l.Count == 0 {
		return l
	}
	l.Mean = time.Duration(h.Mean() * float64(time.Microsecond))
	l.P50 = us(h.ValueAtQuantile(50))
	l.P90 = us(h.ValueAtQuantile(90))
	l.P99 = us(h.ValueAtQuantile(99))
	l.P999 = us(h.ValueAtQuantile(99.9))
	l.Max = us(h.Max())
	return l
}

// Report is the outcome of a run.
type Report struct {
	Target          string
	InProcess       bool
	CompactorPaused bool
	GoVersion       string
	GOOS            string
	GOARCH          string
	NumCPU          int
	GOMAXPROCS      int
	// CGO is the build's CGO_ENABLED: with cgo, Pebble keeps its memtables
	// and block cache outside the Go heap. SonicJIT says whether the
	// decoder runs sonic's JIT.
	CGO      bool
	SonicJIT bool

	Provider     string
	ItemsPerBody int
	Users        int
	Connections  int
	OfferedRate  float64 // requests/s; 0 for a closed loop
	Warmup       time.Duration
	Pool         PoolStats

	Duration time.Duration // from the first send to the last answer
	Sent     int64
	// Accepted counts the 202s that wrote a new batch; Records, Sleep and
	// Workouts count the items of their bodies.
	Accepted  int64
	Records   int64
	Sleep     int64
	Workouts  int64
	Items     int64
	BodyBytes int64 // bytes of the accepted bodies

	RequestsPerSec float64 // 202s per second
	// RecordsPerSec counts the items of the 202s per second: records,
	// sleep stages and workouts, as the server counts them.
	RecordsPerSec float64
	MBPerSec      float64 // accepted body bytes per second, 10^6 bytes

	Latency         Latency // of the 202s
	OverloadLatency Latency // of the 503s with Retry-After

	// Errors counts the answers other than 202 by status, without the 503s
	// that carried Retry-After, which Overloaded counts.
	Errors     map[int]int64
	Overloaded int64
	Transport  int64 // requests that got no answer
	FirstError string
	// Duplicates counts 202s answered as replays of an earlier body, and
	// DroppedBatches 202s that reported dropped items; both should be 0.
	Duplicates     int64
	DroppedBatches int64

	// RSSPeak and RSSEnd are the resident memory of the server's process
	// during the run (0 when unknown). In-process, the process also holds
	// the load driver and its body pool.
	RSSPeak int64
	RSSEnd  int64
	// ProcessCPU is the CPU time the process used during the run, for an
	// in-process server (server and load driver together); LoadAverage is
	// the machine's one-minute load average at the end.
	ProcessCPU  time.Duration
	LoadAverage float64
	// GCCPU is the part of ProcessCPU the garbage collector took from the
	// program (assists, dedicated workers, pauses), GCIdleCPU the marking
	// it did in otherwise idle time, and GoMemory what the Go runtime held
	// from the system at the end; for an in-process server.
	GCCPU     time.Duration
	GCIdleCPU time.Duration
	GoMemory  int64

	Ceiling         *CeilingReport
	CeilingFraction float64 // RecordsPerSec / Ceiling.RecordsPerSec

	// Lag is the compactor's lag during the load and its drain after.
	Lag *LagReport
	// Verify is the read-back of what was acknowledged, when asked for.
	Verify *VerifyReport
}

func newReport(cfg *Config, bodies []*Body, res *phaseResult) *Report {
	provider, items := cfg.Payload.Provider, cfg.Payload.Items
	if cfg.Bodies != nil {
		provider, items = bodiesProvider(bodies), 0
		for _, b := range bodies {
			items = max(items, b.Items())
		}
	}
	r := &Report{
		Target: cfg.Target, InProcess: cfg.InProcess, CompactorPaused: cfg.CompactorPaused,
		GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CGO: cgoBuild(), SonicJIT: codec.JITEnabled(),
		Provider: provider, ItemsPerBody: items, Users: cfg.Users, Connections: cfg.Connections,
		OfferedRate: cfg.Rate, Warmup: cfg.Warmup, Pool: NewPoolStats(bodies),
		Duration: res.end.Sub(res.start), Sent: res.sent,
		Accepted: res.accepted, Records: res.records, Sleep: res.sleep, Workouts: res.workouts,
		Items: res.records + res.sleep + res.workouts, BodyBytes: res.bodyBytes,
		Latency: newLatency(res.lat), OverloadLatency: newLatency(res.lat503),
		Errors: res.statuses, Overloaded: res.overloaded, Transport: res.transport, FirstError: res.firstErr,
		Duplicates: res.duplicates, DroppedBatches: res.dropped,
	}
	if secs := r.Duration.Seconds(); secs > 0 {
		r.RequestsPerSec = float64(r.Accepted) / secs
		r.RecordsPerSec = float64(r.Items) / secs
		r.MBPerSec = float64(r.BodyBytes) / secs / 1e6
	}
	return r
}

// cgoBuild reports the CGO_ENABLED setting the binary was built with.
func cgoBuild() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "CGO_ENABLED" {
				return s.Value == "1"
			}
		}
	}
	return false
}

func bodiesProvider(bodies []*Body) string {
	seen := map[string]bool{}
	for _, b := range bodies {
		seen[b.Provider] = true
	}
	if len(seen) == 1 {
		return bodies[0].Provider
	}
	return ProviderMixed
}

// ErrorCount is every answer that was not a 202 of a new batch.
func (r *Report) ErrorCount() int64 {
	n := r.Overloaded + r.Transport + r.Duplicates
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// String is the report as a readable table.
func (r *Report) String() string {
	var b strings.Builder
	row := func(name, format string, args ...any) {
		fmt.Fprintf(&b, "%-12s", name)
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	server := "server at " + r.Target
	if r.InProcess {
		server = "in-process server at " + r.Target
	}
	if r.CompactorPaused {
		server += " (compactor paused)"
	}
	build := "cgo off"
	if r.CGO {
		build = "cgo on"
	}
	jsonPath := "sonic JIT"
	if !r.SonicJIT {
		jsonPath = "sonic without JIT"
	}
	row("wearhouse", "bench: %s; %s %s/%s, %s, %s, %d CPUs, GOMAXPROCS %d",
		server, r.GoVersion, r.GOOS, r.GOARCH, build, jsonPath, r.NumCPU, r.GOMAXPROCS)
	load := fmt.Sprintf("closed loop, %d connections", r.Connections)
	if r.OfferedRate > 0 {
		load = fmt.Sprintf("open loop at %s req/s offered (%s records/s), up to %d connections",
			thousands(r.OfferedRate), thousands(r.OfferedRate*float64(r.Pool.Items)/float64(max(r.Pool.Bodies, 1))), r.Connections)
	}
	if r.Warmup > 0 {
		load += fmt.Sprintf(", after a %s warm-up", r.Warmup)
	}
	row("load", "%s", load)
	p := r.Pool
	nb := float64(max(p.Bodies, 1))
	row("payload", "%s, %d items/body, %d users; pool of %d bodies, %.1f MB, %.0f bytes/item",
		r.Provider, r.ItemsPerBody, r.Users, p.Bodies, float64(p.Bytes)/1e6, p.BytesPerItem)
	row("", "per body: %.0f records, %.1f sleep stages, %.2f workouts (%.0f route points, %.0f samples)",
		float64(p.Records)/nb, float64(p.Sleep)/nb, float64(p.Workouts)/nb, float64(p.RoutePoints)/nb, float64(p.Samples)/nb)
	row("requests", "%d sent, %d accepted (202) in %s", r.Sent, r.Accepted, r.Duration.Round(time.Millisecond))
	row("throughput", "%s req/s   %s records/s   %.1f MB/s of bodies",
		fixed(r.RequestsPerSec), thousands(r.RecordsPerSec), r.MBPerSec)
	l := r.Latency
	row("latency 202", "p50 %s   p90 %s   p99 %s   p99.9 %s   max %s   (mean %s)",
		ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max), ms(l.Mean))
	if r.ErrorCount() == 0 && r.DroppedBatches == 0 {
		row("errors", "none")
	} else {
		var parts []string
		if r.Overloaded > 0 {
			parts = append(parts, fmt.Sprintf("503 with Retry-After %d (p99 %s, max %s)",
				r.Overloaded, ms(r.OverloadLatency.P99), ms(r.OverloadLatency.Max)))
		}
		codes := make([]int, 0, len(r.Errors))
		for c := range r.Errors {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		for _, c := range codes {
			parts = append(parts, fmt.Sprintf("%d: %d", c, r.Errors[c]))
		}
		if r.Transport > 0 {
			parts = append(parts, fmt.Sprintf("no answer: %d", r.Transport))
		}
		if r.Duplicates > 0 {
			parts = append(parts, fmt.Sprintf("answered as replays: %d", r.Duplicates))
		}
		if r.DroppedBatches > 0 {
			parts = append(parts, fmt.Sprintf("202s with dropped items: %d", r.DroppedBatches))
		}
		row("errors", "%s", strings.Join(parts, ", "))
		if r.FirstError != "" {
			row("", "first: %s", r.FirstError)
		}
	}
	switch {
	case r.RSSPeak == 0:
		row("memory", "resident memory of the server unknown")
	case r.InProcess:
		row("memory", "RSS peak %.1f MiB, at the end %.1f MiB, Go runtime %.1f MiB (one process: server, load driver and its %.1f MB pool)",
			mib(r.RSSPeak), mib(r.RSSEnd), mib(r.GoMemory), float64(p.Bytes)/1e6)
	default:
		row("memory", "server RSS peak %.1f MiB, at the end %.1f MiB", mib(r.RSSPeak), mib(r.RSSEnd))
	}
	if r.ProcessCPU > 0 && r.Duration > 0 {
		row("cpu", "process used %.2f of %d cores (server and load driver): GC %.0f%% of it, and %.0f%% more marking in idle time; load average %.2f",
			r.ProcessCPU.Seconds()/r.Duration.Seconds(), r.NumCPU, 100*r.GCCPU.Seconds()/r.ProcessCPU.Seconds(),
			100*r.GCIdleCPU.Seconds()/r.ProcessCPU.Seconds(), r.LoadAverage)
	} else if r.LoadAverage > 0 {
		row("cpu", "load average %.2f", r.LoadAverage)
	}
	if c := r.Ceiling; c != nil {
		row("ceiling", "decoding alone: %s records/s on %d goroutines (%s per core), %.0f MB/s",
			thousands(c.RecordsPerSec), c.Goroutines, thousands(c.PerCore), c.MBPerSec)
		row("", "end to end is %.1f%% of the ceiling", 100*r.CeilingFraction)
	}
	if r.Lag != nil {
		for i, l := range r.Lag.lines() {
			name := ""
			if i == 0 {
				name = "compactor"
			}
			row(name, "%s", l)
		}
	}
	if r.Verify != nil {
		row("verify", "%s", r.Verify.line())
	}
	return b.String()
}

func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
	default:
		return strconv.FormatFloat(v, 'f', 2, 64) + " ms"
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func fixed(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// thousands formats v rounded, with comma separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// MarshalJSON writes the report with explicit units.
func (r *Report) MarshalJSON() ([]byte, error) {
	type latency struct {
		Count  int64   `json:"count"`
		MeanMs float64 `json:"mean_ms"`
		P50Ms  float64 `json:"p50_ms"`
		P90Ms  float64 `json:"p90_ms"`
		P99Ms  float64 `json:"p99_ms"`
		P999Ms float64 `json:"p99_9_ms"`
		MaxMs  float64 `json:"max_ms"`
	}
	type pool struct {
		Bodies       int     `json:"bodies"`
		Bytes        int64   `json:"bytes"`
		Items        int64   `json:"items"`
		Records      int64   `json:"records"`
		Sleep        int64   `json:"sleep"`
		Workouts     int64   `json:"workouts"`
		RoutePoints  int64   `json:"route_points"`
		Samples      int64   `json:"samples"`
		BytesPerItem float64 `json:"bytes_per_item"`
	}
	type ceiling struct {
		Goroutines    int     `json:"goroutines"`
		DurationS     float64 `json:"duration_s"`
		Bodies        int64   `json:"bodies"`
		Records       int64   `json:"records"`
		Bytes         int64   `json:"bytes"`
		RecordsPerSec float64 `json:"records_per_s"`
		PerCore       float64 `json:"records_per_s_per_core"`
		MBPerSec      float64 `json:"mb_per_s"`
	}
	msf := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	lat := func(l Latency) latency {
		return latency{l.Count, msf(l.Mean), msf(l.P50), msf(l.P90), msf(l.P99), msf(l.P999), msf(l.Max)}
	}
	errs := map[string]int64{}
	for c, n := range r.Errors {
		errs[strconv.Itoa(c)] = n
	}
	type lag struct {
		Samples        int     `json:"samples"`
		NotReady       int     `json:"not_ready"`
		FirstIssue     string  `json:"first_issue,omitempty"`
		MedianSeconds  float64 `json:"median_s"`
		MaxSeconds     float64 `json:"max_s"`
		MedianBatches  uint64  `json:"median_batches"`
		MaxBatches     uint64  `json:"max_batches"`
		Drained        bool    `json:"drained"`
		DrainS         float64 `json:"drain_s"`
		DrainLimitS    float64 `json:"drain_limit_s"`
		Skipped        string  `json:"skipped,omitempty"`
		IndexedRecords uint64  `json:"indexed_records"`
		IndexSpanS     float64 `json:"index_span_s"`
		IndexedPerSec  float64 `json:"indexed_records_per_s"`
	}
	type verify struct {
		OK           bool     `json:"ok"`
		Users        int      `json:"users"`
		Bodies       int      `json:"bodies"`
		Expected     int64    `json:"expected_samples"`
		Read         int64    `json:"read_samples"`
		Missing      int64    `json:"missing_samples"`
		MissingUsers int      `json:"users_with_missing"`
		FirstMissing []string `json:"first_missing,omitempty"`
		DurationS    float64  `json:"duration_s"`
		Error        string   `json:"error,omitempty"`
	}
	var lg *lag
	if l := r.Lag; l != nil {
		lg = &lag{l.Samples, l.NotReady, l.FirstIssue, l.MedianSeconds, l.MaxSeconds, l.MedianBatches, l.MaxBatches,
			l.Drained, l.DrainTime.Seconds(), l.DrainLimit.Seconds(), l.Skipped, l.IndexedRecords, l.IndexSpan.Seconds(), l.IndexedPerSec}
	}
	var vf *verify
	if v := r.Verify; v != nil {
		vf = &verify{v.OK(), v.Users, v.Bodies, v.Expected, v.Read, v.Missing, v.MissingUsers, v.FirstMissing, v.Duration.Seconds(), v.Error}
	}
	var c *ceiling
	if r.Ceiling != nil {
		x := r.Ceiling
		c = &ceiling{x.Goroutines, x.Duration.Seconds(), x.Bodies, x.Records, x.Bytes, x.RecordsPerSec, x.PerCore, x.MBPerSec}
	}
	p := r.Pool
	return json.Marshal(struct {
		Target          string           `json:"target"`
		InProcess       bool             `json:"in_process"`
		CompactorPaused bool             `json:"compactor_paused"`
		GoVersion       string           `json:"go_version"`
		GOOS            string           `json:"goos"`
		GOARCH          string           `json:"goarch"`
		NumCPU          int              `json:"num_cpu"`
		GOMAXPROCS      int              `json:"gomaxprocs"`
		CGO             bool             `json:"cgo"`
		SonicJIT        bool             `json:"sonic_jit"`
		Provider        string           `json:"provider"`
		ItemsPerBody    int              `json:"items_per_body"`
		Users           int              `json:"users"`
		Connections     int              `json:"connections"`
		OfferedRate     float64          `json:"offered_requests_per_s"`
		WarmupS         float64          `json:"warmup_s"`
		Pool            pool             `json:"pool"`
		DurationS       float64          `json:"duration_s"`
		Sent            int64            `json:"sent"`
		Accepted        int64            `json:"accepted"`
		Records         int64            `json:"records"`
		Sleep           int64            `json:"sleep"`
		Workouts        int64            `json:"workouts"`
		Items           int64            `json:"items"`
		BodyBytes       int64            `json:"body_bytes"`
		RequestsPerSec  float64          `json:"requests_per_s"`
		RecordsPerSec   float64          `json:"records_per_s"`
		MBPerSec        float64          `json:"mb_per_s"`
		Latency         latency          `json:"latency_202"`
		OverloadLatency latency          `json:"latency_503_retry_after"`
		Errors          map[string]int64 `json:"errors_by_status"`
		Overloaded      int64            `json:"overloaded_503_retry_after"`
		Transport       int64            `json:"no_answer"`
		FirstError      string           `json:"first_error,omitempty"`
		Duplicates      int64            `json:"duplicates"`
		DroppedBatches  int64            `json:"batches_with_dropped_items"`
		RSSPeak         int64            `json:"rss_peak_bytes"`
		RSSEnd          int64            `json:"rss_end_bytes"`
		ProcessCPUS     float64          `json:"process_cpu_s"`
		GCCPUS          float64          `json:"gc_cpu_s"`
		GCIdleCPUS      float64          `json:"gc_idle_mark_cpu_s"`
		GoMemory        int64            `json:"go_runtime_memory_bytes"`
		LoadAverage     float64          `json:"load_average_1m"`
		Ceiling         *ceiling         `json:"ceiling,omitempty"`
		CeilingFraction float64          `json:"fraction_of_ceiling"`
		Lag             *lag             `json:"compactor_lag,omitempty"`
		Verify          *verify          `json:"verify,omitempty"`
	}{
		r.Target, r.InProcess, r.CompactorPaused, r.GoVersion, r.GOOS, r.GOARCH, r.NumCPU, r.GOMAXPROCS, r.CGO, r.SonicJIT,
		r.Provider, r.ItemsPerBody, r.Users, r.Connections, r.OfferedRate, r.Warmup.Seconds(),
		pool{p.Bodies, p.Bytes, p.Items, p.Records, p.Sleep, p.Workouts, p.RoutePoints, p.Samples, p.BytesPerItem},
		r.Duration.Seconds(), r.Sent, r.Accepted, r.Records, r.Sleep, r.Workouts, r.Items, r.BodyBytes,
		r.RequestsPerSec, r.RecordsPerSec, r.MBPerSec, lat(r.Latency), lat(r.OverloadLatency),
		errs, r.Overloaded, r.Transport, r.FirstError, r.Duplicates, r.DroppedBatches,
		r.RSSPeak, r.RSSEnd, r.ProcessCPU.Seconds(), r.GCCPU.Seconds(), r.GCIdleCPU.Seconds(), r.GoMemory, r.LoadAverage, c, r.CeilingFraction,
		lg, vf,
	})
}
