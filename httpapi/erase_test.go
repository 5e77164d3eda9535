package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"wearhouse/pebblestore"
)

// eraseBodies are distinct sync bodies: the fixtures, each with a
// different run of trailing spaces, so that no two are replays of one
// another.
type eraseBodies struct {
	fixtures [][]byte
	next     atomic.Int64
}

func newEraseBodies(t *testing.T) *eraseBodies {
	return &eraseBodies{fixtures: [][]byte{
		fixture(t, "sync_request__SyncRequest_json_schema_example.json"),
		fixture(t, "apple_sdk_import__sample_sdk_payload.json"),
		fixture(t, "sleep_service__DETAILED_STAGES_PAYLOAD.json"),
		fixture(t, "apple_sdk_import__test_import_multiple_workouts.json"),
	}}
}

func (e *eraseBodies) body() []byte {
	n := int(e.next.Add(1))
	f := e.fixtures[n%len(e.fixtures)]
	return append(bytes.Clone(f), bytes.Repeat([]byte(" "), n)...)
}

// tokens mints an SDK token and its refresh token with the admin key.
func (ts *testServer) tokens(user string) (access, refresh string) {
	ts.t.Helper()
	r := ts.do("POST", "/api/v1/users/"+user+"/token", nil, "X-Open-Wearables-API-Key", adminKey)
	if r.status != http.StatusOK {
		ts.t.Fatalf("token for %s: %d %s", user, r.status, r.body)
	}
	m := r.json(ts.t)
	return m["access_token"].(string), m["refresh_token"].(string)
}

// storeRuns returns every run in the store.
func storeRuns(t *testing.T, ts *testServer) []*pebblestore.Run {
	t.Helper()
	var out []*pebblestore.Run
	if err := ts.app.Store.Runs(func(r *pebblestore.Run) bool { out = append(out, r); return true }); err != nil {
		t.Fatal(err)
	}
	return out
}

// listedRuns returns the run ids GET /sync/runs lists, for every user.
func listedRuns(t *testing.T, ts *testServer, path string) map[string]bool {
	t.Helper()
	r := ts.do("GET", path+"?limit=200", nil, "X-Open-Wearables-API-Key", adminKey)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	var runs []struct {
		RunID string `json:"run_id"`
	}
	if err := json.Unmarshal(r.body, &runs); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, run := range runs {
		out[run.RunID] = true
	}
	return out
}

// racers send syncs for one user from several connections until stopped:
// with an SDK token they stop at the first 401, which every sync sent after
// the user's deletion must get.
type racers struct {
	ts      *testServer
	bodies  *eraseBodies
	wg      sync.WaitGroup
	stop    atomic.Bool
	deleted atomic.Bool
	acked   chan struct{}

	mu          sync.Mutex
	before      map[string][]byte // batch id -> body, acknowledged before the delete was sent
	ackedAfter  []string          // token syncs sent after the delete returned and acknowledged
	unexpected  []string
	sentAfter   int
	refusedLate int
}

func startRacers(ts *testServer, bodies *eraseBodies, user string, n, max int, headers ...string) *racers {
	rc := &racers{ts: ts, bodies: bodies, acked: make(chan struct{}, n*max), before: map[string][]byte{}}
	token := len(headers) == 2 && headers[0] == "Authorization"
	for i := 0; i < n; i++ {
		rc.wg.Add(1)
		go func() {
			defer rc.wg.Done()
			for j := 0; j < max && !rc.stop.Load(); j++ {
				after := rc.deleted.Load()
				body := bodies.body()
				r := ts.sync(user, body, headers...)
				rc.mu.Lock()
				switch {
				case r.status == http.StatusAccepted:
					id := r.json(ts.t)["batch_id"].(string)
					if !after {
						rc.before[id] = body
					}
					if after && token {
						rc.ackedAfter = append(rc.ackedAfter, id)
					}
					rc.acked <- struct{}{}
				case r.status == http.StatusUnauthorized && token && after:
					rc.refusedLate++
				case r.status == http.StatusUnauthorized && token:
					// In flight while the delete ran: refused, nothing stored.
				case r.status == http.StatusServiceUnavailable:
					// Overloaded: the client would retry.
				default:
					rc.unexpected = append(rc.unexpected, fmt.Sprintf("%d %s", r.status, r.body))
				}
				if after {
					rc.sentAfter++
				}
				stopNow := token && r.status == http.StatusUnauthorized
				rc.mu.Unlock()
				if stopNow {
					return
				}
			}
		}()
	}
	return rc
}

// waitAcked waits for n acknowledged syncs.
func (rc *racers) waitAcked(n int) {
	for i := 0; i < n; i++ {
		<-rc.acked
	}
}

func (rc *racers) finish(t *testing.T) {
	t.Helper()
	rc.wg.Wait()
	if len(rc.unexpected) > 0 {
		t.Errorf("unexpected answers: %v", rc.unexpected)
	}
}

// deleteMidway deletes the user once 12 of the racing syncs are
// acknowledged, lets the rest run into the delete, and returns the bodies
// acknowledged before it.
func (rc *racers) deleteMidway(t *testing.T, ts *testServer, user string, round int) map[string][]byte {
	t.Helper()
	rc.waitAcked(12)
	rc.mu.Lock()
	before := map[string][]byte{}
	for id, b := range rc.before {
		before[id] = b
	}
	rc.mu.Unlock()
	if r := ts.admin("DELETE", "/api/v1/users/"+user, ""); r.status != http.StatusOK {
		t.Fatalf("round %d: delete: %d %s", round, r.status, r.body)
	}
	rc.deleted.Store(true)
	rc.finish(t)
	return before
}

// TestDeleteUserRacingSyncsAndCompactor deletes a user while many syncs of
// theirs are being written and indexed, several times over, and checks what
// a delete promises once it has returned: nothing acknowledged before it
// is readable, listed or stored under the old internal id, the user's SDK
// and refresh tokens are dead (a sync with the old token is 401 and does not
// create the user again), and a later sync that creates the id again starts
// empty, under a new internal id, with no run left queued.
func TestDeleteUserRacingSyncsAndCompactor(t *testing.T) {
	ts := startIndexing(t)
	bodies := newEraseBodies(t)
	const user = "racer"
	key := []string{"X-Open-Wearables-API-Key", adminKey}
	ts.postBody(user, bodies.body())
	oldIIDs := map[uint32]bool{}
	for round := 0; round < 3; round++ {
		iid := mustUser(t, ts, user).IID
		if oldIIDs[iid] {
			t.Fatalf("round %d: the user was created again with the internal id %d of an erased one", round, iid)
		}
		oldIIDs[iid] = true
		access, refresh := ts.tokens(user)
		bearer := []string{"Authorization", "Bearer " + access}

		// Syncs with the user's SDK token race the delete and the
		// compactor.
		rc := startRacers(ts, bodies, user, 6, 40, bearer...)
		before := rc.deleteMidway(t, ts, user, round)
		if len(rc.ackedAfter) > 0 {
			t.Errorf("round %d: %d syncs with the deleted user's token, sent after the delete returned, were accepted",
				round, len(rc.ackedAfter))
		}
		ts.indexed()

		if r := ts.admin("GET", "/api/v1/users/"+user, ""); r.status != http.StatusNotFound {
			t.Errorf("round %d: the deleted user is still there (or was created again by its token): %d", round, r.status)
		}
		if r := ts.do("POST", "/api/v1/token/refresh", refreshBody(refresh)); r.status != http.StatusUnauthorized {
			t.Errorf("round %d: the deleted user's refresh token: %d %s", round, r.status, r.body)
		}
		if r := ts.sync(user, bodies.body(), bearer...); r.status != http.StatusUnauthorized {
			t.Errorf("round %d: a sync with the deleted user's token: %d %s", round, r.status, r.body)
		}
		if n := len(series(ts, user, url.Values{"types": {"steps"}})); n != 0 {
			t.Errorf("round %d: %d steps samples of the deleted user", round, n)
		}
		checkErased(t, ts, round, iid, before)

		// A sync with an API key creates the user again, empty: the
		// same body as one acknowledged before is a new batch.
		var again []byte
		for _, b := range before {
			again = b
			break
		}
		r := ts.sync(user, again, key...)
		if r.status != http.StatusAccepted || r.json(t)["duplicate"] != false || r.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("round %d: a body acknowledged before the delete, sent again: %d %s", round, r.status, r.body)
		}
		newRun := r.json(t)["batch_id"].(string)
		ts.indexed()
		u := mustUser(t, ts, user)
		if oldIIDs[u.IID] {
			t.Fatalf("round %d: the user was created again with the internal id %d of the erased one", round, u.IID)
		}
		if runs := listedRuns(t, ts, "/api/v1/users/"+user+"/sync/runs"); len(runs) != 1 || !runs[newRun] {
			t.Errorf("round %d: the user created again lists %d runs, want only %s", round, len(runs), newRun)
		}
		if conns := ts.do("GET", "/api/v1/users/"+user+"/connections", nil, key...); bytes.Count(conns.body, []byte(`"provider"`)) != 1 {
			t.Errorf("round %d: connections of the user created again: %s", round, conns.body)
		}
		if r := ts.sync(user, bodies.body(), bearer...); r.status != http.StatusUnauthorized {
			t.Errorf("round %d: the erased user's token works for the user created again: %d %s", round, r.status, r.body)
		}
		if r := ts.do("POST", "/api/v1/token/refresh", refreshBody(refresh)); r.status != http.StatusUnauthorized {
			t.Errorf("round %d: the erased user's refresh token works for the user created again: %d", round, r.status)
		}
		fresh, _ := ts.tokens(user)
		if r := ts.sync(user, bodies.body(), "Authorization", "Bearer "+fresh); r.status != http.StatusAccepted {
			t.Errorf("round %d: a token minted for the user created again: %d %s", round, r.status, r.body)
		}

		// Syncs with an API key race the delete: those after it create
		// the user again, and nothing of the erased one may attach to it.
		iid = mustUser(t, ts, user).IID
		oldIIDs[iid] = true
		rc = startRacers(ts, bodies, user, 6, 25, key...)
		before = rc.deleteMidway(t, ts, user, round)
		ts.indexed()
		checkErased(t, ts, round, iid, before)
		if _, err := ts.app.Store.User(user); err != nil {
			ts.postBody(user, bodies.body())
			ts.indexed()
		}
	}
}

// checkErased checks that nothing of an erased internal id is left, that
// no run acknowledged before the delete is listed, and that no run is left
// queued.
func checkErased(t *testing.T, ts *testServer, round int, iid uint32, before map[string][]byte) {
	t.Helper()
	left, err := ts.app.Store.UserKeys(iid)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("round %d: %d keys of the erased internal id %d are left, such as %v", round, len(left), iid, left[:min(len(left), 5)])
	}
	listed := listedRuns(t, ts, "/api/v1/sync/runs")
	for id := range before {
		if listed[id] {
			t.Errorf("round %d: run %s, acknowledged before the delete, is still listed", round, id)
		}
	}
	for _, r := range storeRuns(t, ts) {
		if r.Status == "queued" {
			t.Errorf("round %d: run %d of user %q (internal id %d) is stuck queued", round, r.Seq, r.UserID, r.UserIID)
		}
	}
}
