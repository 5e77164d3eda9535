package main

// Crash tests of the compactor: the real server binary with its compactor
// running, real loopback HTTP and a real Pebble store on disk. Batches of
// heart rate records are posted while the compactor indexes them, and the
// server is killed with SIGKILL while the queue still holds unindexed
// batches, three times on one data directory. After the last restart every
// acknowledged record must be readable through the timeseries route exactly
// once, with its value; the queue must end empty and every run completed.
//
// Every record is checkable on its own: per user, each record has its own
// startDate (a counter of seconds from idxBase) and a value computed from
// its user and second. Some batches are re-sent byte for byte (answered as
// duplicates) and some re-encoded with other whitespace (stored as new
// batches whose records overwrite the stored ones): neither may double a
// record.
//
// TestCrashWhileIndexingDetectsLossWithoutSync runs the same checker against
// a server whose queue writes are not fsynced, and requires it to report
// acknowledged records as missing, so that a passing
// TestCrashWhileIndexingKeepsEveryRecordOnce means something.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/pebblestore"
)

const (
	// idxWorkers post batches concurrently, at most idxMaxWorkers.
	idxWorkers    = 8
	idxMaxWorkers = 16
	// idxCycles is the number of SIGKILLs on one data directory.
	idxCycles = 3
	// idxDrainTimeout bounds the wait for the restarted server to index
	// everything.
	idxDrainTimeout = 20 * time.Second
	// idxReadTimeout bounds one read of the timeseries route; a page may
	// hold 100,000 samples.
	idxReadTimeout = 15 * time.Second
	// idxPageLimit is the largest page the timeseries route serves.
	idxPageLimit = 100_000
	// idxHistory is how many acknowledged requests a worker keeps to re-send.
	idxHistory = 16
	// idxWindow is the read window from idxBase; no user's counter may pass it.
	idxWindow = 30 * 24 * time.Hour
)

// idxUsers are the users the batches are spread over.
var idxUsers = [...]string{"idx-user-1", "idx-user-2", "ada@example.org", "user:7.x_y"}

// idxBase is the startDate of every user's first record.
var idxBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// idxValue is the heart rate of a user's record at a second: 40.0 to 199.9.
func idxValue(user int, sec int64) float64 {
	return float64(400+(sec*7+int64(user)*131)%1600) / 10
}

// ---------------------------------------------------------------------------
// Batches and bodies.

// idxBatch names the records of one batch: the seconds first..first+n-1 of
// one user.
type idxBatch struct {
	user  int
	first int64
	n     int
}

// idxRequest is one POST: the batch it carries and its exact body.
type idxRequest struct {
	syncRequest
	batch idxBatch
}

// idxGen hands out batches of unique records: per user a counter of
// seconds.
type idxGen struct {
	next       [len(idxUsers)]atomic.Int64 // per user, the next unused second
	minN, maxN int                         // records per batch
	reencoded  atomic.Uint64               // re-encodings made, to make each one unique
}

func newIdxGen(minN, maxN int) *idxGen { return &idxGen{minN: minN, maxN: maxN} }

// batch makes a new batch of fresh records, in ascending, descending or
// shuffled order.
func (g *idxGen) batch(rng *rand.Rand) idxRequest {
	u := rng.IntN(len(idxUsers))
	n := g.minN + rng.IntN(g.maxN-g.minN+1)
	first := g.next[u].Add(int64(n)) - int64(n)
	secs := make([]int64, n)
	for i := range secs {
		secs[i] = first + int64(i)
	}
	switch rng.IntN(3) {
	case 1:
		slices.Reverse(secs)
	case 2:
		rng.Shuffle(n, func(i, j int) { secs[i], secs[j] = secs[j], secs[i] })
	}
	b := make([]byte, 0, 40+n*130)
	b = append(b, `{"provider":"google","sdkVersion":"1.0","syncTimestamp":"2026-02-01T00:00:00Z","data":{"records":[`...)
	for i, s := range secs {
		if i > 0 {
			b = append(b, ',')
		}
		start := idxBase.Add(time.Duration(s) * time.Second)
		b = append(b, `{"id":"r-`...)
		b = strconv.AppendInt(b, int64(u), 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, s, 10)
		b = append(b, `","type":"HEART_RATE","startDate":"`...)
		b = start.AppendFormat(b, time.RFC3339)
		b = append(b, `","endDate":"`...)
		b = start.Add(time.Second).AppendFormat(b, time.RFC3339)
		b = append(b, `","value":`...)
		b = strconv.AppendFloat(b, idxValue(u, s), 'f', -1, 64)
		b = append(b, `,"unit":"bpm"}`...)
	}
	b = append(b, `]}}`...)
	return idxRequest{syncRequest{idxUsers[u], b}, idxBatch{u, first, n}}
}

// reencode returns the same batch with different whitespace: indented, and
// led by a run of spaces and tabs that spells a counter, so that no two
// re-encodings are byte-identical.
func (g *idxGen) reencode(r idxRequest, rng *rand.Rand) idxRequest {
	k := g.reencoded.Add(1)
	var b bytes.Buffer
	for ; k > 0; k >>= 1 {
		b.WriteByte(" \t"[k&1])
	}
	b.WriteByte('\n')
	if err := json.Indent(&b, r.body, "", []string{" ", "  ", "\t"}[rng.IntN(3)]); err != nil {
		panic(err) // the generator's own bodies are valid JSON
	}
	b.WriteByte('\n')
	return idxRequest{syncRequest{r.user, b.Bytes()}, r.batch}
}

// ---------------------------------------------------------------------------
// The client's record.

const (
	recSent  = 1 // posted at least once, never acknowledged
	recAcked = 2 // in a batch answered 202
)

type idxAck struct {
	key     bodyKey
	records int
}

// idxLedger records what was sent and what was acknowledged, record by
// record and batch by batch.
type idxLedger struct {
	mu    sync.Mutex
	state [][]byte          // per user, per second: 0, recSent or recAcked
	ids   map[string]idxAck // batch_id of every 202 -> its request
	errs  []string          // anything the server must not do
}

func newIdxLedger() *idxLedger {
	return &idxLedger{state: make([][]byte, len(idxUsers)), ids: map[string]idxAck{}}
}

func (l *idxLedger) mark(b idxBatch, st byte) {
	s := l.state[b.user]
	if end := b.first + int64(b.n); int64(len(s)) < end {
		s = append(s, make([]byte, end-int64(len(s)))...)
		l.state[b.user] = s
	}
	for i := b.first; i < b.first+int64(b.n); i++ {
		s[i] = max(s[i], st)
	}
}

func (l *idxLedger) noteSent(r idxRequest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mark(r.batch, recSent)
}

func (l *idxLedger) noteAck(batchID string, r idxRequest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.ids[batchID]; ok && prev.key != r.key() {
		l.errs = append(l.errs, fmt.Sprintf("batch_id %s acknowledged for two requests: %v and %v", batchID, prev.key, r.key()))
		return
	}
	l.ids[batchID] = idxAck{r.key(), r.batch.n}
	l.mark(r.batch, recAcked)
}

func (l *idxLedger) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, fmt.Sprintf(format, args...))
}

func (l *idxLedger) requireNoErrors(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) > 0 {
		t.Fatalf("%d unexpected answers, first ones:\n%s", len(l.errs), strings.Join(l.errs[:min(len(l.errs), 10)], "\n"))
	}
}

// acked counts the acknowledged records of each user.
func (l *idxLedger) acked() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]int, len(idxUsers))
	for u, s := range l.state {
		for _, st := range s {
			if st == recAcked {
				out[u]++
			}
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// The load.

// idxAcked is an acknowledged request a worker may re-send.
type idxAcked struct {
	req     idxRequest
	batchID string
}

// idxLoadPlan says what the workers send and when the server is killed:
// after killAfter, once the compactor has indexed something in this process
// and still has at least two batches to go (when waitBusy), or at the
// killAtAcks-th 202; crashLoadLimit is the backstop.
type idxLoadPlan struct {
	workers    int
	replayPct  int // share of requests that re-send an acknowledged batch
	killAfter  time.Duration
	waitBusy   bool
	killAtAcks int64
}

type idxLoadResult struct {
	acks, replays, reencoded, overloaded int64
	killedAfter                          time.Duration
	busy                                 bool   // the compactor was seen busy just before the kill
	lag, indexed                         uint64 // what /readyz said then
	unanswered                           []idxRequest
}

// runIdxLoad posts batches from plan.workers goroutines until it kills the
// server with SIGKILL according to plan. hist holds, per worker, the
// acknowledged requests it may re-send; a worker only re-sends its own, so
// that the answer to a byte-identical replay is known.
func runIdxLoad(t *testing.T, p *serverProc, c *http.Client, l *idxLedger, gen *idxGen, hist [][]idxAcked,
	seed uint64, stream uint64, plan idxLoadPlan) idxLoadResult {
	t.Helper()
	var (
		res      idxLoadResult
		killed   atomic.Bool
		killOnce sync.Once
		acks     atomic.Int64
		replays  atomic.Int64
		reenc    atomic.Int64
		over     atomic.Int64
		mu       sync.Mutex // guards res.unanswered and the /readyz fields
		wg       sync.WaitGroup
		stop     = make(chan struct{})
	)
	start := time.Now()
	kill := func() {
		killOnce.Do(func() {
			killed.Store(true) // before the signal: every failure seen after it counts as in flight
			res.killedAfter = time.Since(start)
			_ = p.cmd.Process.Kill()
			close(stop)
		})
	}
	for w := range plan.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, stream*1000+uint64(w)))
			for !killed.Load() {
				var r idxRequest
				wantDup, wantID := false, ""
				switch h := hist[w]; {
				case len(h) > 0 && rng.IntN(100) < plan.replayPct/2:
					a := h[rng.IntN(len(h))]
					r, wantDup, wantID = a.req, true, a.batchID
					replays.Add(1)
				case len(h) > 0 && rng.IntN(100) < plan.replayPct:
					r = gen.reencode(h[rng.IntN(len(h))].req, rng)
					reenc.Add(1)
				default:
					r = gen.batch(rng)
				}
				l.noteSent(r)
				either := false // after a 503 the first attempt may have been stored late
				for {
					status, a, raw, err := postSync(c, p.base, r.syncRequest)
					if err != nil {
						mu.Lock()
						res.unanswered = append(res.unanswered, r)
						mu.Unlock()
						if !killed.Load() {
							l.fail("POST for %s failed before the kill: %v", r.user, err)
							kill()
						}
						return
					}
					if status == http.StatusServiceUnavailable {
						over.Add(1)
						either = true
						time.Sleep(20 * time.Millisecond)
						if killed.Load() {
							return
						}
						continue
					}
					dup := wantDup
					if either && a != nil {
						dup = a.Duplicate
					}
					if msg := checkAnswer(r.syncRequest, status, a, raw, dup); msg != "" {
						l.fail("%s", msg)
						kill()
						return
					}
					if wantID != "" && a.BatchID != wantID {
						l.fail("byte-identical replay of batch %s answered with batch_id %s", wantID, a.BatchID)
						kill()
						return
					}
					l.noteAck(a.BatchID, r)
					if !wantDup {
						// Keep a sample of at most idxHistory requests.
						if h := hist[w]; len(h) < idxHistory {
							hist[w] = append(h, idxAcked{r, a.BatchID})
						} else {
							h[rng.IntN(len(h))] = idxAcked{r, a.BatchID}
						}
					}
					break
				}
				if n := acks.Add(1); plan.killAtAcks > 0 && n >= plan.killAtAcks {
					kill()
				}
			}
		}()
	}
	killerDone := make(chan struct{})
	if plan.killAfter == 0 {
		close(killerDone)
	} else {
		go func() {
			defer close(killerDone)
			select {
			case <-stop:
				return
			case <-time.After(plan.killAfter):
			}
			if plan.waitBusy {
				// Kill at once when the compactor is busy: it has indexed
				// something in this process and the queue still holds
				// batches below the watermark.
				rc := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
				deadline := time.Now().Add(3 * time.Second)
				for time.Now().Before(deadline) && !killed.Load() {
					st, err := readyz(rc, p.base)
					if err == nil && st.LagBatches >= 2 && st.IndexedBatches >= 1 {
						mu.Lock()
						res.busy, res.lag, res.indexed = true, st.LagBatches, st.IndexedBatches
						mu.Unlock()
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				rc.CloseIdleConnections()
			}
			kill()
		}()
	}
	timer := time.AfterFunc(crashLoadLimit, kill)
	wg.Wait()
	timer.Stop()
	kill()
	<-killerDone
	p.waitKilled(t)
	res.acks, res.replays, res.reencoded, res.overloaded = acks.Load(), replays.Load(), reenc.Load(), over.Load()
	return res
}

// compactorState is the compactor part of the /readyz answer.
type compactorState struct {
	LagBatches     uint64 `json:"lag_batches"`
	IndexedBatches uint64 `json:"indexed_batches"`
	IndexedRecords uint64 `json:"indexed_records"`
}

func readyz(c *http.Client, base string) (*compactorState, error) {
	resp, err := c.Get(base + "/readyz")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /readyz: status %d: %s", resp.StatusCode, raw)
	}
	var st struct {
		Compactor *compactorState `json:"compactor"`
	}
	if err := json.Unmarshal(raw, &st); err != nil || st.Compactor == nil {
		return nil, fmt.Errorf("GET /readyz: no compactor state in %s", raw)
	}
	return st.Compactor, nil
}

// retryUnanswered re-sends requests that were in flight at a kill, as a
// client would; the answer may be a duplicate (the batch was stored before
// the kill) or a new batch, never anything else.
func retryUnanswered(t *testing.T, p *serverProc, c *http.Client, l *idxLedger, reqs []idxRequest) (dups int) {
	t.Helper()
	for _, r := range reqs {
		status, a, raw, err := postSync(c, p.base, r.syncRequest)
		if err != nil {
			t.Fatalf("retry after restart: %v", err)
		}
		if a == nil {
			t.Fatalf("retry after restart: status %d: %s", status, raw)
		}
		if msg := checkAnswer(r.syncRequest, status, a, raw, a.Duplicate); msg != "" {
			t.Fatalf("retry after restart: %s", msg)
		}
		if a.Duplicate {
			dups++
		}
		l.noteAck(a.BatchID, r)
	}
	l.requireNoErrors(t)
	return dups
}

// ---------------------------------------------------------------------------
// Reading back.

type idxPage struct {
	Data []struct {
		Timestamp time.Time `json:"timestamp"`
		Value     float64   `json:"value"`
		Type      string    `json:"type"`
	} `json:"data"`
	Pagination struct {
		NextCursor *string `json:"next_cursor"`
		HasMore    bool    `json:"has_more"`
		TotalCount *int    `json:"total_count"`
	} `json:"pagination"`
}

func readPage(c *http.Client, base, user string, limit int, cursor string) (*idxPage, error) {
	q := url.Values{}
	q.Set("start_time", idxBase.Format(time.RFC3339))
	q.Set("end_time", idxBase.Add(idxWindow).Format(time.RFC3339))
	q.Set("types", "heart_rate")
	q.Set("limit", strconv.Itoa(limit))
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/users/"+user+"/timeseries?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Open-Wearables-API-Key", crashAdminKey)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET timeseries of %s: status %d: %.300s", user, resp.StatusCode, raw)
	}
	var pg idxPage
	if err := json.Unmarshal(raw, &pg); err != nil {
		return nil, fmt.Errorf("GET timeseries of %s: %v", user, err)
	}
	if pg.Pagination.TotalCount == nil {
		return nil, fmt.Errorf("GET timeseries of %s: no total_count", user)
	}
	return &pg, nil
}

// waitDrained polls the server until the compactor has nothing left and
// every user's total_count has reached its acknowledged records, or until
// the compactor has had nothing left for a while with the counts unchanged
// (then something is missing, which the check reports), or idxDrainTimeout.
func waitDrained(t *testing.T, p *serverProc, c *http.Client, want []int) time.Duration {
	t.Helper()
	start := time.Now()
	var last []int
	stable := 0
	for {
		st, err := readyz(c, p.base)
		if err != nil {
			t.Fatalf("while waiting for the compactor: %v", err)
		}
		got := make([]int, len(idxUsers))
		for u, user := range idxUsers {
			pg, err := readPage(c, p.base, user, 1, "")
			if err != nil {
				t.Fatalf("while waiting for the compactor: %v", err)
			}
			got[u] = *pg.Pagination.TotalCount
		}
		all := true
		for u := range want {
			all = all && got[u] >= want[u]
		}
		if st.LagBatches == 0 && all {
			return time.Since(start)
		}
		if st.LagBatches == 0 && slices.Equal(got, last) {
			stable++
		} else {
			stable = 0
		}
		if stable >= 10 {
			t.Logf("the compactor is idle but total counts %v are short of the acknowledged records %v", got, want)
			return time.Since(start)
		}
		if time.Since(start) > idxDrainTimeout {
			t.Logf("after %v the compactor lags %d batches; total counts %v, acknowledged records %v",
				idxDrainTimeout, st.LagBatches, got, want)
			return time.Since(start)
		}
		last = got
		time.Sleep(100 * time.Millisecond)
	}
}

// idxReport is what checkRecords found.
type idxReport struct {
	acked, read, inflightRead, inflightAbsent int
	missing                                   []string // acknowledged records not read
	problems                                  []string // records read twice, with the wrong value, never sent, ...
}

// checkRecords reads every user's heart rate through the timeseries route
// and compares it with the ledger: every acknowledged record once with its
// value; a record of a request that was never acknowledged at most once;
// no timestamp twice; nothing that was never sent.
func checkRecords(t *testing.T, c *http.Client, base string, l *idxLedger) idxReport {
	t.Helper()
	var rep idxReport
	l.mu.Lock()
	defer l.mu.Unlock()
	for u, user := range idxUsers {
		state := l.state[u]
		if idxBase.Add(time.Duration(len(state)) * time.Second).After(idxBase.Add(idxWindow)) {
			t.Fatalf("user %s has records past the read window", user)
		}
		seen := make([]uint8, len(state))
		var extra, wrong []string
		n, total, cursor := 0, -1, ""
		for {
			pg, err := readPage(c, base, user, idxPageLimit, cursor)
			if err != nil {
				t.Fatal(err)
			}
			if total < 0 {
				total = *pg.Pagination.TotalCount
			}
			for _, s := range pg.Data {
				n++
				off := s.Timestamp.Sub(idxBase)
				sec := int64(off / time.Second)
				switch {
				case s.Type != "heart_rate":
					rep.problems = append(rep.problems, fmt.Sprintf("%s: sample of type %q at %v", user, s.Type, s.Timestamp))
				case off < 0 || off%time.Second != 0 || sec >= int64(len(state)) || state[sec] == 0:
					extra = append(extra, s.Timestamp.Format(time.RFC3339Nano))
				default:
					seen[sec] = min(seen[sec], 254) + 1
					if want := idxValue(u, sec); s.Value != want && len(wrong) < 10 {
						wrong = append(wrong, fmt.Sprintf("%s has value %v, want %v",
							s.Timestamp.Format(time.RFC3339), s.Value, want))
					}
				}
			}
			if !pg.Pagination.HasMore || pg.Pagination.NextCursor == nil {
				break
			}
			cursor = *pg.Pagination.NextCursor
		}
		if n != total {
			rep.problems = append(rep.problems, fmt.Sprintf("%s: %d samples read, but total_count is %d", user, n, total))
		}
		if len(extra) > 0 {
			rep.problems = append(rep.problems, fmt.Sprintf("%s: %d samples that were never sent, e.g. at %s",
				user, len(extra), extra[0]))
		}
		rep.read += n
		if len(wrong) > 0 {
			rep.problems = append(rep.problems, fmt.Sprintf("%s: records with a wrong value: %s",
				user, strings.Join(wrong, "; ")))
		}
		var lost, twice, inflightTwice []int64
		for sec, st := range state {
			if seen[sec] > 1 {
				if st == recAcked {
					twice = append(twice, int64(sec))
				} else {
					inflightTwice = append(inflightTwice, int64(sec))
				}
			}
			switch {
			case st == recAcked:
				rep.acked++
				if seen[sec] == 0 {
					lost = append(lost, int64(sec))
				}
			case st == recSent && seen[sec] > 0:
				rep.inflightRead++
			case st == recSent:
				rep.inflightAbsent++
			}
		}
		if len(lost) > 0 {
			rep.missing = append(rep.missing, fmt.Sprintf("%s: %d acknowledged records missing: %s",
				user, len(lost), secRanges(lost)))
		}
		if len(twice) > 0 {
			rep.problems = append(rep.problems, fmt.Sprintf("%s: %d acknowledged records read more than once: %s",
				user, len(twice), secRanges(twice)))
		}
		if len(inflightTwice) > 0 {
			rep.problems = append(rep.problems, fmt.Sprintf("%s: %d records of requests in flight read more than once: %s",
				user, len(inflightTwice), secRanges(inflightTwice)))
		}
	}
	return rep
}

// secRanges prints sorted seconds as ranges of startDates, at most ten.
func secRanges(secs []int64) string {
	var parts []string
	for i := 0; i < len(secs); {
		j := i
		for j+1 < len(secs) && secs[j+1] == secs[j]+1 {
			j++
		}
		a := idxBase.Add(time.Duration(secs[i]) * time.Second).Format(time.RFC3339)
		if j == i {
			parts = append(parts, a)
		} else {
			parts = append(parts, fmt.Sprintf("%s..%s (%d)", a,
				idxBase.Add(time.Duration(secs[j])*time.Second).Format(time.RFC3339), j-i+1))
		}
		i = j + 1
		if len(parts) == 10 && i < len(secs) {
			parts = append(parts, "...")
			break
		}
	}
	return strings.Join(parts, ", ")
}

// ---------------------------------------------------------------------------
// The tests.

// TestCrashWhileIndexingKeepsEveryRecordOnce kills the server with SIGKILL
// three times while its compactor is indexing, on one data directory. Each
// restarted server gets half of the requests that were in flight again, as
// a client would retry them, and the next round of load. After the last
// restart every acknowledged record must be read back once with its value;
// then, after SIGTERM, the queue must be empty, every run completed with
// the count of its batch, and the compactor's position past every run.
func TestCrashWhileIndexingKeepsEveryRecordOnce(t *testing.T) {
	bin := wearhouseBinary(t)
	seed := pickSeed(t)
	rng := rand.New(rand.NewPCG(seed, 3))
	dir := t.TempDir()
	l := newIdxLedger()
	gen := newIdxGen(1500, 2000)
	hist := make([][]idxAcked, idxMaxWorkers)
	c, tr := newCrashClient()
	defer tr.CloseIdleConnections()
	rc := &http.Client{Transport: tr, Timeout: idxReadTimeout}
	began := time.Now()

	p := startServerArgs(t, bin, dir, nil)
	busyCycles, backlogCycles := 0, 0
	for cycle := 1; cycle <= idxCycles; cycle++ {
		delay := time.Duration(400+rng.IntN(801)) * time.Millisecond
		plan := idxLoadPlan{workers: idxWorkers, replayPct: 20, killAfter: delay, waitBusy: true}
		res := runIdxLoad(t, p, c, l, gen, hist, seed, uint64(cycle), plan)
		tr.CloseIdleConnections()
		l.requireNoErrors(t)
		busy := "the compactor was not seen busy"
		if res.busy {
			busyCycles++
			busy = fmt.Sprintf("the compactor had indexed %d batches and lagged %d", res.indexed, res.lag)
		}
		t.Logf("cycle %d: SIGKILL %v into the load (planned after %v; %s): %d batches acknowledged "+
			"(%d byte-identical replays, %d re-encoded), %d answered 503, %d requests in flight",
			cycle, res.killedAfter.Round(time.Millisecond), delay, busy, res.acks, res.replays, res.reencoded,
			res.overloaded, len(res.unanswered))
		if res.acks == 0 {
			t.Fatalf("cycle %d: no batch was acknowledged before the kill", cycle)
		}

		p = startServerArgs(t, bin, dir, nil)
		// What the restarted compactor found in the queue: what it has
		// indexed plus what it still lags (the load has not resumed).
		st, err := readyz(c, p.base)
		if err != nil {
			t.Fatalf("cycle %d: after restart: %v", cycle, err)
		}
		if backlog := st.IndexedBatches + st.LagBatches; backlog > 0 {
			backlogCycles++
			t.Logf("cycle %d: restarted with about %d unindexed batches in the queue", cycle, backlog)
		} else {
			t.Logf("cycle %d: restarted with an empty queue", cycle)
		}
		var retry []idxRequest
		for _, r := range res.unanswered {
			if rng.IntN(2) == 0 {
				retry = append(retry, r)
			}
		}
		dups := retryUnanswered(t, p, c, l, retry)
		t.Logf("cycle %d: %d of %d requests in flight retried, %d of them answered as duplicates",
			cycle, len(retry), len(res.unanswered), dups)
	}
	if backlogCycles == 0 || busyCycles == 0 {
		t.Fatalf("the server was never killed while the compactor was busy (%d kills seen busy, %d restarts with a backlog)",
			busyCycles, backlogCycles)
	}

	want := l.acked()
	waited := waitDrained(t, p, rc, want)
	readStart := time.Now()
	rep := checkRecords(t, rc, p.base, l)
	t.Logf("after the last restart: drained in %v; %d samples read in %v; %d acknowledged records; "+
		"of the records in flight and never retried %d read, %d absent",
		waited.Round(time.Millisecond), rep.read, time.Since(readStart).Round(time.Millisecond), rep.acked,
		rep.inflightRead, rep.inflightAbsent)
	if bad := append(append([]string(nil), rep.missing...), rep.problems...); len(bad) > 0 {
		t.Fatalf("seed %d: %d users with acknowledged records missing, %d other problems:\n%s",
			seed, len(rep.missing), len(rep.problems), strings.Join(bad[:min(len(bad), 20)], "\n"))
	}
	tr.CloseIdleConnections()
	p.stop(t)

	// The store as the server left it.
	store, err := pebblestore.Open(pebblestore.Options{Dir: dir, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatalf("open the store: %v", err)
	}
	defer store.Close()
	queued := 0
	if err := store.ScanQueue(0, func(*pebblestore.QueueEntry) (bool, error) { queued++; return true, nil }); err != nil {
		t.Fatal(err)
	}
	if queued != 0 {
		t.Errorf("%d batches left in the queue", queued)
	}
	pos, err := store.CompactorPos()
	if err != nil {
		t.Fatal(err)
	}
	runs := map[string]*pebblestore.Run{}
	var maxSeq uint64
	var notDone []string
	err = store.Runs(func(r *pebblestore.Run) bool {
		runs[r.BatchID] = r
		maxSeq = max(maxSeq, r.Seq)
		if r.Status != "completed" {
			notDone = append(notDone, fmt.Sprintf("run %s (seq %d) is %s %s", r.BatchID, r.Seq, r.Status, r.Message))
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(notDone) > 0 {
		t.Errorf("%d runs not completed:\n%s", len(notDone), strings.Join(notDone[:min(len(notDone), 10)], "\n"))
	}
	if pos < maxSeq {
		t.Errorf("the compactor's position %d is below the last run's seq %d", pos, maxSeq)
	}
	for id, a := range l.ids {
		r, ok := runs[id]
		switch {
		case !ok:
			t.Errorf("acknowledged batch %s (%v) has no run", id, a.key)
		case r.RecordsSaved != a.records || r.UserID != a.key.user:
			t.Errorf("run of batch %s: user %s, %d records saved; want user %s, %d records",
				id, r.UserID, r.RecordsSaved, a.key.user, a.records)
		}
	}
	t.Logf("after SIGTERM: queue empty, %d runs completed (%d acknowledged batches), position %d; %v in all",
		len(runs), len(l.ids), pos, time.Since(began).Round(time.Millisecond))
}

// TestCrashWhileIndexingDetectsLossWithoutSync kills a server whose queue
// writes are not fsynced right after a burst of 202s, restarts it, lets the
// compactor drain what survived and requires the read-back check to report
// acknowledged records as missing: proof that
// TestCrashWhileIndexingKeepsEveryRecordOnce would see a loss. Small batches
// make many 202s in little time; a crash that happens to lose nothing is
// retried a few times.
func TestCrashWhileIndexingDetectsLossWithoutSync(t *testing.T) {
	bin := wearhouseUnsafeBinary(t)
	seed := pickSeed(t)
	rng := rand.New(rand.NewPCG(seed, 4))
	c, tr := newCrashClient()
	defer tr.CloseIdleConnections()
	rc := &http.Client{Transport: tr, Timeout: idxReadTimeout}

	const attempts = 10
	for attempt := 1; attempt <= attempts; attempt++ {
		dir := t.TempDir()
		l := newIdxLedger()
		gen := newIdxGen(5, 20)
		hist := make([][]idxAcked, idxMaxWorkers)
		p := startServerArgs(t, bin, dir, nil, "WEARHOUSE_UNSAFE_NO_SYNC=1")
		killAt := int64(150 + rng.IntN(150))
		res := runIdxLoad(t, p, c, l, gen, hist, seed, uint64(100+attempt), idxLoadPlan{workers: idxMaxWorkers, killAtAcks: killAt})
		tr.CloseIdleConnections()
		l.requireNoErrors(t)
		p = startServerArgs(t, bin, dir, nil)
		waitDrained(t, p, rc, l.acked())
		rep := checkRecords(t, rc, p.base, l)
		tr.CloseIdleConnections()
		p.stop(t)
		t.Logf("attempt %d: SIGKILL at 202 number %d (%v into the load): %d acknowledged, %d in flight; "+
			"%d acknowledged records, %d read, %d users with records missing",
			attempt, killAt, res.killedAfter.Round(time.Millisecond), res.acks, len(res.unanswered),
			rep.acked, rep.read, len(rep.missing))
		if len(rep.problems) > 0 {
			t.Fatalf("attempt %d: problems other than loss:\n%s", attempt, strings.Join(rep.problems[:min(len(rep.problems), 20)], "\n"))
		}
		if len(rep.missing) > 0 {
			t.Logf("the check sees the loss, e.g. %s", rep.missing[0])
			return
		}
	}
	t.Fatalf("no acknowledged record was lost in %d crashes without fsync: the check was not shown to detect a loss", attempts)
}
