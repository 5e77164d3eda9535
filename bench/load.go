package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/valyala/fasthttp"
)

// APIKeyHeader carries the API key of the SDK routes.
const APIKeyHeader = "X-Open-Wearables-API-Key"

// Config is one load run.
type Config struct {
	// Target is the server's base URL, http://127.0.0.1:PORT. Only loopback
	// hosts are accepted: 127.0.0.1, ::1 and localhost.
	Target string
	// APIKey is sent in X-Open-Wearables-API-Key.
	APIKey string
	// Connections is the number of keep-alive connections, and of requests
	// in flight at most. The default is 16.
	Connections int
	// Duration is how long requests are started. The default is 10s when
	// Requests is 0.
	Duration time.Duration
	// Requests, when positive, stops the run after that many requests.
	Requests int64
	// Rate is the offered load in requests per second, on a fixed schedule
	// (open loop). 0 runs a closed loop.
	Rate float64
	// Backoff is how long a closed-loop connection waits after a 503 with
	// Retry-After before it sends again (0: at once).
	Backoff time.Duration
	// Warmup runs the same load (the closed loop, or the fixed rate) for
	// this long before the measured run and discards its results. A
	// closed-loop warm-up before a fixed-rate run would overload the
	// server and leave a backlog for the measured run to pay for.
	Warmup time.Duration
	// Users is the number of users the requests are spread over. The
	// default is 100.
	Users int
	// Payload describes the bodies.
	Payload PayloadConfig
	// Pool is the number of bodies generated before the clock starts. The
	// default is twice the connections, at least 32, within about 64 MiB
	// (and at least 2).
	Pool int
	// Bodies, when set, is the pool (Payload and Pool are then ignored).
	Bodies []*Body
	// Timeout bounds one request. The default is 30s.
	Timeout time.Duration
	// Ceiling is how long the decode ceiling is measured, before the run;
	// 0 skips it.
	Ceiling time.Duration
	// InProcess says that the server runs in this process: its resident
	// memory is this process's.
	InProcess bool
	// ServerPID, when positive and InProcess is false, is the server's
	// process, whose resident memory is reported (Linux only).
	ServerPID int
	// CompactorPaused records, for the report, that the server's compactor
	// did not run.
	CompactorPaused bool
	// LagInterval is how often GET /readyz is sampled for the compactor's
	// lag while the load runs. The default is 500ms.
	LagInterval time.Duration
	// DrainTimeout bounds the wait, after the load, for the compactor's lag
	// to reach 0 batches. The default is 60s.
	DrainTimeout time.Duration
	// Verify reads back, after the drain, every user's time series and
	// checks that every record of every acknowledged body is there.
	Verify bool
	// VerifyTimeout bounds the verification. The default is 5m.
	VerifyTimeout time.Duration
}

// EnsureDefaults fills in zero fields.
func (c *Config) EnsureDefaults() {
	if c.Connections == 0 {
		c.Connections = 16
	}
	if c.Duration == 0 && c.Requests == 0 {
		c.Duration = 10 * time.Second
	}
	if c.Users == 0 {
		c.Users = 100
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.LagInterval == 0 {
		c.LagInterval = 500 * time.Millisecond
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = 60 * time.Second
	}
	if c.VerifyTimeout == 0 {
		c.VerifyTimeout = 5 * time.Minute
	}
	c.Payload.EnsureDefaults()
	if c.Pool == 0 {
		c.Pool = max(2*c.Connections, 32)
		// Keep the pool within about 64 MiB.
		if limit := int((64 << 20) / (c.Payload.Items*450 + 1024)); c.Pool > limit {
			c.Pool = max(limit, 2)
		}
	}
}

// Validate reports a configuration that cannot work.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := loopbackTarget(c.Target); err != nil {
		errs = append(errs, err)
	}
	if c.Connections < 1 || c.Connections > 4096 {
		errs = append(errs, fmt.Errorf("bench: connections must be 1 to 4096, not %d", c.Connections))
	}
	if c.Duration < 0 || c.Requests < 0 || c.Rate < 0 || c.Warmup < 0 || c.Ceiling < 0 {
		errs = append(errs, errors.New("bench: duration, requests, rate, warm-up and ceiling must not be negative"))
	}
	if c.Duration > 24*time.Hour {
		errs = append(errs, errors.New("bench: duration must be at most 24h"))
	}
	if c.Rate > 1e6 {
		errs = append(errs, errors.New("bench: rate must be at most 1,000,000 requests/s"))
	}
	if c.Users < 1 || c.Users > 1_000_000 {
		errs = append(errs, fmt.Errorf("bench: users must be 1 to 1000000, not %d", c.Users))
	}
	if c.Bodies == nil {
		if err := c.Payload.Validate(); err != nil {
			errs = append(errs, err)
		}
		if c.Pool < 1 || c.Pool > 100_000 {
			errs = append(errs, fmt.Errorf("bench: pool must be 1 to 100000 bodies, not %d", c.Pool))
		}
	} else if len(c.Bodies) == 0 {
		errs = append(errs, errors.New("bench: the body pool is empty"))
	}
	if c.Timeout < time.Millisecond {
		errs = append(errs, errors.New("bench: the request timeout must be at least 1ms"))
	}
	if c.LagInterval < 10*time.Millisecond || c.DrainTimeout < 0 || c.VerifyTimeout < time.Second {
		errs = append(errs, errors.New("bench: the lag interval must be at least 10ms, the drain timeout not negative, the verify timeout at least 1s"))
	}
	if c.Verify && c.CompactorPaused {
		errs = append(errs, errors.New("bench: verify needs the compactor running"))
	}
	return errors.Join(errs...)
}

// loopbackTarget checks that target is http://HOST:PORT with a loopback
// HOST, and returns the address to dial and the host:port of the URL.
func loopbackTarget(target string) (dial, hostport string, err error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", "", fmt.Errorf("bench: target %q: %w", target, err)
	}
	if u.Scheme != "http" {
		return "", "", fmt.Errorf("bench: target %q: only http:// on a loopback address is supported", target)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", "", fmt.Errorf("bench: target %q: give only http://HOST:PORT", target)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
	}
	var ip string
	switch host {
	case "127.0.0.1", "::1":
		ip = host
	case "localhost":
		// Dial the loopback address itself, whatever a resolver says.
		ip = "127.0.0.1"
	default:
		return "", "", fmt.Errorf("bench: target %q: refusing a host that is not 127.0.0.1, ::1 or localhost", target)
	}
	return net.JoinHostPort(ip, port), u.Host, nil
}

// Run generates the body pool, measures the ceiling if asked, and runs the
// load.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dial, hostport, _ := loopbackTarget(cfg.Target)
	bodies := cfg.Bodies
	if bodies == nil {
		g, err := NewGenerator(cfg.Payload)
		if err != nil {
			return nil, err
		}
		bodies = g.Pool(cfg.Pool)
	}
	// What each body must read back as, before the clock starts.
	var expect []bodySamples
	if cfg.Verify {
		expect = make([]bodySamples, len(bodies))
		for i, b := range bodies {
			e, err := expectedSamples(b)
			if err != nil {
				return nil, err
			}
			expect[i] = e
		}
	}
	// The ceiling first, while the server is idle: after a run its store
	// is still flushing and compacting what it was sent.
	var ceiling *CeilingReport
	if cfg.Ceiling > 0 {
		c, err := Ceiling(ctx, bodies, cfg.Ceiling)
		if err != nil {
			return nil, err
		}
		ceiling = c
	}
	d := newDriver(&cfg, dial, hostport, bodies)
	defer d.hc.CloseIdleConnections()

	acked := map[uint64]struct{}{}
	if cfg.Warmup > 0 {
		w, err := d.phase(ctx, cfg.Rate, cfg.Warmup, 0)
		if err != nil {
			return nil, err
		}
		maps.Copy(acked, w.acked)
	}
	probe := newReadyProbe(dial, hostport, cfg.Timeout)
	defer probe.hc.CloseIdleConnections()
	pid := 0
	switch {
	case cfg.InProcess:
		pid = os.Getpid()
	case cfg.ServerPID > 0:
		pid = cfg.ServerPID
	}
	mem := startRSSSampler(pid)
	lag := startLagSampler(probe, cfg.LagInterval)
	cpu0 := processCPU()
	gc0, idle0 := gcCPU()
	res, err := d.phase(ctx, cfg.Rate, cfg.Duration, cfg.Requests)
	cpu := processCPU() - cpu0
	gc, idle := gcCPU()
	gc, idle = gc-gc0, idle-idle0
	peak, end := mem.stop()
	lagSamples := lag.stop()
	if err != nil {
		return nil, err
	}
	r := newReport(&cfg, bodies, res)
	r.Lag = summarizeLag(lagSamples)
	if cfg.CompactorPaused {
		r.Lag.Skipped = "the compactor is paused"
	} else if err := r.Lag.drain(ctx, probe, lag.first, res.end, cfg.DrainTimeout); err != nil {
		return nil, err
	}
	if cfg.Verify {
		maps.Copy(acked, res.acked)
		vctx, cancel := context.WithTimeout(ctx, cfg.VerifyTimeout)
		v := newVerifier(dial, hostport, cfg.APIKey, cfg.Timeout, expect)
		r.Verify = v.verify(vctx, expectations(acked))
		v.hc.CloseIdleConnections()
		cancel()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	r.RSSPeak, r.RSSEnd = peak, end
	r.LoadAverage = loadAverage()
	if cfg.InProcess {
		r.ProcessCPU, r.GCCPU, r.GCIdleCPU, r.GoMemory = cpu, gc, idle, goMemory()
	}
	if ceiling != nil {
		r.Ceiling = ceiling
		if ceiling.RecordsPerSec > 0 {
			r.CeilingFraction = r.RecordsPerSec / ceiling.RecordsPerSec
		}
	}
	return r, nil
}

// driver sends the requests of a run.
type driver struct {
	cfg    *Config
	hc     *fasthttp.HostClient
	bodies []*Body
	urls   []string // per user
	next   atomic.Int64
}

func newDriver(cfg *Config, dial, hostport string, bodies []*Body) *driver {
	d := &driver{cfg: cfg, bodies: bodies}
	d.hc = &fasthttp.HostClient{
		Addr:                      hostport,
		Name:                      "wearhouse-bench",
		MaxConns:                  cfg.Connections,
		MaxConnWaitTimeout:        cfg.Timeout,
		ReadTimeout:               cfg.Timeout,
		WriteTimeout:              cfg.Timeout,
		MaxIdleConnDuration:       time.Minute,
		MaxIdemponentCallAttempts: 1,
		MaxResponseBodySize:       1 << 20,
		// Only ever the checked loopback address.
		Dial: func(string) (net.Conn, error) { return net.DialTimeout("tcp", dial, 5*time.Second) },
	}
	base := "http://" + hostport + "/api/v1/sdk/users/"
	d.urls = make([]string, cfg.Users)
	for u := range d.urls {
		d.urls[u] = base + UserID(u) + "/sync"
	}
	return d
}

// pick returns the pool index of the body and the user of request k.
func (d *driver) pick(k int64) (int, int) {
	p, u := int64(len(d.bodies)), int64(d.cfg.Users)
	j := k % p
	return int(j), int((j + k/p) % u)
}

// nonce writes the 36-character syncSessionId of request k into dst.
func (d *driver) nonce(dst []byte, k int64) {
	a := splitmix(d.cfg.Payload.Seed ^ uint64(k)*0x9e3779b97f4a7c15)
	b := splitmix(a)
	var id [16]byte
	for i := range 8 {
		id[i], id[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	var s [36]byte
	copy(dst[:36], appendUUID(s[:0], id, false))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// phaseResult is what the workers of one phase saw.
type phaseResult struct {
	start, end time.Time
	sent       int64
	accepted   int64
	records    int64
	sleep      int64
	workouts   int64
	bodyBytes  int64
	duplicates int64
	dropped    int64 // 202s that reported dropped items
	overloaded int64 // 503 with Retry-After
	transport  int64
	firstErr   string
	statuses   map[int]int64
	lat        *hdrhistogram.Histogram // 202s
	lat503     *hdrhistogram.Histogram // 503s with Retry-After
	// acked holds the (pool body, user) pairs that got a 202, when the run
	// is verified.
	acked map[uint64]struct{}
}

const maxLatencyMicros = 10 * 60 * 1e6

func newHistogram() *hdrhistogram.Histogram { return hdrhistogram.New(1, maxLatencyMicros, 3) }

func record(h *hdrhistogram.Histogram, d time.Duration) {
	us := min(max(d.Microseconds(), 1), maxLatencyMicros)
	_ = h.RecordValue(us)
}

func (p *phaseResult) merge(o *phaseResult) {
	p.sent += o.sent
	p.accepted += o.accepted
	p.records += o.records
	p.sleep += o.sleep
	p.workouts += o.workouts
	p.bodyBytes += o.bodyBytes
	p.duplicates += o.duplicates
	p.dropped += o.dropped
	p.overloaded += o.overloaded
	p.transport += o.transport
	if p.firstErr == "" {
		p.firstErr = o.firstErr
	}
	for s, n := range o.statuses {
		p.statuses[s] += n
	}
	p.lat.Merge(o.lat)
	p.lat503.Merge(o.lat503)
	if o.acked != nil {
		if p.acked == nil {
			p.acked = map[uint64]struct{}{}
		}
		maps.Copy(p.acked, o.acked)
	}
	if o.end.After(p.end) {
		p.end = o.end
	}
}

// phase runs requests on all connections: at rate requests/s on a schedule
// when rate > 0, else in a closed loop; starting requests for dur (when
// positive) and at most limit of them (when positive).
func (d *driver) phase(ctx context.Context, rate float64, dur time.Duration, limit int64) (*phaseResult, error) {
	total := &phaseResult{statuses: map[int]int64{}, lat: newHistogram(), lat503: newHistogram()}
	k0 := d.next.Load()
	start := time.Now()
	var end time.Time
	if dur > 0 {
		end = start.Add(dur)
	}
	total.start, total.end = start, start
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range d.cfg.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := d.worker(ctx, k0, start, end, rate, limit)
			mu.Lock()
			total.merge(res)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return total, nil
}

func (d *driver) worker(ctx context.Context, k0 int64, start, end time.Time, rate float64, limit int64) *phaseResult {
	res := &phaseResult{statuses: map[int]int64{}, lat: newHistogram(), lat503: newHistogram()}
	if d.cfg.Verify {
		res.acked = map[uint64]struct{}{}
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	var timer *time.Timer
	for ctx.Err() == nil {
		k := d.next.Add(1) - 1
		i := k - k0
		if limit > 0 && i >= limit {
			break
		}
		var sent time.Time
		if rate > 0 {
			sent = start.Add(time.Duration(float64(i) * float64(time.Second) / rate))
			if !end.IsZero() && !sent.Before(end) {
				break
			}
			if wait := time.Until(sent); wait > 0 {
				if timer == nil {
					timer = time.NewTimer(wait)
				} else {
					timer.Reset(wait)
				}
				select {
				case <-ctx.Done():
					timer.Stop()
					return res
				case <-timer.C:
				}
			}
		} else {
			sent = time.Now()
			if !end.IsZero() && !sent.Before(end) {
				break
			}
		}
		j, user := d.pick(k)
		body := d.bodies[j]
		req.Reset()
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetRequestURI(d.urls[user])
		req.Header.SetContentType("application/json")
		req.Header.Set(APIKeyHeader, d.cfg.APIKey)
		req.SetBody(body.Data)
		d.nonce(req.Body()[body.NonceOffset:body.NonceOffset+36], k)
		err := d.hc.Do(req, resp)
		lat := time.Since(sent)
		res.sent++
		res.end = time.Now()
		switch status := resp.StatusCode(); {
		case err != nil:
			res.transport++
			if res.firstErr == "" {
				res.firstErr = err.Error()
			}
		case status == fasthttp.StatusAccepted:
			rb := resp.Body()
			if res.acked != nil {
				// A replay is acknowledged too: its first copy was stored.
				res.acked[ackKey(j, user)] = struct{}{}
			}
			if bytes.Contains(rb, []byte(`"duplicate":true`)) {
				res.duplicates++
				break
			}
			if !bytes.Contains(rb, []byte(`"dropped_count":0,`)) {
				res.dropped++
			}
			res.accepted++
			res.records += int64(body.Records)
			res.sleep += int64(body.Sleep)
			res.workouts += int64(body.Workouts)
			res.bodyBytes += int64(len(body.Data))
			record(res.lat, lat)
		case status == fasthttp.StatusServiceUnavailable && len(resp.Header.Peek("Retry-After")) > 0:
			res.overloaded++
			record(res.lat503, lat)
			if d.cfg.Backoff > 0 && d.cfg.Rate == 0 {
				// A closed-loop connection waits a little before the next
				// request, as a client that honours Retry-After would,
				// rather than spend the server's CPU on refusals.
				select {
				case <-ctx.Done():
					return res
				case <-time.After(d.cfg.Backoff):
				}
			}
		default:
			res.statuses[status]++
			if res.firstErr == "" {
				res.firstErr = strconv.Itoa(status) + ": " + truncate(string(resp.Body()), 200)
			}
		}
	}
	return res
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// rssSampler samples a process's resident memory while a run lasts.
type rssSampler struct {
	path string
	done chan struct{}
	out  chan [2]int64
}

func startRSSSampler(pid int) *rssSampler {
	s := &rssSampler{done: make(chan struct{}), out: make(chan [2]int64, 1)}
	if pid <= 0 || runtime.GOOS != "linux" {
		close(s.out)
		return s
	}
	s.path = "/proc/" + strconv.Itoa(pid) + "/status"
	go func() {
		var peak, last int64
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := readRSS(s.path); err == nil {
				last, peak = v, max(peak, v)
			}
			select {
			case <-s.done:
				if v, err := readRSS(s.path); err == nil {
					last, peak = v, max(peak, v)
				}
				s.out <- [2]int64{peak, last}
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop returns the peak and the last resident size in bytes (0 when
// unknown).
func (s *rssSampler) stop() (peak, last int64) {
	if s.path != "" {
		close(s.done)
	}
	v := <-s.out
	return v[0], v[1]
}

// processCPU is the user and system CPU time this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// gcCPU is the CPU time the Go garbage collector used so far, as the
// runtime estimates it: marking in the program's time (assists and
// dedicated workers, and pauses), and marking in otherwise idle time.
func gcCPU() (busy, idle time.Duration) {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/gc/mark/idle:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 || s[1].Value.Kind() != metrics.KindFloat64 {
		return 0, 0
	}
	total, marked := s[0].Value.Float64(), s[1].Value.Float64()
	return time.Duration((total - marked) * float64(time.Second)), time.Duration(marked * float64(time.Second))
}

// goMemory is the memory the Go runtime holds from the system now, released
// pages excluded.
func goMemory() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64() - s[1].Value.Uint64())
}

// loadAverage is the system's one-minute load average (0 when unknown):
// on a shared machine it tells whether others competed for the cores.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, _ := strconv.ParseFloat(f, 64)
	return v
}

// readRSS reads VmRSS from a /proc/PID/status file.
func readRSS(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS line")
}
