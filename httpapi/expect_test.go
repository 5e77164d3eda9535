package httpapi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"wearhouse/app"
)

// expectExchange sends the headers of a sync request with Expect:
// 100-continue and reads the first answer. On 100 Continue it sends the
// body and returns the final answer as well.
func expectExchange(t *testing.T, addr, user string, body []byte) (first, final *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /api/v1/sdk/users/%s/sync HTTP/1.1\r\nHost: x\r\nX-Open-Wearables-API-Key: %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", user, adminKey, len(body))
	br := bufio.NewReader(conn)
	read := func() *http.Response {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body = io.NopCloser(strings.NewReader(string(b)))
		return res
	}
	first = read()
	if first.StatusCode != http.StatusContinue {
		return first, nil
	}
	if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	return first, read()
}

func TestExpectContinueRefusesBeforeTheBody(t *testing.T) {
	// One acknowledged batch fills the backlog: the compactor is paused.
	ts := startServer(t, func(o *app.Options) { o.Ingest.MaxBacklogBytes = 1 })
	body := fixture(t, "sync_request__SyncRequest_json_schema_example.json")
	addr := ts.app.Addr().String()

	first, final := expectExchange(t, addr, "early", body)
	if first.StatusCode != http.StatusContinue || final == nil || final.StatusCode != http.StatusAccepted {
		t.Fatalf("within the limits: %d then %v, want 100 Continue then 202", first.StatusCode, final)
	}

	// Now over the backlog bound: refused before the body is sent.
	first, final = expectExchange(t, addr, "late", body)
	b, _ := io.ReadAll(first.Body)
	if first.StatusCode != http.StatusServiceUnavailable || final != nil || first.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(b), "The index is catching up") {
		t.Fatalf("over the backlog bound: %d %v %s, want 503 with Retry-After before the body", first.StatusCode, first.Header, b)
	}
	if n := len(ts.queue()); n != 1 {
		t.Fatalf("%d batches queued, want 1", n)
	}
	// A client that does not ask is refused as before, after its body.
	if r := ts.do("POST", "/api/v1/sdk/users/late/sync", body, "X-Open-Wearables-API-Key", adminKey); r.status != 503 {
		t.Fatalf("without Expect: %d", r.status)
	}
}
