package main

// Crash tests: the real server binary, real loopback HTTP and a real Pebble
// store on disk. The server is killed with SIGKILL while batches are being
// posted, then its write-ahead queue is read back directly and compared with
// what the server acknowledged: every batch answered 202 must be in the queue
// exactly once, holding exactly the batch that was sent (its validated
// queued form).
//
// TestCrashTestDetectsLossWithoutSync runs the same scenario with the fsync
// turned off and asserts that the checker does report lost batches, so that
// a passing TestCrashKeepsAcknowledgedBatches means something.

import (
	"bytes"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/codec"
	"wearhouse/pebblestore"
)

var crashSeed = flag.Uint64("crash.seed", 0, "seed of the crash tests' random choices (0 picks one)")

const (
	// crashAdminKey is given to the server in WEARHOUSE_ADMIN_KEY; the sync
	// route accepts it as an API key.
	crashAdminKey = "crash-test-admin-key-0123456789abcdef"
	// crashWorkers post batches concurrently, each over its own keep-alive
	// connection.
	crashWorkers = 16
	// crashLoadLimit bounds one round of load even if the planned kill never
	// comes.
	crashLoadLimit = 5 * time.Second
	// crashRequestTimeout bounds every HTTP request.
	crashRequestTimeout = 5 * time.Second
	// crashProcessTimeout bounds every wait for the server to start or exit.
	crashProcessTimeout = 10 * time.Second
)

// crashUsers are the users the batches are spread over.
var crashUsers = []string{"crash-user-1", "crash-user-2", "crash-user-3", "ada@example.org", "user:42.b_c"}

var batchIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// ---------------------------------------------------------------------------
// The server binary, built once for all crash tests.

// serverBuild is one build of the server, made once for all the tests.
type serverBuild struct {
	once sync.Once
	dir  string // removed by TestMain
	path string
	err  error
}

var (
	// releaseBuild is the server as it ships; unsafeBuild is built with the
	// wearhouse_unsafe tag, under which WEARHOUSE_UNSAFE_NO_SYNC=1 turns
	// the fsync of acknowledged writes off (a release build ignores it).
	releaseBuild, unsafeBuild serverBuild
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, b := range []*serverBuild{&releaseBuild, &unsafeBuild} {
		if b.dir != "" {
			os.RemoveAll(b.dir)
		}
	}
	os.Exit(code)
}

// wearhouseBinary builds the server once, as it ships, and returns its
// path. It skips the calling test in -short mode.
func wearhouseBinary(t *testing.T) string { return releaseBuild.get(t) }

// wearhouseUnsafeBinary builds the server once with the wearhouse_unsafe
// tag, for the tests that run it with WEARHOUSE_UNSAFE_NO_SYNC=1, and
// returns its path. It skips the calling test in -short mode.
func wearhouseUnsafeBinary(t *testing.T) string {
	return unsafeBuild.get(t, "-tags", "wearhouse_unsafe")
}

func (b *serverBuild) get(t *testing.T, flags ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("the crash tests build the server and kill it under load; skipped with -short")
	}
	b.once.Do(func() {
		// WEARHOUSE_TEST_BINARY runs the tests against another build,
		// such as one of an earlier commit, to see a test fail there. The
		// tests without fsync need one that honours
		// WEARHOUSE_UNSAFE_NO_SYNC: of a commit before the tag, or built
		// with -tags wearhouse_unsafe.
		if bin := os.Getenv("WEARHOUSE_TEST_BINARY"); bin != "" {
			b.path = bin
			return
		}
		gocmd, err := exec.LookPath("go")
		if err != nil {
			b.err = fmt.Errorf("the go command is needed to build the server: %w", err)
			return
		}
		if b.dir, b.err = os.MkdirTemp("", "wearhouse-crash-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "wearhouse")
		// Static, as it ships, so that Pebble's caches are Go heap
		// under the memory limit (the memory tests measure that build).
		build := exec.Command(gocmd, append(append([]string{"build"}, flags...), "-o", b.path, ".")...)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := build.CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("build the server: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func pickSeed(t *testing.T) uint64 {
	t.Helper()
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -crash.seed=%d)", seed, seed)
	return seed
}

// ---------------------------------------------------------------------------
// One server process.

type serverProc struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:port
	output  *lockedBuffer
	exited  chan struct{}
	waitErr error // set before exited is closed
}

// lockedBuffer collects the server's output from the copying goroutine
// while the test may read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > 8<<10 {
		s = "...\n" + s[len(s)-8<<10:]
	}
	return s
}

// serverEnv is the test's environment without any WEARHOUSE_ variable, so
// that the server runs with exactly the settings the test gives it.
func serverEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WEARHOUSE_") {
			env = append(env, kv)
		}
	}
	env = append(env, "WEARHOUSE_ADMIN_KEY="+crashAdminKey)
	return append(env, extra...)
}

func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startServer starts the server on dir with its compactor paused, so that
// the queue stays as the write path left it and each acknowledged batch can
// be compared byte for byte, and waits until /healthz answers.
func startServer(t *testing.T, bin, dir string, env ...string) *serverProc {
	t.Helper()
	return startServerArgs(t, bin, dir, []string{"--pause-compactor"}, env...)
}

// startServerArgs starts the server on dir with extra flags and waits until
// /healthz answers. A port taken between choosing and binding it is retried
// with another one.
func startServerArgs(t *testing.T, bin, dir string, args []string, env ...string) *serverProc {
	t.Helper()
	var lastErr error
	for range 5 {
		p, retry, err := tryStartServer(t, bin, dir, args, env)
		if err == nil {
			return p
		}
		if !retry {
			t.Fatal(err)
		}
		lastErr = err
	}
	t.Fatalf("the server did not start: %v", lastErr)
	return nil
}

func tryStartServer(t *testing.T, bin, dir string, args, env []string) (p *serverProc, retry bool, err error) {
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, false, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, append([]string{"serve", "--data-dir", dir, "--listen", addr, "--log-level", "warn",
		"--disk-reserve", "64MiB", "--shutdown-timeout", "5s"}, args...)...)
	cmd.Env = serverEnv(env...)
	p = &serverProc{cmd: cmd, base: "http://" + addr, output: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.output, p.output
	if err := cmd.Start(); err != nil {
		return nil, false, fmt.Errorf("start the server: %w", err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("output of the server on %s:\n%s", addr, p.output.String())
		}
	})
	if err := p.waitHealthy(); err != nil {
		select {
		case <-p.exited: // most likely the port was taken meanwhile
			return nil, true, fmt.Errorf("%v; output:\n%s", err, p.output.String())
		default:
			p.kill()
			return nil, false, fmt.Errorf("%v; output:\n%s", err, p.output.String())
		}
	}
	return p, false, nil
}

func (p *serverProc) waitHealthy() error {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(crashProcessTimeout)
	for {
		resp, err := c.Get(p.base + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /healthz: status %d", resp.StatusCode)
		}
		select {
		case <-p.exited:
			return fmt.Errorf("the server exited before answering /healthz: %v", p.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server did not answer /healthz within %v: %v", crashProcessTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL unless the process has exited, and waits for it.
func (p *serverProc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(crashProcessTimeout):
	}
}

// waitKilled waits for a process that was sent SIGKILL and checks that the
// signal, not something else, ended it.
func (p *serverProc) waitKilled(t *testing.T) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(crashProcessTimeout):
		t.Fatalf("the server did not die within %v of SIGKILL", crashProcessTimeout)
	}
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the server was not ended by SIGKILL but: %v", p.cmd.ProcessState)
	}
}

// stop sends SIGTERM and requires a clean exit.
func (p *serverProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(crashProcessTimeout):
		p.kill()
		t.Fatalf("the server did not exit within %v of SIGTERM", crashProcessTimeout)
	}
	if p.waitErr != nil {
		t.Fatalf("the server did not exit cleanly on SIGTERM: %v", p.waitErr)
	}
}

// ---------------------------------------------------------------------------
// What was sent and what was acknowledged.

// bodyKey names one request: its user and the SHA-256 of its body.
type bodyKey struct {
	user string
	sum  [32]byte
}

func (k bodyKey) String() string { return k.user + "/" + hex.EncodeToString(k.sum[:6]) }

type syncRequest struct {
	user string
	body []byte
}

// key identifies the request by what the queue holds for it: the body in
// its validated queued form.
func (r syncRequest) key() bodyKey { return bodyKey{r.user, sha256.Sum256(mustQueued(r.body))} }

func mustQueued(body []byte) []byte {
	q, err := codec.Queued(body)
	if err != nil {
		panic(fmt.Sprintf("a test body does not decode: %v", err))
	}
	return q
}

// ledger is the client side's record of the run.
type ledger struct {
	mu         sync.Mutex
	sent       map[bodyKey]bool   // every request posted
	acked      map[string]bodyKey // batch_id of every 202 -> its request
	unanswered []syncRequest      // posted but never answered (the server died)
	errs       []string           // anything the server must not do
}

func newLedger() *ledger {
	return &ledger{sent: map[bodyKey]bool{}, acked: map[string]bodyKey{}}
}

func (l *ledger) noteSent(r syncRequest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent[r.key()] = true
}

func (l *ledger) noteAck(batchID string, r syncRequest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if prev, ok := l.acked[batchID]; ok && prev != r.key() {
		l.errs = append(l.errs, fmt.Sprintf("batch_id %s acknowledged for two requests: %v and %v", batchID, prev, r.key()))
		return
	}
	l.acked[batchID] = r.key()
}

func (l *ledger) noteUnanswered(r syncRequest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unanswered = append(l.unanswered, r)
}

func (l *ledger) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, fmt.Sprintf(format, args...))
}

// takeUnanswered returns the unanswered requests and forgets them.
func (l *ledger) takeUnanswered() []syncRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.unanswered
	l.unanswered = nil
	return u
}

func (l *ledger) requireNoErrors(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) > 0 {
		t.Fatalf("%d unexpected answers, first ones:\n%s", len(l.errs), strings.Join(l.errs[:min(len(l.errs), 10)], "\n"))
	}
}

// bodyGen makes sync bodies that are all different, of varying sizes.
type bodyGen struct {
	nonce string
	n     atomic.Uint64
}

func newBodyGen(rng *rand.Rand) *bodyGen {
	return &bodyGen{nonce: fmt.Sprintf("%016x", rng.Uint64())}
}

func (g *bodyGen) next() syncRequest {
	n := g.n.Add(1)
	var b strings.Builder
	b.WriteString(`{"provider":"apple","sdkVersion":"1.0","syncTimestamp":"2026-01-01T00:00:00Z","data":{"records":[`)
	for i := range 1 + n%9 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%s-%d-%d","type":"HKQuantityTypeIdentifierHeartRate",`+
			`"startDate":"2026-01-01T00:00:%02dZ","endDate":"2026-01-01T00:00:%02dZ","value":%d,"unit":"bpm"}`,
			g.nonce, n, i, i, i+1, 50+(n+i)%70)
	}
	b.WriteString(`]}}`)
	return syncRequest{user: crashUsers[n%uint64(len(crashUsers))], body: []byte(b.String())}
}

// ---------------------------------------------------------------------------
// HTTP.

func newCrashClient() (*http.Client, *http.Transport) {
	tr := &http.Transport{
		Proxy:               nil, // loopback only, never through a proxy
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConns:        2 * crashWorkers,
		MaxIdleConnsPerHost: 2 * crashWorkers,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: crashRequestTimeout}, tr
}

type syncAnswer struct {
	BatchID   string `json:"batch_id"`
	UserID    string `json:"user_id"`
	Duplicate bool   `json:"duplicate"`
}

// postSync posts one batch. A non-nil error means there was no complete
// answer: the batch may or may not have been stored.
func postSync(c *http.Client, base string, r syncRequest) (int, *syncAnswer, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/sdk/users/"+r.user+"/sync", bytes.NewReader(r.body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Open-Wearables-API-Key", crashAdminKey)
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, nil, err
	}
	if resp.StatusCode != http.StatusAccepted {
		return resp.StatusCode, nil, raw, nil
	}
	var a syncAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return resp.StatusCode, nil, raw, nil
	}
	return resp.StatusCode, &a, raw, nil
}

// checkAnswer reports what is wrong with a 202, or "".
func checkAnswer(r syncRequest, status int, a *syncAnswer, raw []byte, wantDuplicate bool) string {
	switch {
	case status != http.StatusAccepted:
		return fmt.Sprintf("POST for %s: status %d: %s", r.user, status, raw)
	case a == nil:
		return fmt.Sprintf("POST for %s: 202 with an unreadable body: %s", r.user, raw)
	case !batchIDPattern.MatchString(a.BatchID):
		return fmt.Sprintf("POST for %s: 202 with batch_id %q, not a version 4 UUID", r.user, a.BatchID)
	case a.UserID != r.user:
		return fmt.Sprintf("POST for %s: 202 for user %q", r.user, a.UserID)
	case a.Duplicate != wantDuplicate:
		return fmt.Sprintf("POST for %s: 202 with duplicate=%v, want %v: %s", r.user, a.Duplicate, wantDuplicate, raw)
	}
	return ""
}

// loadPlan says when runLoad kills the server: after a delay, or as soon as
// a number of batches were acknowledged; crashLoadLimit is the backstop.
type loadPlan struct {
	killAfter  time.Duration
	killAtAcks int64
}

type loadResult struct {
	acks       int64
	unanswered int
	elapsed    time.Duration
}

// runLoad posts batches from crashWorkers goroutines until it kills the
// server with SIGKILL according to plan, and records everything in l.
func runLoad(t *testing.T, p *serverProc, c *http.Client, l *ledger, gen *bodyGen, plan loadPlan) loadResult {
	t.Helper()
	var (
		killed   atomic.Bool
		killOnce sync.Once
		acks     atomic.Int64
		lost     atomic.Int64
		wg       sync.WaitGroup
	)
	start := time.Now()
	kill := func() {
		killOnce.Do(func() {
			killed.Store(true) // before the signal: every failure seen after it counts as in flight
			_ = p.cmd.Process.Kill()
		})
	}
	for range crashWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !killed.Load() {
				r := gen.next()
				l.noteSent(r)
				status, a, raw, err := postSync(c, p.base, r)
				if err != nil {
					l.noteUnanswered(r)
					lost.Add(1)
					if !killed.Load() {
						l.fail("POST for %s failed before the kill: %v", r.user, err)
						kill()
					}
					return
				}
				if msg := checkAnswer(r, status, a, raw, false); msg != "" {
					l.fail("%s", msg)
					kill()
					return
				}
				l.noteAck(a.BatchID, r)
				if n := acks.Add(1); plan.killAtAcks > 0 && n >= plan.killAtAcks {
					kill()
				}
			}
		}()
	}
	after := crashLoadLimit
	if plan.killAfter > 0 {
		after = plan.killAfter
	}
	timer := time.AfterFunc(after, kill)
	wg.Wait()
	timer.Stop()
	kill()
	p.waitKilled(t)
	return loadResult{acks: acks.Load(), unanswered: int(lost.Load()), elapsed: time.Since(start)}
}

// ---------------------------------------------------------------------------
// The checker.

// storedBatch is one queue entry as read back from the store.
type storedBatch struct {
	seq     uint64
	batchID string
	key     bodyKey
}

// formatBatchID formats a batch id as the 202 answer spells it.
func formatBatchID(id [16]byte) string {
	h := hex.EncodeToString(id[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// readQueue opens the store of a stopped server and returns its queue.
// readQueue reads the queue of the store in dir, encrypted under key when
// one is given.
func readQueue(t *testing.T, dir string, key ...byte) []storedBatch {
	t.Helper()
	st, err := pebblestore.Open(pebblestore.Options{Dir: dir, Logger: zerolog.Nop(), EncryptionKey: key})
	if err != nil {
		t.Fatalf("open the store after the crash: %v", err)
	}
	var out []storedBatch
	err = st.ScanQueue(0, func(e *pebblestore.QueueEntry) (bool, error) {
		out = append(out, storedBatch{
			seq: e.Seq, batchID: formatBatchID(e.BatchID), key: bodyKey{e.UserID, sha256.Sum256(e.Body)},
		})
		return true, nil
	})
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("read the queue: %v", err)
	}
	return out
}

// queueReport is what checkQueue found.
type queueReport struct {
	entries int // queue entries
	acked   int // acknowledged batches
	extra   int // entries of requests that were never acknowledged
	// missing lists the acknowledged batches that are not in the queue.
	missing []string
	// problems lists everything else that breaks "exactly once, as sent".
	problems []string
}

// checkQueue compares the queue with the client's record: every batch_id
// acknowledged must be in the queue once, for the same user and the same
// body bytes; no batch_id may be stored twice; no request may be stored
// twice under different batch_ids; and whatever was stored without an
// acknowledgement must be a request that was sent (one in flight at the
// kill).
func checkQueue(stored []storedBatch, acked map[string]bodyKey, sent map[bodyKey]bool) queueReport {
	rep := queueReport{entries: len(stored), acked: len(acked)}
	seqOfID := map[string]uint64{}
	idOfBody := map[bodyKey]string{}
	for _, e := range stored {
		if seq, dup := seqOfID[e.batchID]; dup {
			rep.problems = append(rep.problems,
				fmt.Sprintf("batch %s is stored twice, at seq %d and %d", e.batchID, seq, e.seq))
			continue
		}
		seqOfID[e.batchID] = e.seq
		if prev, dup := idOfBody[e.key]; dup {
			rep.problems = append(rep.problems,
				fmt.Sprintf("request %v is stored twice, as batch %s and as batch %s (seq %d)", e.key, prev, e.batchID, e.seq))
			continue
		}
		idOfBody[e.key] = e.batchID
		want, ok := acked[e.batchID]
		switch {
		case ok && want != e.key:
			rep.problems = append(rep.problems,
				fmt.Sprintf("batch %s (seq %d) holds %v, but the acknowledged request was %v", e.batchID, e.seq, e.key, want))
		case ok:
		case sent[e.key]:
			rep.extra++
		default:
			rep.problems = append(rep.problems,
				fmt.Sprintf("batch %s (seq %d) holds %v, which was never sent", e.batchID, e.seq, e.key))
		}
	}
	for id, k := range acked {
		if _, ok := seqOfID[id]; !ok {
			rep.missing = append(rep.missing, fmt.Sprintf("acknowledged batch %s (%v) is missing", id, k))
		}
	}
	slices.Sort(rep.missing)
	return rep
}

func (l *ledger) check(stored []storedBatch) queueReport {
	l.mu.Lock()
	defer l.mu.Unlock()
	return checkQueue(stored, l.acked, l.sent)
}

func requireIntact(t *testing.T, when string, rep queueReport) {
	t.Helper()
	bad := append(append([]string(nil), rep.missing...), rep.problems...)
	if len(bad) > 0 {
		t.Fatalf("%s: %d of %d acknowledged batches missing, %d other problems; first ones:\n%s",
			when, len(rep.missing), rep.acked, len(rep.problems), strings.Join(bad[:min(len(bad), 20)], "\n"))
	}
	t.Logf("%s: all %d acknowledged batches stored once, as sent (%d queue entries, %d stored without an acknowledgement)",
		when, rep.acked, rep.entries, rep.extra)
}

// ---------------------------------------------------------------------------
// The tests.

// TestCrashKeepsAcknowledgedBatches kills the server with SIGKILL under load
// three times on one data directory. After each kill the queue must hold
// every acknowledged batch exactly once; then the restarted server must
// answer, treat the unanswered requests a client would retry as replays or
// new batches (never storing one twice), accept a new batch, stop cleanly on
// SIGTERM and leave the queue intact.
func TestCrashKeepsAcknowledgedBatches(t *testing.T) { testCrashKeeps(t, nil, "--pause-compactor") }

// TestCrashKeepsAcknowledgedBatchesEncrypted is the same with the store
// encrypted (--encryption-key-file).
func TestCrashKeepsAcknowledgedBatchesEncrypted(t *testing.T) {
	key := make([]byte, pebblestore.KeySize)
	_, _ = crand.Read(key)
	keyFile := filepath.Join(t.TempDir(), "store.key")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	testCrashKeeps(t, key, "--pause-compactor", "--encryption-key-file", keyFile)
}

func testCrashKeeps(t *testing.T, key []byte, args ...string) {
	bin := wearhouseBinary(t)
	rng := rand.New(rand.NewPCG(pickSeed(t), 1))
	dir := t.TempDir()
	l := newLedger()
	gen := newBodyGen(rng)
	c, tr := newCrashClient()
	defer tr.CloseIdleConnections()

	for cycle := 1; cycle <= 3; cycle++ {
		p := startServerArgs(t, bin, dir, args)
		delay := time.Duration(300+rng.IntN(901)) * time.Millisecond
		res := runLoad(t, p, c, l, gen, loadPlan{killAfter: delay})
		tr.CloseIdleConnections()
		l.requireNoErrors(t)
		t.Logf("cycle %d: SIGKILL after %v: %d batches acknowledged, %d requests in flight",
			cycle, delay, res.acks, res.unanswered)
		if res.acks == 0 {
			t.Fatalf("cycle %d: no batch was acknowledged before the kill", cycle)
		}
		stored := readQueue(t, dir, key...)
		requireIntact(t, fmt.Sprintf("cycle %d, after SIGKILL", cycle), l.check(stored))

		// Restart on the same directory and retry what was in flight, as a
		// client would: a request that was stored must be answered as a
		// replay of its batch, one that was not must be stored now.
		idOfBody := map[bodyKey]string{}
		for _, e := range stored {
			idOfBody[e.key] = e.batchID
		}
		p = startServerArgs(t, bin, dir, args)
		retried := l.takeUnanswered()
		replays := 0
		for _, r := range retried {
			storedID, wasStored := idOfBody[r.key()]
			status, a, raw, err := postSync(c, p.base, r)
			if err != nil {
				t.Fatalf("cycle %d: retry after restart: %v", cycle, err)
			}
			if msg := checkAnswer(r, status, a, raw, wasStored); msg != "" {
				t.Fatalf("cycle %d: retry after restart: %s", cycle, msg)
			}
			if wasStored {
				replays++
				if a.BatchID != storedID {
					t.Fatalf("cycle %d: retry of stored batch %s answered with batch_id %s", cycle, storedID, a.BatchID)
				}
			}
			l.noteAck(a.BatchID, r)
		}
		fresh := gen.next()
		l.noteSent(fresh)
		status, a, raw, err := postSync(c, p.base, fresh)
		if err != nil {
			t.Fatalf("cycle %d: new batch after restart: %v", cycle, err)
		}
		if msg := checkAnswer(fresh, status, a, raw, false); msg != "" {
			t.Fatalf("cycle %d: new batch after restart: %s", cycle, msg)
		}
		l.noteAck(a.BatchID, fresh)
		l.requireNoErrors(t)
		t.Logf("cycle %d: restarted; %d retried requests (%d answered as replays), new batch %s accepted",
			cycle, len(retried), replays, a.BatchID)
		tr.CloseIdleConnections()
		p.stop(t)
		rep := l.check(readQueue(t, dir, key...))
		requireIntact(t, fmt.Sprintf("cycle %d, after restart and SIGTERM", cycle), rep)
		if rep.extra != 0 {
			t.Fatalf("cycle %d: %d stored batches were never acknowledged after every request was retried", cycle, rep.extra)
		}
	}
}

// TestCrashTestDetectsLossWithoutSync runs the crash with the queue written
// without fsync, killing the server right after a burst of 202s, and
// requires the checker to report acknowledged batches as missing: proof
// that TestCrashKeepsAcknowledgedBatches would see a loss. A crash that
// happens to lose nothing is retried a few times.
func TestCrashTestDetectsLossWithoutSync(t *testing.T) {
	bin := wearhouseUnsafeBinary(t)
	rng := rand.New(rand.NewPCG(pickSeed(t), 2))
	c, tr := newCrashClient()
	defer tr.CloseIdleConnections()

	const attempts = 5
	for attempt := 1; attempt <= attempts; attempt++ {
		dir := t.TempDir()
		l := newLedger()
		gen := newBodyGen(rng)
		p := startServer(t, bin, dir, "WEARHOUSE_UNSAFE_NO_SYNC=1")
		killAt := int64(150 + rng.IntN(150))
		res := runLoad(t, p, c, l, gen, loadPlan{killAtAcks: killAt})
		tr.CloseIdleConnections()
		l.requireNoErrors(t)
		rep := l.check(readQueue(t, dir))
		t.Logf("attempt %d: SIGKILL at 202 number %d (%v into the load): %d acknowledged, %d in flight, %d queue entries, %d missing",
			attempt, killAt, res.elapsed.Round(time.Millisecond), res.acks, res.unanswered, rep.entries, len(rep.missing))
		if len(rep.problems) > 0 {
			t.Fatalf("attempt %d: problems other than loss:\n%s", attempt, strings.Join(rep.problems[:min(len(rep.problems), 20)], "\n"))
		}
		if len(rep.missing) > 0 {
			t.Logf("the checker sees the loss, e.g.: %s", rep.missing[0])
			return
		}
	}
	t.Fatalf("no acknowledged batch was lost in %d crashes without fsync: the checker was not shown to detect a loss", attempts)
}

// TestCrashCheckerReportsEveryDamage feeds the checker a made-up queue with
// one case of each kind of damage.
func TestCrashCheckerReportsEveryDamage(t *testing.T) {
	k := func(user, body string) bodyKey { return bodyKey{user, sha256.Sum256([]byte(body))} }
	acked := map[string]bodyKey{
		"id-ok":        k("u1", "a"),
		"id-missing":   k("u1", "b"),
		"id-altered":   k("u1", "c"),
		"id-twice":     k("u2", "d"),
		"id-wronguser": k("u2", "e"),
		"id-body-2x":   k("u2", "f"),
	}
	sent := map[bodyKey]bool{k("u3", "in-flight"): true}
	for _, v := range acked {
		sent[v] = true
	}
	stored := []storedBatch{
		{1, "id-ok", k("u1", "a")},
		{2, "id-altered", k("u1", "c!")},
		{3, "id-twice", k("u2", "d")},
		{4, "id-twice", k("u2", "d")},
		{5, "id-wronguser", k("u1", "e")},
		{6, "id-body-2x", k("u2", "f")},
		{7, "id-other", k("u2", "f")},
		{8, "id-in-flight", k("u3", "in-flight")},
		{9, "id-never-sent", k("u3", "never")},
	}
	rep := checkQueue(stored, acked, sent)
	if len(rep.missing) != 1 || !strings.Contains(rep.missing[0], "id-missing") {
		t.Errorf("missing = %q, want only id-missing", rep.missing)
	}
	if rep.extra != 1 {
		t.Errorf("extra = %d, want 1 (the in-flight request)", rep.extra)
	}
	want := []string{
		"batch id-altered (seq 2) holds",
		"batch id-twice is stored twice",
		"batch id-wronguser (seq 5) holds",
		"is stored twice, as batch id-body-2x and as batch id-other",
		"batch id-never-sent (seq 9) holds",
	}
	if len(rep.problems) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(rep.problems), len(want), strings.Join(rep.problems, "\n"))
	}
	for _, w := range want {
		if !slices.ContainsFunc(rep.problems, func(p string) bool { return strings.Contains(p, w) }) {
			t.Errorf("no problem reported like %q in:\n%s", w, strings.Join(rep.problems, "\n"))
		}
	}
	if id := formatBatchID([16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0x4d, 0xef, 0x8f, 0xed, 0xcb, 0xa9, 0x87, 0x65, 0x43, 0x21}); id != "01234567-89ab-4def-8fed-cba987654321" || !batchIDPattern.MatchString(id) {
		t.Errorf("formatBatchID = %s", id)
	}
}
