package httpapi_test

// Fault test: a stalled disk. Every WAL fsync waits until the test lets the
// disk recover, which it does only once every request sent meanwhile was
// answered: each must end with 503 and Retry-After (after the commit
// timeout) while the fsyncs are still stuck, retries included, instead of
// hanging; and a batch that is written after its 503 must be answered as a
// replay on the next retry, never stored twice.

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestFaultSlowDiskAnswers503ThenReplays(t *testing.T) {
	// The client's timeout only turns a hang into a failure: a correct
	// server answers after about the commit timeout.
	const commitTimeout = 200 * time.Millisecond
	ts, lat := startSlowDiskServer(t, commitTimeout)
	c := faultClient(20*time.Second, 8)
	tryPost := func(user string, body []byte, headers ...string) (faultAnswer, error) {
		a, err := faultPost(c, ts.base, user, body, headers...)
		if err != nil {
			err = fmt.Errorf("POST for %s: %w after %v", user, err, a.elapsed)
		}
		return a, err
	}
	post := func(user string, body []byte, headers ...string) faultAnswer {
		t.Helper()
		a, err := tryPost(user, body, headers...)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := post("fault-slow", faultSyncBody(0, 3)); a.status != http.StatusAccepted {
		t.Fatalf("before the stall: %d %s", a.status, a.body)
	}

	lat.hold()
	lat.on.Store(true)
	bodyA := faultSyncBody(1, 3)
	bodyK := faultSyncBody(2, 3)
	type sent struct {
		name string
		a    faultAnswer
		err  error
	}
	var (
		mu      sync.Mutex
		answers []sent
		wg      sync.WaitGroup
	)
	send := func(name, user string, body []byte, headers ...string) {
		a, err := tryPost(user, body, headers...)
		mu.Lock()
		answers = append(answers, sent{name, a, err})
		mu.Unlock()
	}
	// The first attempts, then, while their writes are still stalled,
	// the clients' retries and syncs of users that do not exist yet.
	send("A", "fault-slow", bodyA)
	send("K", "fault-slow", bodyK, "Idempotency-Key", "fault-key-1")
	for _, r := range []struct {
		name, user string
		body       []byte
		headers    []string
	}{
		{"A retried", "fault-slow", bodyA, nil},
		{"K retried", "fault-slow", bodyK, []string{"Idempotency-Key", "fault-key-1"}},
		{"new user B", "fault-new-b", faultSyncBody(3, 3), nil},
		{"new user C", "fault-new-c", faultSyncBody(4, 3), nil},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(r.name, r.user, r.body, r.headers...)
		}()
	}
	wg.Wait()
	// Every request was answered, and the disk is still stalled: none of
	// the answers waited for it.
	if lat.holding.Load() == 0 {
		t.Fatalf("no WAL fsync is held after %d delayed: the stall was not reached", lat.syncs.Load())
	}
	for _, s := range answers {
		t.Logf("%s during the stall: %d after %v", s.name, s.a.status, s.a.elapsed.Round(time.Millisecond))
		switch {
		case s.err != nil:
			t.Errorf("%s: no answer while the disk is stalled: %v", s.name, s.err)
		case s.a.status == http.StatusServiceUnavailable:
			if msg := checkRefusal(s.a); msg != "" {
				t.Errorf("%s: %s", s.name, msg)
			}
		case s.a.status != http.StatusAccepted:
			t.Errorf("%s: %d %s", s.name, s.a.status, s.a.body)
		}
	}
	if answers[0].a.status != http.StatusServiceUnavailable {
		t.Fatalf("A was answered %d while every fsync is stalled", answers[0].a.status)
	}

	// The disk recovers; the stalled writes complete. The retries are
	// answered as replays of them.
	lat.on.Store(false)
	lat.release()
	deadline := time.Now().Add(10 * time.Second)
	var a faultAnswer
	for {
		a = post("fault-slow", bodyA)
		if a.status == http.StatusAccepted || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if a.status != http.StatusAccepted || !a.dup {
		t.Fatalf("A retried after the stall: %d duplicate=%v %s; want a replay of the stalled write", a.status, a.dup, a.body)
	}
	k := post("fault-slow", bodyK, "Idempotency-Key", "fault-key-1")
	if k.status != http.StatusAccepted || k.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("K retried after the stall: %d %v %s; want the stored first answer", k.status, k.header, k.body)
	}
	q := ts.queue()
	counts := map[string]int{}
	for _, e := range q {
		counts[string(e.Body)]++
	}
	for name, b := range map[string][]byte{"A": bodyA, "K": bodyK} {
		if n := counts[string(queued(t, b))]; n != 1 {
			t.Errorf("%s stored %d times", name, n)
		}
	}
	if _, ok := q[a.batchID]; !ok {
		t.Errorf("the replay of A names batch %s, which is not queued", a.batchID)
	}
	t.Logf("%d WAL fsyncs stalled; A replayed as batch %s, K as %s", lat.syncs.Load(), a.batchID, k.batchID)
}
