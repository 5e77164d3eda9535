package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

const shutdownBody = `{"provider":"apple","sdkVersion":"1","syncTimestamp":"2026-01-01T00:00:00Z","data":{"records":[` +
	`{"id":"s1","type":"HKQuantityTypeIdentifierHeartRate","startDate":"2026-01-01T00:00:00Z","endDate":"2026-01-01T00:00:00Z","value":61,"unit":"bpm"}]}}`

// startSlowSync sends the head of a sync request and half of its body, so
// that the request is in flight until finish is called.
func startSlowSync(t *testing.T, base string) (finish func() (*http.Response, error)) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	half := len(shutdownBody) / 2
	fmt.Fprintf(conn, "POST /api/v1/sdk/users/shutdown-user/sync HTTP/1.1\r\nHost: x\r\nX-Open-Wearables-API-Key: %s\r\nContent-Length: %d\r\n\r\n%s",
		crashAdminKey, len(shutdownBody), shutdownBody[:half])
	return func() (*http.Response, error) {
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(conn, shutdownBody[half:]); err != nil {
			return nil, err
		}
		return http.ReadResponse(bufio.NewReader(conn), nil)
	}
}

// waitAccepted returns once the server has taken every connection dialed
// before the call: it accepts connections one at a time, in the order they
// arrived, so an answer on a later connection means the earlier ones were
// taken too (and fasthttp counts a connection just taken as busy, not
// idle, for its first seconds, so a shutdown waits for it).
func waitAccepted(t *testing.T, base string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	res, err := c.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("the server does not answer: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
}

// waitRefusing returns once a new connection to the server is refused: it
// has closed its listener and drains. The deadline is only reached by a
// server that never stops accepting.
func waitRefusing(t *testing.T, p *serverProc) {
	t.Helper()
	addr := strings.TrimPrefix(p.base, "http://")
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		select {
		case <-p.exited:
			t.Fatalf("exited with a request in flight: %v\n%s", p.waitErr, p.output.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 20 s after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestShutdownFinishesInFlightRequests: SIGTERM stops accepting, lets the
// request in flight finish with its 202, and the process exits cleanly.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := wearhouseBinary(t)
	p := startServerArgs(t, bin, t.TempDir(), []string{"--shutdown-timeout", "30s"})
	t.Cleanup(p.kill)
	finish := startSlowSync(t, p.base)
	waitAccepted(t, p.base)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New connections are refused while it drains, and it does not exit
	// while the request is unfinished.
	waitRefusing(t, p)
	select {
	case <-p.exited:
		t.Fatalf("exited with a request in flight: %v\n%s", p.waitErr, p.output.String())
	default:
	}
	res, err := finish()
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("in-flight request: %v %v", res, err)
	}
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("did not exit after the last request")
	}
	if p.waitErr != nil {
		t.Errorf("exit: %v\n%s", p.waitErr, p.output.String())
	}
}

// TestSecondSignalExitsAtOnce: a second signal during the drain exits at
// once, without waiting for the request in flight (the shutdown timeout is
// far beyond the test's wait).
func TestSecondSignalExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := wearhouseBinary(t)
	p := startServerArgs(t, bin, t.TempDir(), []string{"--shutdown-timeout", "10m"})
	t.Cleanup(p.kill)
	startSlowSync(t, p.base)
	waitAccepted(t, p.base)
	p.cmd.Process.Signal(syscall.SIGTERM)
	waitRefusing(t, p) // the first signal was handled: it drains
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("a second signal did not stop the drain")
	}
	if p.waitErr == nil {
		t.Errorf("exit status 0 after a forced stop; want non-zero")
	}
}
