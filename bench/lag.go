package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// readyState is what GET /readyz answers: {"status":"ready","compactor":
// {...}} with a 200, or a 503 with a JSON detail.
type readyState struct {
	Status    string `json:"status"`
	Detail    string `json:"detail"`
	Compactor *struct {
		LagBatches     uint64  `json:"lag_batches"`
		LagSeconds     float64 `json:"lag_seconds"`
		IndexedBatches uint64  `json:"indexed_batches"`
		IndexedRecords uint64  `json:"indexed_records"`
	} `json:"compactor"`
}

// lagSample is one answer of /readyz.
type lagSample struct {
	at             time.Time
	ok             bool // a 200 with a compactor block
	lagBatches     uint64
	lagSeconds     float64
	indexedRecords uint64
	problem        string // why the sample is not ok
}

// readyProbe reads the server's /readyz.
type readyProbe struct {
	hc  *fasthttp.HostClient
	url string
}

func newReadyProbe(dial, hostport string, timeout time.Duration) *readyProbe {
	return &readyProbe{
		url: "http://" + hostport + "/readyz",
		hc: &fasthttp.HostClient{
			Addr:                      hostport,
			Name:                      "wearhouse-bench",
			MaxConns:                  1,
			ReadTimeout:               timeout,
			WriteTimeout:              timeout,
			MaxIdemponentCallAttempts: 1,
			MaxResponseBodySize:       64 << 10,
			// Only ever the checked loopback address.
			Dial: func(string) (net.Conn, error) { return net.DialTimeout("tcp", dial, 5*time.Second) },
		},
	}
}

func (p *readyProbe) sample() lagSample {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(p.url)
	req.Header.SetMethod(fasthttp.MethodGet)
	s := lagSample{}
	err := p.hc.Do(req, resp)
	s.at = time.Now()
	if err != nil {
		s.problem = "no answer: " + err.Error()
		return s
	}
	var st readyState
	if err := json.Unmarshal(resp.Body(), &st); err != nil {
		s.problem = strconv.Itoa(resp.StatusCode()) + ": " + truncate(string(resp.Body()), 200)
		return s
	}
	switch {
	case resp.StatusCode() != fasthttp.StatusOK:
		s.problem = strconv.Itoa(resp.StatusCode()) + ": " + st.Detail
	case st.Compactor == nil:
		s.problem = "no compactor in /readyz"
	default:
		c := st.Compactor
		s.ok, s.lagBatches, s.lagSeconds, s.indexedRecords = true, c.LagBatches, c.LagSeconds, c.IndexedRecords
	}
	return s
}

// lagSampler samples /readyz on an interval while the load runs.
type lagSampler struct {
	probe    *readyProbe
	interval time.Duration
	first    lagSample // taken before the load starts
	done     chan struct{}
	wg       sync.WaitGroup
	samples  []lagSample // while running, owned by the sampling goroutine
}

// startLagSampler takes a first sample at once, then one every interval
// until stop.
func startLagSampler(p *readyProbe, interval time.Duration) *lagSampler {
	s := &lagSampler{probe: p, interval: interval, done: make(chan struct{})}
	s.first = p.sample()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.samples = append(s.samples, p.sample())
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the samples taken during the load.
func (s *lagSampler) stop() []lagSample {
	close(s.done)
	s.wg.Wait()
	return s.samples
}

// LagReport is the compactor's lag during a run, and its drain after.
type LagReport struct {
	Samples    int // answers of /readyz with a lag, during the load
	NotReady   int // answers without one (503, no answer)
	FirstIssue string
	// Median and maximum lag during the load.
	MedianSeconds, MaxSeconds float64
	MedianBatches, MaxBatches uint64
	// Drained says whether the lag reached 0 batches within DrainLimit of
	// the load's end, and DrainTime how long that took. Skipped says why
	// the drain was not waited for.
	Drained    bool
	DrainTime  time.Duration
	DrainLimit time.Duration
	Skipped    string
	// IndexedRecords is the growth of the server's indexed_records from
	// the load's start to the drain (or to giving up), over IndexSpan;
	// IndexedPerSec is their quotient.
	IndexedRecords uint64
	IndexSpan      time.Duration
	IndexedPerSec  float64
}

// summarizeLag makes the report of the samples taken during the load.
func summarizeLag(during []lagSample) *LagReport {
	r := &LagReport{}
	var secs []float64
	var batches []uint64
	for _, s := range during {
		if !s.ok {
			r.NotReady++
			if r.FirstIssue == "" {
				r.FirstIssue = s.problem
			}
			continue
		}
		secs = append(secs, s.lagSeconds)
		batches = append(batches, s.lagBatches)
	}
	r.Samples = len(secs)
	if len(secs) > 0 {
		slices.Sort(secs)
		slices.Sort(batches)
		r.MedianSeconds, r.MaxSeconds = median(secs), secs[len(secs)-1]
		r.MedianBatches, r.MaxBatches = batches[len(batches)/2], batches[len(batches)-1]
	}
	return r
}

// median of a sorted slice.
func median(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// drain polls /readyz from the load's end until the lag is 0 batches or
// limit passes, and fills in the drain and the indexing rate. first is the
// sample taken when the load started.
func (r *LagReport) drain(ctx context.Context, p *readyProbe, first lagSample, loadEnd time.Time, limit time.Duration) error {
	r.DrainLimit = limit
	if !first.ok {
		r.Skipped = "no compactor state at the start: " + first.problem
		return nil
	}
	deadline := loadEnd.Add(limit)
	last := first
	for {
		s := p.sample()
		if s.ok {
			last = s
			if s.lagBatches == 0 {
				r.Drained = true
				r.DrainTime = max(s.at.Sub(loadEnd), 0)
				break
			}
		} else if r.FirstIssue == "" {
			r.FirstIssue = s.problem
		}
		if !s.at.Before(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(100*time.Millisecond, time.Until(deadline)+time.Millisecond)):
		}
	}
	if last.indexedRecords >= first.indexedRecords {
		r.IndexedRecords = last.indexedRecords - first.indexedRecords
	}
	r.IndexSpan = last.at.Sub(first.at)
	if secs := r.IndexSpan.Seconds(); secs > 0 {
		r.IndexedPerSec = float64(r.IndexedRecords) / secs
	}
	return nil
}

// lines are the report's rows of the lag.
func (r *LagReport) lines() []string {
	var out []string
	if r.Samples == 0 {
		out = append(out, fmt.Sprintf("no lag sampled during the load (%d answers without one)", r.NotReady))
	} else {
		l := fmt.Sprintf("during the load: median %.2f s (%d batches), max %.2f s (%d batches); %d samples",
			r.MedianSeconds, r.MedianBatches, r.MaxSeconds, r.MaxBatches, r.Samples)
		if r.NotReady > 0 {
			l += fmt.Sprintf(", %d not ready", r.NotReady)
		}
		out = append(out, l)
	}
	switch {
	case r.Skipped != "":
		out = append(out, "drain not measured: "+r.Skipped)
	case r.Drained:
		out = append(out, fmt.Sprintf("drained to 0 in %s after the load; indexed %s records/s over the run (%s records, sleep and workouts aside, in %s)",
			r.DrainTime.Round(time.Millisecond), thousands(r.IndexedPerSec), thousands(float64(r.IndexedRecords)), r.IndexSpan.Round(time.Millisecond)))
	default:
		out = append(out, fmt.Sprintf("did not drain in %s; indexed %s records/s until then (%s records in %s)",
			r.DrainLimit, thousands(r.IndexedPerSec), thousands(float64(r.IndexedRecords)), r.IndexSpan.Round(time.Millisecond)))
	}
	if r.FirstIssue != "" && (r.NotReady > 0 || !r.Drained) {
		out = append(out, "first not-ready answer: "+r.FirstIssue)
	}
	return out
}
