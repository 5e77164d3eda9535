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

// TestShutdownFinishesInFlightRequests: SIGTERM stops accepting, lets the
// request in flight finish with its 202, and the process exits cleanly.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := wearhouseBinary(t)
	p := startServerArgs(t, bin, t.TempDir(), []string{"--shutdown-timeout", "10s"})
	t.Cleanup(p.kill)
	finish := startSlowSync(t, p.base)
	time.Sleep(200 * time.Millisecond) // the request is being read
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	select {
	case <-p.exited:
		t.Fatalf("exited with a request in flight: %v\n%s", p.waitErr, p.output.String())
	default:
	}
	// New connections are refused while it drains.
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(p.base, "http://"), time.Second); err == nil {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		if res, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil && res.StatusCode == 200 {
			t.Errorf("a new request was served after SIGTERM")
		}
		c.Close()
	}
	res, err := finish()
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("in-flight request: %v %v", res, err)
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("did not exit after the last request")
	}
	if p.waitErr != nil {
		t.Errorf("exit: %v\n%s", p.waitErr, p.output.String())
	}
}

// TestSecondSignalExitsAtOnce: a second signal during the drain exits at
// once, without waiting for the request in flight.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := wearhouseBinary(t)
	p := startServerArgs(t, bin, t.TempDir(), []string{"--shutdown-timeout", "60s"})
	t.Cleanup(p.kill)
	startSlowSync(t, p.base)
	time.Sleep(200 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("a second signal did not stop the drain")
	}
	if p.waitErr == nil {
		t.Errorf("exit status 0 after a forced stop; want non-zero")
	}
}
