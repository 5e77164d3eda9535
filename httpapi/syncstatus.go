package httpapi

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
	"wearhouse/ingest"
	"wearhouse/query"
)

// streamBuffer is how many run changes a stream may have waiting before it
// loses some; it then ends so that the client reconnects and replays.
const streamBuffer = 256

// syncStatusRoutes are the sync status and SDK log routes.
func (s *Server) syncStatusRoutes() []route {
	return append([]route{
		h("GET", "/api/v1/users/{user_id}/sync/recent", s.syncRecent),
		h("GET", "/api/v1/users/{user_id}/sync/runs", s.syncUserRuns),
		h("GET", "/api/v1/users/{user_id}/sync/stream", s.syncStream),
		h("GET", "/api/v1/sync/runs", s.syncAllRuns),
	}, s.sdkLogRoutes()...)
}

// syncUserNotFound is the 404 of the sync status routes of a user that
// does not exist.
func syncUserNotFound(err error) error { return notFoundAs(err, "User not found") }

// syncRecent is GET /users/{id}/sync/recent: the user's latest sync status
// events, newest first.
func (s *Server) syncRecent(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead); err != nil {
		return err
	}
	limit, err := intParam(ctx, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	if !validUserID(a[0]) {
		return errBadUserID
	}
	evs, err := s.recentEvents(a[0], limit)
	if err != nil {
		return syncUserNotFound(err)
	}
	return writeValue(ctx, fasthttp.StatusOK, evs)
}

// syncUserRuns is GET /users/{id}/sync/runs: the user's runs, newest last
// update first.
func (s *Server) syncUserRuns(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead); err != nil {
		return err
	}
	limit, err := intParam(ctx, "limit", 20, 1, 200)
	if err != nil {
		return err
	}
	if !validUserID(a[0]) {
		return errBadUserID
	}
	runs, err := s.runSummaries(query.RunListing{UserID: a[0], Limit: limit}, "", "")
	if err != nil {
		return syncUserNotFound(err)
	}
	return writeValue(ctx, fasthttp.StatusOK, runs)
}

// syncAllRuns is GET /sync/runs: the runs of every user, newest last update
// first, filtered by user_id, provider, status and source. status matches a
// run's status (in_progress, success, failed) or its stage (queued,
// started, completed, failed); every run's source is "sdk". An unknown user
// gives an empty list, as in Open Wearables.
func (s *Server) syncAllRuns(ctx *fasthttp.RequestCtx, _ []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead); err != nil {
		return err
	}
	limit, err := intParam(ctx, "limit", 50, 1, 10000)
	if err != nil {
		return err
	}
	args := ctx.QueryArgs()
	l := query.RunListing{UserID: string(args.Peek("user_id")), Provider: strings.ToLower(string(args.Peek("provider"))), Limit: limit}
	source := string(args.Peek("source"))
	runs := []codec.SyncRunSummary{}
	if source == "" || source == codec.SyncSourceSDK || source == codec.SyncSourceImport {
		runs, err = s.runSummaries(l, string(args.Peek("status")), source)
		if errors.Is(err, query.ErrNotFound) {
			runs, err = []codec.SyncRunSummary{}, nil
		}
		if err != nil {
			return err
		}
	}
	return writeValue(ctx, fasthttp.StatusOK, runs)
}

// syncRun is the form of a run that the sync status events and summaries
// are derived from.
func syncRun(r *query.Run) *codec.SyncRun {
	return &codec.SyncRun{
		BatchID: r.BatchID, UserID: r.UserID, Provider: r.Provider, Status: r.Status, Error: r.Message,
		QueuedAt: r.QueuedAt, StartedAt: r.StartedAt, CompletedAt: r.CompletedAt,
		RecordsSaved: r.RecordsSaved, WorkoutsSaved: r.WorkoutsSaved, SleepSaved: r.SleepSaved,
		DroppedCount: r.DroppedCount, UnmappedCount: r.UnmappedCount, RejectedCount: r.RejectedCount, Items: r.Items,
		Source: r.Source, Import: importMetadata(r.Import),
	}
}

// runsSince is the oldest last update the listings show: finished runs are
// kept for ingest.RunRetention (SPEC §3: 30 days; Open Wearables keeps 24
// hours), and the compactor's sweep deletes older ones within the hour.
func runsSince() time.Time { return time.Now().Add(-ingest.RunRetention) }

// recentEvents returns a user's latest events, newest first; query's
// ErrNotFound for a user that does not exist.
func (s *Server) recentEvents(userID string, limit int) ([]codec.SyncStatusEvent, error) {
	l := query.RunListing{UserID: userID, Since: runsSince(), Limit: limit}
	return query.LatestRuns(s.deps.Query, l, func(r *query.Run) []query.Timed[codec.SyncStatusEvent] {
		evs := codec.SyncEvents(syncRun(r))
		out := make([]query.Timed[codec.SyncStatusEvent], len(evs))
		for i := range evs {
			out[i] = query.Timed[codec.SyncStatusEvent]{At: evs[i].At(), Item: evs[i]}
		}
		return out
	})
}

// runSummaries returns the summaries of the latest runs of a listing whose
// status or stage is status (all when empty), newest last update first.
func (s *Server) runSummaries(l query.RunListing, status, source string) ([]codec.SyncRunSummary, error) {
	l.Since = runsSince()
	return query.LatestRuns(s.deps.Query, l, func(r *query.Run) []query.Timed[codec.SyncRunSummary] {
		sum := codec.SyncSummary(syncRun(r))
		if status != "" && sum.Status != status && sum.Stage != status || source != "" && sum.Source != source {
			return nil
		}
		return []query.Timed[codec.SyncRunSummary]{{At: r.LastUpdate(), Item: sum}}
	})
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
func (s *Server) syncStream(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead); err != nil {
		return err
	}
	replay, err := intParam(ctx, "replay", 20, 1, 200)
	if err != nil {
		return err
	}
	if !validUserID(a[0]) {
		return errBadUserID
	}
	// Subscribe before reading the replay, so that no change falls between
	// the two; what both deliver is sent once.
	sub, err := s.deps.Ingest.SubscribeUser(a[0], streamBuffer)
	if err != nil {
		return syncUserNotFound(err)
	}
	recent, err := s.recentEvents(a[0], replay)
	if err != nil {
		sub.Close()
		return syncUserNotFound(err)
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("text/event-stream")
	ctx.Response.Header.Set("Cache-Control", "no-cache, no-transform")
	ctx.Response.Header.Set("X-Accel-Buffering", "no")
	if ctx.IsHead() {
		sub.Close()
		return nil
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
	return nil
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
func (st *eventStream) appendRun(r *codec.SyncRun) {
	evs := codec.SyncEvents(r)
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

// importMetadata is an import's progress as its events carry it.
func importMetadata(r *query.ImportResult) *codec.ImportMetadata {
	if r == nil {
		return nil
	}
	return &codec.ImportMetadata{BytesTotal: r.BytesTotal, BytesRead: r.BytesRead, Records: r.Records,
		SleepStages: r.Sleep, Workouts: r.Workouts, Routes: r.Routes, Summaries: r.Summaries,
		Unconverted: r.Unconverted, Duplicates: r.Duplicates, Dropped: r.Dropped}
}
