package httpapi_test

// The writes of the user routes: e-mail addresses unique under concurrent
// creates and changes, and deletions bounded by the write path's deadline
// on a stalled disk.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"wearhouse/app"
)

// Concurrent creates of one e-mail address, sent at once on warm
// connections: exactly one is created, the others get 409, and one user
// has the address.
func TestCreateUserEmailUniqueUnderConcurrency(t *testing.T) {
	ts := startServer(t, nil)
	const n = 16
	c := faultClient(10*time.Second, n)
	for round := range 5 {
		email := fmt.Sprintf("twin-%d@example.org", round)
		var (
			wg, warm sync.WaitGroup
			mu       sync.Mutex
			statuses = map[int]int{}
		)
		start := make(chan struct{})
		warm.Add(n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each request on a connection of its own, already open.
				if _, err := faultDo(c, "GET", ts.base+"/healthz", ""); err != nil {
					t.Error(err)
				}
				warm.Done()
				<-start
				a, err := faultDo(c, "POST", ts.base+"/api/v1/users", fmt.Sprintf(`{"first_name":"twin %d","email":"%s"}`, i, email))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				statuses[a.status]++
				if a.status == http.StatusConflict && !bytes.Contains(a.body, []byte("User with this email already exists.")) {
					t.Errorf("409 detail: %s", a.body)
				}
			}()
		}
		warm.Wait()
		close(start)
		wg.Wait()
		if statuses[http.StatusCreated] != 1 || statuses[http.StatusConflict] != n-1 {
			t.Errorf("round %d: %d concurrent creates of one e-mail answered %v, want one 201 and %d 409", round, n, statuses, n-1)
		}
		if page := ts.get("/api/v1/users", map[string][]string{"email": {email}}); page["total"] != 1.0 {
			t.Errorf("round %d: %v users have the address", round, page["total"])
		}
	}
}

// A PATCH to an e-mail address that another user has is 409 and changes
// nothing; a user may keep (or re-case) its own address.
func TestPatchUserToTakenEmail(t *testing.T) {
	ts := startServer(t, nil)
	create := func(body string) string {
		t.Helper()
		r := ts.admin("POST", "/api/v1/users", body)
		if r.status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		return r.json(t)["id"].(string)
	}
	create(`{"email":"ada@example.org"}`)
	grace := create(`{"first_name":"Grace","email":"grace@example.org"}`)
	r := ts.admin("PATCH", "/api/v1/users/"+grace, `{"first_name":"Ada?","email":"ADA@example.org"}`)
	if r.status != http.StatusConflict || r.detail(t) != "User with this email already exists." {
		t.Errorf("PATCH to a taken e-mail: %d %s", r.status, r.body)
	}
	if u := ts.get("/api/v1/users/"+grace, nil); u["email"] != "grace@example.org" || u["first_name"] != "Grace" {
		t.Errorf("the refused PATCH changed the user: %v", u)
	}
	if r := ts.admin("PATCH", "/api/v1/users/"+grace, `{"email":"Grace@example.org"}`); r.status != http.StatusOK || r.json(t)["email"] != "Grace@example.org" {
		t.Errorf("PATCH to its own e-mail: %d %s", r.status, r.body)
	}
	if r := ts.admin("PATCH", "/api/v1/users/nobody", `{"email":"ada@example.org"}`); r.status != http.StatusNotFound || r.detail(t) != "User with ID: nobody not found." {
		t.Errorf("PATCH of an unknown user: %d %s", r.status, r.body)
	}
}

// Below the disk reserve a user is neither created nor changed (507), as a
// batch is not stored.
func TestUserWritesRefusedBelowDiskReserve(t *testing.T) {
	ts := startServer(t, func(o *app.Options) { o.Ingest.DiskReserve = 1 << 62 })
	if r := ts.admin("POST", "/api/v1/users", `{"email":"full@example.org"}`); r.status != http.StatusInsufficientStorage {
		t.Errorf("create below the reserve: %d %s", r.status, r.body)
	}
}

// faultDo sends a request with the admin key; the client's timeout turns
// a hang into an error.
func faultDo(c *http.Client, method, url string, body string) (faultAnswer, error) {
	start := time.Now()
	req, err := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	if err != nil {
		return faultAnswer{}, err
	}
	req.Header.Set("X-Open-Wearables-API-Key", adminKey)
	res, err := c.Do(req)
	if err != nil {
		return faultAnswer{elapsed: time.Since(start)}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return faultAnswer{status: res.StatusCode, header: res.Header, body: raw, elapsed: time.Since(start)}, err
}

// On a stalled disk the deletions of the user routes answer 503 with
// Retry-After and a JSON detail after about the commit timeout, instead of
// hanging: a user's erasure whose write is stuck, one that cannot get the
// user's lock (a stuck sync holds it), and the deletion of a connection's
// data. Once the disk recovers, the erasure that was cut short completes.
func TestDeletesAnswer503OnAStalledDisk(t *testing.T) {
	const commitTimeout = 300 * time.Millisecond
	ts, lat := startSlowDiskServer(t, commitTimeout)
	ts.postBody("stuck-erase", faultSyncBody(0, 3))
	ts.postBody("stuck-sync", faultSyncBody(1, 3))
	ts.postBody("stuck-conn", faultSyncBody(2, 3))
	c := faultClient(5*time.Second, 4)

	lat.hold()
	lat.on.Store(true)
	// A sync whose write is stuck holds its user's lock until the write
	// finishes.
	if a, err := faultPost(c, ts.base, "stuck-sync", faultSyncBody(3, 3)); err != nil || a.status != http.StatusServiceUnavailable {
		t.Fatalf("a sync on the stalled disk: %v %d %s", err, a.status, a.body)
	}
	for _, tc := range []struct{ name, method, path string }{
		{"an erasure whose write is stuck", "DELETE", "/api/v1/users/stuck-erase"},
		{"an erasure behind a stuck sync", "DELETE", "/api/v1/users/stuck-sync"},
		{"a connection's data", "DELETE", "/api/v1/users/stuck-conn/connections/apple/data"},
	} {
		a, err := faultDo(c, tc.method, ts.base+tc.path, "")
		t.Logf("%s: %d after %v", tc.name, a.status, a.elapsed.Round(time.Millisecond))
		switch {
		case err != nil:
			t.Errorf("%s: no answer on the stalled disk: %v", tc.name, err)
		case a.status != http.StatusServiceUnavailable:
			t.Errorf("%s: %d %s, want 503", tc.name, a.status, a.body)
		default:
			if msg := checkRefusal(a); msg != "" {
				t.Errorf("%s: %s", tc.name, msg)
			}
		}
	}
	if lat.holding.Load() == 0 {
		t.Fatal("no WAL fsync is held: the stall was not reached")
	}

	lat.on.Store(false)
	lat.release()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := ts.admin("GET", "/api/v1/users/stuck-erase", "")
		if r.status == http.StatusNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the erasure cut short by its deadline did not complete: %d %s", r.status, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := ts.admin("DELETE", "/api/v1/users/stuck-sync", ""); r.status != http.StatusOK {
		t.Errorf("the erasure retried once the disk recovered: %d %s", r.status, r.body)
	}
}
