package httpapi

import (
	"bufio"
	"container/heap"
	"errors"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/codec"
	"wearhouse/ingest"
	"wearhouse/pebblestore"
)

// streamBuffer is how many run changes a stream may have waiting before it
// loses some; it then ends so that the client reconnects and replays.
const streamBuffer = 256

// syncStatusRoutes are the sync status and SDK log routes.
func (s *Server) syncStatusRoutes() []route {
	return append([]route{
		r("GET", "/api/v1/users/{user_id}/sync/recent", s.syncRecent),
		r("GET", "/api/v1/users/{user_id}/sync/runs", s.syncUserRuns),
		r("GET", "/api/v1/users/{user_id}/sync/stream", s.syncStream),
		r("GET", "/api/v1/sync/runs", s.syncAllRuns),
	}, s.sdkLogRoutes()...)
}

// syncRecent is GET /users/{id}/sync/recent: the user's latest sync status
// events, newest first.
func (s *Server) syncRecent(ctx *fasthttp.RequestCtx, a []string) {
	if _, err := s.reader(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	limit, err := intArg(ctx, "limit", 50, 1, 200)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	iid, err := s.syncUser(a[0])
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	evs, err := s.recentEvents(iid, limit)
	s.answer(ctx, evs, err)
}

// syncUserRuns is GET /users/{id}/sync/runs: the user's runs, newest last
// update first.
func (s *Server) syncUserRuns(ctx *fasthttp.RequestCtx, a []string) {
	if _, err := s.reader(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	limit, err := intArg(ctx, "limit", 20, 1, 200)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	iid, err := s.syncUser(a[0])
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	runs, err := s.runSummaries(userRuns(s.deps.Store, iid), limit, nil)
	s.answer(ctx, runs, err)
}

// syncAllRuns is GET /sync/runs: the runs of every user, newest last update
// first, filtered by user_id, provider, status and source. status matches a
// run's status (in_progress, success, failed) or its stage (queued,
// started, completed, failed); every run's source is "sdk". An unknown user
// gives an empty list, as in Open Wearables.
func (s *Server) syncAllRuns(ctx *fasthttp.RequestCtx, _ []string) {
	if _, err := s.reader(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	limit, err := intArg(ctx, "limit", 50, 1, 10000)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	args := ctx.QueryArgs()
	userID := string(args.Peek("user_id"))
	provider := strings.ToLower(string(args.Peek("provider")))
	status := string(args.Peek("status"))
	source := string(args.Peek("source"))
	runs := []codec.SyncRunSummary{}
	if source != "" && source != codec.SyncSourceSDK {
		s.answer(ctx, runs, nil)
		return
	}
	iter := allRuns(s.deps.Store)
	if userID != "" {
		u, err := s.deps.Store.User(userID)
		if errors.Is(err, pebblestore.ErrNotFound) {
			s.answer(ctx, runs, nil)
			return
		} else if err != nil {
			s.writeError(ctx, err)
			return
		}
		iter = userRuns(s.deps.Store, u.IID)
	}
	keep := func(r *pebblestore.Run, sum *codec.SyncRunSummary) bool {
		return (provider == "" || r.Provider == provider) &&
			(status == "" || sum.Status == status || sum.Stage == status)
	}
	runs, err = s.runSummaries(iter, limit, keep)
	s.answer(ctx, runs, err)
}

// syncUser resolves the user of a sync status route: 404 when unknown.
func (s *Server) syncUser(id string) (uint32, error) {
	iid, ok, err := s.readUser(id)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, errStatus(fasthttp.StatusNotFound, "User not found")
	}
	return iid, nil
}

// intArg reads an integer query parameter from lo to hi.
func intArg(ctx *fasthttp.RequestCtx, name string, def, lo, hi int) (int, error) {
	v := ctx.QueryArgs().Peek(name)
	if len(v) == 0 {
		return def, nil
	}
	n, err := strconv.Atoi(string(v))
	if err != nil || n < lo || n > hi {
		return 0, errStatus(fasthttp.StatusBadRequest,
			name+" must be an integer from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi)+".")
	}
	return n, nil
}

// runIter calls fn for runs, newest sequence number first, until fn
// returns false.
type runIter func(fn func(*pebblestore.Run) bool) error

func userRuns(st *pebblestore.Store, iid uint32) runIter {
	return func(fn func(*pebblestore.Run) bool) error { return st.UserRuns(iid, fn) }
}

func allRuns(st *pebblestore.Store) runIter { return st.Runs }

func syncRun(r *pebblestore.Run) *codec.SyncRun {
	return &codec.SyncRun{
		BatchID: r.BatchID, UserID: r.UserID, Provider: r.Provider, Status: r.Status, Error: r.Message,
		QueuedAt: r.QueuedAt, StartedAt: r.StartedAt, CompletedAt: r.CompletedAt,
		RecordsSaved: r.RecordsSaved, WorkoutsSaved: r.WorkoutsSaved, SleepSaved: r.SleepSaved,
		DroppedCount: r.DroppedCount, UnmappedCount: r.UnmappedCount, RejectedCount: r.RejectedCount, Items: r.Items,
	}
}

// scanLatest walks runs newest sequence number first and hands take those
// updated within ingest.RunRetention (SPEC §3: 30 days; Open Wearables
// keeps 24 hours); take returns the times of the items it
// keeps from a run. It stops as soon as no older run can hold one of the
// limit latest items.
//
// The bound comes from the compactor: it indexes in sequence order, so a
// finished run was last updated no earlier than any older run. Once a
// finished run is older than the retention, or older than the limit-th
// latest item kept so far, every older run is too. Queued runs (the
// compactor's backlog) are all read: an older run may have finished after
// a newer one was queued.
func scanLatest(iter runIter, now time.Time, limit int, take func(*pebblestore.Run, *codec.SyncRun) []time.Time) error {
	// The compactor's sweep deletes older finished runs within the hour;
	// until then the listings skip them.
	cutoff := now.Add(-ingest.RunRetention)
	var latest timeHeap // the limit latest item times, oldest on top
	return iter(func(r *pebblestore.Run) bool {
		sr := syncRun(r)
		at := sr.LastUpdate()
		if r.CompletedAt != nil && (at.Before(cutoff) || (latest.Len() >= limit && !at.After(latest[0]))) {
			return false
		}
		if at.Before(cutoff) {
			return true
		}
		for _, t := range take(r, sr) {
			heap.Push(&latest, t)
			if latest.Len() > limit {
				heap.Pop(&latest)
			}
		}
		return true
	})
}

// recentEvents returns a user's latest events, newest first.
func (s *Server) recentEvents(iid uint32, limit int) ([]codec.SyncStatusEvent, error) {
	type item struct {
		ev  codec.SyncStatusEvent
		seq uint64
		ord int
	}
	var items []item
	err := scanLatest(userRuns(s.deps.Store, iid), time.Now(), limit, func(r *pebblestore.Run, sr *codec.SyncRun) []time.Time {
		evs := codec.SyncEvents(sr)
		ts := make([]time.Time, len(evs))
		for i := range evs {
			items = append(items, item{evs[i], r.Seq, i})
			ts[i] = evs[i].At()
		}
		return ts
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(items, func(i, j int) bool {
		a, b := &items[i], &items[j]
		if !a.ev.At().Equal(b.ev.At()) {
			return a.ev.At().After(b.ev.At())
		}
		if a.seq != b.seq {
			return a.seq > b.seq
		}
		return a.ord > b.ord
	})
	out := make([]codec.SyncStatusEvent, 0, min(limit, len(items)))
	for i := 0; i < len(items) && i < limit; i++ {
		out = append(out, items[i].ev)
	}
	return out, nil
}

// runSummaries returns the latest runs that keep accepts (all when nil),
// newest last update first.
func (s *Server) runSummaries(iter runIter, limit int, keep func(*pebblestore.Run, *codec.SyncRunSummary) bool) ([]codec.SyncRunSummary, error) {
	type item struct {
		sum codec.SyncRunSummary
		at  time.Time
		seq uint64
	}
	var items []item
	err := scanLatest(iter, time.Now(), limit, func(r *pebblestore.Run, sr *codec.SyncRun) []time.Time {
		sum := codec.SyncSummary(sr)
		if keep != nil && !keep(r, &sum) {
			return nil
		}
		at := sr.LastUpdate()
		items = append(items, item{sum, at, r.Seq})
		return []time.Time{at}
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(items, func(i, j int) bool {
		if !items[i].at.Equal(items[j].at) {
			return items[i].at.After(items[j].at)
		}
		return items[i].seq > items[j].seq
	})
	out := make([]codec.SyncRunSummary, 0, min(limit, len(items)))
	for i := 0; i < len(items) && i < limit; i++ {
		out = append(out, items[i].sum)
	}
	return out, nil
}

// timeHeap is a min-heap of times.
type timeHeap []time.Time

func (h timeHeap) Len() int           { return len(h) }
func (h timeHeap) Less(i, j int) bool { return h[i].Before(h[j]) }
func (h timeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timeHeap) Push(x any)        { *h = append(*h, x.(time.Time)) }
func (h *timeHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

// syncStream is GET /users/{id}/sync/stream: Server-Sent Events. It sends
// ": connected", then the user's last `replay` events oldest first, then
// each event as runs change, and ": heartbeat" after SSEHeartbeat of
// silence.
//
// The stream ends when the client goes away (the next write fails: at most
// one heartbeat later), when a write stalls past WriteTimeout, when the
// server shuts down, and when the stream fell so far behind that events
// were dropped: the client then reconnects, and the replay gives it what
// it missed (event ids are stable, so it can tell what it already has).
func (s *Server) syncStream(ctx *fasthttp.RequestCtx, a []string) {
	if _, err := s.reader(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	replay, err := intArg(ctx, "replay", 20, 1, 200)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	iid, err := s.syncUser(a[0])
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	// Subscribe before reading the replay, so that no change falls between
	// the two; what both deliver is sent once.
	sub := s.deps.Ingest.Events().Subscribe(iid, streamBuffer)
	recent, err := s.recentEvents(iid, replay)
	if err != nil {
		sub.Close()
		s.writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache, no-transform")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	if ctx.IsHead() {
		sub.Close()
		return
	}
	// The stream writer runs after the handler has returned: it may not
	// touch ctx, so it gets copies. The connection stays open until the
	// writer returns; only its write deadline is used.
	st := &eventStream{
		conn: ctx.Conn(), writeTimeout: s.opts.WriteTimeout, heartbeat: s.opts.SSEHeartbeat,
		done: s.streams.done(), sub: sub, replayed: make(map[string]bool, len(recent)),
	}
	for i := len(recent) - 1; i >= 0; i-- {
		st.replay = append(st.replay, recent[i])
		st.replayed[recent[i].EventID] = true
	}
	ctx.SetBodyStreamWriter(st.run)
}

// eventStream is the state of one open sync status stream, owned by its
// stream writer.
type eventStream struct {
	conn         net.Conn
	writeTimeout time.Duration
	heartbeat    time.Duration
	done         <-chan struct{}
	sub          *ingest.Subscription
	replay       []codec.SyncStatusEvent // oldest first
	replayed     map[string]bool         // event ids already sent by the replay
	buf          []byte
}

func (st *eventStream) run(w *bufio.Writer) {
	defer st.sub.Close()
	st.buf = append(st.buf[:0], ": connected\n\n"...)
	for i := range st.replay {
		st.buf, _ = codec.AppendSSEEvent(st.buf, &st.replay[i])
	}
	st.replay = nil
	if st.flush(w) != nil {
		return
	}
	hb := time.NewTimer(st.heartbeat)
	defer hb.Stop()
	for {
		select {
		case <-st.done:
			return
		case r := <-st.sub.C:
			st.buf = st.buf[:0]
			st.appendRun(&r)
			// Send what else is waiting in the same write.
			for more := true; more; {
				select {
				case r := <-st.sub.C:
					st.appendRun(&r)
				default:
					more = false
				}
			}
			lost := st.sub.Dropped() > 0
			if lost {
				st.buf = append(st.buf, ": events were dropped; reconnect to replay them\n\n"...)
			}
			if len(st.buf) > 0 {
				if st.flush(w) != nil {
					return
				}
				hb.Reset(st.heartbeat)
			}
			if lost {
				return
			}
		case <-hb.C:
			st.buf = append(st.buf[:0], ": heartbeat\n\n"...)
			if st.flush(w) != nil {
				return
			}
			hb.Reset(st.heartbeat)
		}
	}
}

// appendRun adds the events of a run change: the queued event when the run
// was queued, the later ones when it was indexed; events already replayed
// are skipped.
func (st *eventStream) appendRun(r *pebblestore.Run) {
	evs := codec.SyncEvents(syncRun(r))
	for i := range evs {
		e := &evs[i]
		if (e.Stage == codec.StageQueued) != (r.Status == codec.StageQueued) || st.replayed[e.EventID] {
			continue
		}
		st.buf, _ = codec.AppendSSEEvent(st.buf, e)
	}
}

// flush sends the buffer to the client, bounded by the write timeout: a
// client that stops reading ends the stream rather than holding it.
func (st *eventStream) flush(w *bufio.Writer) error {
	if st.conn != nil && st.writeTimeout > 0 {
		_ = st.conn.SetWriteDeadline(time.Now().Add(st.writeTimeout))
	}
	if _, err := w.Write(st.buf); err != nil {
		return err
	}
	return w.Flush()
}

// streamStop is closed when the server shuts down. The zero value is ready.
type streamStop struct {
	mu sync.Mutex
	ch chan struct{}
	on bool
}

func (t *streamStop) done() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.channel()
}

func (t *streamStop) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.on {
		t.on = true
		close(t.channel())
	}
}

// channel returns the channel, made on first use; t.mu is held.
func (t *streamStop) channel() chan struct{} {
	if t.ch == nil {
		t.ch = make(chan struct{})
	}
	return t.ch
}
