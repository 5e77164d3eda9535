package httpapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"wearhouse/codec"
	"wearhouse/ingest"
)

func newBareServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Options{Logger: zerolog.Nop()}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func detailOf(t *testing.T, ctx *fasthttp.RequestCtx) string {
	t.Helper()
	var m struct {
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal(ctx.Response.Body(), &m); err != nil {
		t.Fatalf("body is not JSON: %q", ctx.Response.Body())
	}
	return m.Detail
}

func TestRecovererAnswers500JSON(t *testing.T) {
	s := newBareServer(t)
	var ctx fasthttp.RequestCtx
	ctx.Response.Header.Set("X-Half-Written", "yes")
	s.recoverer(func(ctx *fasthttp.RequestCtx) {
		var m map[string]int
		m["boom"] = 1 // a nil map write panics
	})(&ctx)
	if ctx.Response.StatusCode() != 500 || string(ctx.Response.Header.ContentType()) != "application/json" {
		t.Fatalf("status %d, type %q", ctx.Response.StatusCode(), ctx.Response.Header.ContentType())
	}
	if d := detailOf(t, &ctx); d != "Internal server error." {
		t.Errorf("detail %q", d)
	}
	if len(ctx.Response.Header.Peek("X-Half-Written")) != 0 {
		t.Errorf("headers of the failed handler leaked into the answer")
	}
}

func TestErrorMapping(t *testing.T) {
	s := newBareServer(t)
	cases := []struct {
		err        error
		status     int
		retryAfter string
	}{
		{&ingest.Error{Kind: ingest.KindOverloaded, Detail: "busy", RetryAfter: 1500 * time.Millisecond}, 503, "2"},
		{&ingest.Error{Kind: ingest.KindDiskFull, Detail: "full"}, 507, ""},
		{&ingest.Error{Kind: ingest.KindUnknownUser, Detail: "who"}, 404, ""},
		{&ingest.Error{Kind: ingest.KindConflict, Detail: "key"}, 422, ""},
		{&codec.Error{Kind: codec.KindInvalid, Detail: "bad"}, 400, ""},
		{&codec.Error{Kind: codec.KindTooLarge, Detail: "big"}, 413, ""},
		{errStatus(403, "no"), 403, ""},
	}
	for _, c := range cases {
		var ctx fasthttp.RequestCtx
		s.writeError(&ctx, c.err)
		if ctx.Response.StatusCode() != c.status {
			t.Errorf("%v: status %d, want %d", c.err, ctx.Response.StatusCode(), c.status)
		}
		if got := string(ctx.Response.Header.Peek("Retry-After")); got != c.retryAfter {
			t.Errorf("%v: Retry-After %q, want %q", c.err, got, c.retryAfter)
		}
		if d := detailOf(t, &ctx); d != c.err.Error() {
			t.Errorf("detail %q, want %q", d, c.err.Error())
		}
	}
}

func TestSizeClass(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{0, 0}, {1, 1}, {7, 7}, {8, 8}, {9, 9}, {100, 104}, {64 << 10, 64 << 10}, {(64 << 10) + 1, 72 << 10},
		{900_000, 917_504}, {950_000, 983_040}, {4 << 20, 4 << 20}, {(4 << 20) + 1, (4 << 20) + 1},
	} {
		got := sizeClass(tc.n)
		if got != tc.want {
			t.Errorf("sizeClass(%d) = %d, want %d", tc.n, got, tc.want)
		}
		if got < tc.n || (tc.n > 0 && tc.n <= pooledBodyCap && got > tc.n+tc.n/8) {
			t.Errorf("sizeClass(%d) = %d: not within 12.5 %% above", tc.n, got)
		}
	}
}

func TestGetBodyTakesAPooledBufferOfAboutTheSize(t *testing.T) {
	putBody(make([]byte, 0, 4<<20))
	for range 4 { // sync.Pool may drop what it holds; a few tries
		b := getBody(1 << 20)
		if cap(b) > 2<<20 || cap(b) < 1<<20 {
			t.Fatalf("a 1 MiB body got a buffer of %d bytes", cap(b))
		}
	}
}
