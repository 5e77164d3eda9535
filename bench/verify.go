package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/codec"
	"wearhouse/health"
)

// sampleKey is one stored sample as the timeseries route tells it apart
// within a user: the series code (or, for a type of no series, the type
// string) and the start in microseconds. The store keeps one sample per
// (user, series, data source, start); records equal in those overwrite
// each other, so a key may stand for several records.
type sampleKey struct {
	series string
	at     int64
}

func (k sampleKey) String() string {
	return k.series + " at " + time.UnixMicro(k.at).UTC().Format(time.RFC3339Nano)
}

// bodySamples are the distinct samples one pool body's records are stored
// as, and the span of their starts.
type bodySamples struct {
	keys     []sampleKey
	from, to int64 // first and last start, microseconds
}

// expectedSamples decodes a body as the server does and lists the samples
// its records become.
func expectedSamples(b *Body) (bodySamples, error) {
	batch, err := codec.DecodeSync(b.Data, CeilingMaxItems)
	if err != nil {
		return bodySamples{}, fmt.Errorf("bench: verify: body %d does not decode: %w", b.Index, err)
	}
	seen := make(map[sampleKey]struct{}, len(batch.Records))
	out := bodySamples{keys: make([]sampleKey, 0, len(batch.Records))}
	for i := range batch.Records {
		r := &batch.Records[i]
		code := r.Type
		if s, ok := health.MapMetric(r.Type); ok {
			code = s.Code
		} else if code == "" {
			code = "unknown"
		}
		k := sampleKey{code, r.Start.UnixMicro()}
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		if len(out.keys) == 0 || k.at < out.from {
			out.from = k.at
		}
		if len(out.keys) == 0 || k.at > out.to {
			out.to = k.at
		}
		out.keys = append(out.keys, k)
	}
	return out, nil
}

// userExpect is what one user must read back: the samples of the pool
// bodies acknowledged for it, and any further keys.
type userExpect struct {
	user   string
	bodies []int // pool indices
	extra  []sampleKey
}

// ackKey packs a (pool body, user) pair that got a 202.
func ackKey(body, user int) uint64 { return uint64(body)<<32 | uint64(uint32(user)) }

// expectations groups the acknowledged pairs by user, in user order.
func expectations(acked map[uint64]struct{}) []userExpect {
	by := map[int][]int{}
	for k := range acked {
		u := int(uint32(k))
		by[u] = append(by[u], int(k>>32))
	}
	users := make([]int, 0, len(by))
	for u := range by {
		users = append(users, u)
	}
	slices.Sort(users)
	out := make([]userExpect, len(users))
	for i, u := range users {
		b := by[u]
		slices.Sort(b)
		out[i] = userExpect{user: UserID(u), bodies: b}
	}
	return out
}

// VerifyReport is the outcome of reading back what was acknowledged.
type VerifyReport struct {
	Users    int   // users with acknowledged bodies
	Bodies   int   // distinct (user, body) pairs acknowledged
	Expected int64 // distinct samples these must read back as
	Read     int64 // samples read back over the users' spans
	Missing  int64 // expected samples not read back
	// MissingUsers counts the users with something missing, and
	// FirstMissing gives the first few missing samples.
	MissingUsers int
	FirstMissing []string
	Duration     time.Duration
	// Error is a failure to read (an answer other than 200, a timeout);
	// the verification then failed as well.
	Error string
}

// OK says whether every acknowledged record read back.
func (v *VerifyReport) OK() bool { return v.Error == "" && v.Missing == 0 }

func (v *VerifyReport) line() string {
	switch {
	case v.Error != "":
		return fmt.Sprintf("FAILED: %s (%s samples missing among the users read before)", v.Error, thousands(float64(v.Missing)))
	case v.Missing > 0:
		return fmt.Sprintf("FAILED: %s of %s acknowledged samples missing for %d of %d users; first: %s",
			thousands(float64(v.Missing)), thousands(float64(v.Expected)), v.MissingUsers, v.Users, strings.Join(v.FirstMissing, "; "))
	default:
		return fmt.Sprintf("verified %s records of %d users (%d acknowledged bodies; %s samples read back in %s)",
			thousands(float64(v.Expected)), v.Users, v.Bodies, thousands(float64(v.Read)), v.Duration.Round(time.Millisecond))
	}
}

// verifier reads users' time series back.
type verifier struct {
	hc      *fasthttp.HostClient
	base    string // http://host:port/api/v1/users/
	apiKey  string
	timeout time.Duration
	pool    []bodySamples
	workers int
}

// maxVerifyPage is the page size asked for, the route's largest.
const maxVerifyPage = 100_000

func newVerifier(dial, hostport, apiKey string, timeout time.Duration, pool []bodySamples) *verifier {
	return &verifier{
		base: "http://" + hostport + "/api/v1/users/", apiKey: apiKey, timeout: timeout, pool: pool, workers: 4,
		hc: &fasthttp.HostClient{
			Addr:                      hostport,
			Name:                      "wearhouse-bench",
			MaxConns:                  4,
			ReadTimeout:               timeout,
			WriteTimeout:              timeout,
			MaxIdemponentCallAttempts: 1,
			// A full page is 100,000 samples of a few hundred bytes.
			MaxResponseBodySize: 512 << 20,
			// Only ever the checked loopback address.
			Dial: func(string) (net.Conn, error) { return net.DialTimeout("tcp", dial, 5*time.Second) },
		},
	}
}

// verify checks every user's expectations, on a few connections, until
// ctx ends.
func (v *verifier) verify(ctx context.Context, users []userExpect) *VerifyReport {
	start := time.Now()
	r := &VerifyReport{Users: len(users)}
	for _, u := range users {
		r.Bodies += len(u.bodies)
	}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		next    int
		missing []sampleKeyOf
	)
	for range min(v.workers, len(users)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if next >= len(users) || r.Error != "" {
					mu.Unlock()
					return
				}
				u := &users[next]
				next++
				mu.Unlock()
				expected, read, miss, err := v.user(ctx, u)
				mu.Lock()
				r.Expected += int64(expected)
				r.Read += int64(read)
				r.Missing += int64(len(miss))
				if len(miss) > 0 {
					r.MissingUsers++
					for _, k := range miss[:min(len(miss), 5)] {
						missing = append(missing, sampleKeyOf{u.user, k})
					}
				}
				if err != nil && r.Error == "" {
					r.Error = u.user + ": " + err.Error()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if r.Error == "" && ctx.Err() != nil {
		r.Error = ctx.Err().Error()
	}
	slices.SortFunc(missing, func(a, b sampleKeyOf) int {
		if c := strings.Compare(a.user, b.user); c != 0 {
			return c
		}
		if a.key.at != b.key.at {
			if a.key.at < b.key.at {
				return -1
			}
			return 1
		}
		return strings.Compare(a.key.series, b.key.series)
	})
	for _, m := range missing[:min(len(missing), 5)] {
		r.FirstMissing = append(r.FirstMissing, m.user+" "+m.key.String())
	}
	r.Duration = time.Since(start)
	return r
}

type sampleKeyOf struct {
	user string
	key  sampleKey
}

// user reads one user's samples over the span of its expectations and
// returns the number expected, the number read and the missing ones.
func (v *verifier) user(ctx context.Context, u *userExpect) (expected, read int, missing []sampleKey, err error) {
	want := map[sampleKey]bool{} // found?
	var from, to int64
	first := true
	add := func(k sampleKey) {
		if _, ok := want[k]; !ok {
			want[k] = false
		}
		if first || k.at < from {
			from = k.at
		}
		if first || k.at > to {
			to = k.at
		}
		first = false
	}
	for _, b := range u.bodies {
		for _, k := range v.pool[b].keys {
			add(k)
		}
	}
	for _, k := range u.extra {
		add(k)
	}
	if len(want) == 0 {
		return 0, 0, nil, nil
	}
	q := url.Values{}
	q.Set("start_time", time.UnixMicro(from).UTC().Format(time.RFC3339Nano))
	q.Set("end_time", time.UnixMicro(to+1).UTC().Format(time.RFC3339Nano))
	q.Set("limit", strconv.Itoa(maxVerifyPage))
	page := v.base + url.PathEscape(u.user) + "/timeseries?"
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	for pages := 0; ; pages++ {
		if err := ctx.Err(); err != nil {
			return len(want), read, nil, err
		}
		if pages > 10_000 {
			return len(want), read, nil, fmt.Errorf("more than %d pages", pages)
		}
		req.Reset()
		req.Header.SetMethod(fasthttp.MethodGet)
		req.SetRequestURI(page + q.Encode())
		req.Header.Set(APIKeyHeader, v.apiKey)
		if err := v.hc.DoTimeout(req, resp, v.timeout); err != nil {
			return len(want), read, nil, err
		}
		if resp.StatusCode() != fasthttp.StatusOK {
			return len(want), read, nil, fmt.Errorf("GET timeseries: %d: %s", resp.StatusCode(), truncate(string(resp.Body()), 200))
		}
		var p struct {
			Data []struct {
				Timestamp string `json:"timestamp"`
				Type      string `json:"type"`
			} `json:"data"`
			Pagination struct {
				NextCursor *string `json:"next_cursor"`
				HasMore    bool    `json:"has_more"`
			} `json:"pagination"`
		}
		if err := json.Unmarshal(resp.Body(), &p); err != nil {
			return len(want), read, nil, fmt.Errorf("GET timeseries: %w", err)
		}
		for _, s := range p.Data {
			t, err := time.Parse(time.RFC3339Nano, s.Timestamp)
			if err != nil {
				return len(want), read, nil, fmt.Errorf("GET timeseries: timestamp %q: %w", s.Timestamp, err)
			}
			k := sampleKey{s.Type, t.UnixMicro()}
			if _, ok := want[k]; ok {
				want[k] = true
			}
		}
		read += len(p.Data)
		if !p.Pagination.HasMore {
			break
		}
		if p.Pagination.NextCursor == nil || *p.Pagination.NextCursor == "" {
			return len(want), read, nil, fmt.Errorf("GET timeseries: has_more without a next_cursor")
		}
		q.Set("cursor", *p.Pagination.NextCursor)
	}
	for k, found := range want {
		if !found {
			missing = append(missing, k)
		}
	}
	slices.SortFunc(missing, func(a, b sampleKey) int {
		if a.at != b.at {
			if a.at < b.at {
				return -1
			}
			return 1
		}
		return strings.Compare(a.series, b.series)
	})
	return len(want), read, missing, nil
}
