package httpapi_test

// Fault test: slowloris. Connections that dribble a request a byte at a
// time, or send nothing, must be closed within about the read timeout,
// while a well-behaved client on its own connection keeps getting 202s.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wearhouse/app"
)

func TestFaultSlowlorisClosedWhileGoodClientWorks(t *testing.T) {
	const (
		readTimeout = 500 * time.Millisecond
		perKind     = 4
		// closedWithin is the generous bound on "closed within about the
		// read timeout".
		closedWithin = 5 * time.Second
	)
	ts := startServer(t, func(o *app.Options) {
		o.HTTP.ReadTimeout = readTimeout
		o.HTTP.IdleTimeout = time.Second
	})
	addr := ts.app.Addr().String()
	body := faultSyncBody(0, 5)
	request := fmt.Sprintf("POST /api/v1/sdk/users/slow-client/sync HTTP/1.1\r\nHost: wearhouse\r\n"+
		"X-Open-Wearables-API-Key: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", adminKey, len(body), body)

	type slowResult struct {
		kind    string
		sent    int
		elapsed time.Duration
		status  string
		err     error
	}
	// The kinds of slow connection: the request dribbled from its first
	// byte, the headers sent at once and the body dribbled, nothing sent,
	// and a first request answered before the second one is dribbled on
	// the same keep-alive connection.
	kinds := []string{"dribbled headers", "dribbled body", "silent", "dribbled second request"}
	results := make(chan slowResult, perKind*len(kinds))
	slow := func(kind string) {
		start := time.Now()
		conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			results <- slowResult{kind: kind, err: err}
			return
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		sent := 0
		switch kind {
		case "dribbled body":
			sent = strings.Index(request, "\r\n\r\n") + 4
			if _, err := conn.Write([]byte(request[:sent])); err != nil {
				results <- slowResult{kind: kind, err: err}
				return
			}
		case "dribbled second request":
			other := strings.Replace(request, "slow-client", "keepalive-client", 1)
			if _, err := conn.Write([]byte(other)); err != nil {
				results <- slowResult{kind: kind, err: err}
				return
			}
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				results <- slowResult{kind: kind, err: fmt.Errorf("first request: %w", err)}
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusAccepted {
				results <- slowResult{kind: kind, err: fmt.Errorf("first request: %d", res.StatusCode)}
				return
			}
			start = time.Now()
		}
		dribble := kind != "silent"
		closed := make(chan string, 1)
		go func() {
			// Whatever the server answers before it closes.
			line, _ := br.ReadString('\n')
			io.Copy(io.Discard, br)
			closed <- strings.TrimSpace(line)
		}()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		limit := time.After(closedWithin)
		for {
			select {
			case status := <-closed:
				results <- slowResult{kind: kind, sent: sent, elapsed: time.Since(start), status: status}
				return
			case <-limit:
				results <- slowResult{kind: kind, sent: sent, elapsed: time.Since(start),
					err: fmt.Errorf("still open after %v", closedWithin)}
				return
			case <-tick.C:
				if dribble && sent < len(request) {
					if _, err := conn.Write([]byte{request[sent]}); err == nil {
						sent++
					}
				}
			}
		}
	}

	// The good client: one keep-alive connection, a new batch each time.
	stop := make(chan struct{})
	var good, bad atomic.Int64
	var goodErr atomic.Value
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := faultClient(5*time.Second, 1)
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			a, err := faultPost(c, ts.base, "good-client", faultSyncBody(n, 5))
			if err != nil || a.status != http.StatusAccepted {
				bad.Add(1)
				goodErr.Store(fmt.Sprintf("%d %v %s", a.status, err, a.body))
				continue
			}
			good.Add(1)
			time.Sleep(20 * time.Millisecond)
		}
	}()

	var slowWG sync.WaitGroup
	for i := range perKind * len(kinds) {
		slowWG.Add(1)
		go func() {
			defer slowWG.Done()
			slow(kinds[i%len(kinds)])
		}()
	}
	slowWG.Wait()
	goodDuring := good.Load()
	// The good client goes on a little after the slow ones are gone.
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(results)

	var longest time.Duration
	for r := range results {
		if r.err != nil {
			t.Errorf("%s connection: %v (%d bytes sent)", r.kind, r.err, r.sent)
			continue
		}
		longest = max(longest, r.elapsed)
		t.Logf("%s connection closed after %v, %d bytes sent, answer %q", r.kind, r.elapsed.Round(time.Millisecond), r.sent, r.status)
		if r.kind != "silent" && r.sent >= len(request) {
			t.Errorf("a %s connection sent its whole request before it was closed", r.kind)
		}
	}
	if bad.Load() > 0 {
		t.Errorf("the good client failed %d times, last: %v", bad.Load(), goodErr.Load())
	}
	if goodDuring == 0 {
		t.Errorf("the good client got no 202 while the slow connections were open")
	}
	for _, e := range ts.queue() {
		if e.UserID == "slow-client" {
			t.Errorf("a dribbled request was stored")
		}
	}
	t.Logf("read timeout %v: %d slow connections of each kind closed, the last after %v; the good client got %d 202s meanwhile (%d in all) and no failure",
		readTimeout, perKind, longest.Round(time.Millisecond), goodDuring, good.Load())
}
