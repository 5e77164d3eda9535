package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
	"wearhouse/ingest"
	"wearhouse/query"
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
		detail     string // "": the error's own text
		retryAfter string
		bearer     bool
	}{
		{err: &ingest.Error{Kind: ingest.KindOverloaded, Detail: "busy", RetryAfter: 1500 * time.Millisecond}, status: 503, retryAfter: "2"},
		{err: &ingest.Error{Kind: ingest.KindDiskFull, Detail: "full"}, status: 507},
		{err: &ingest.Error{Kind: ingest.KindUnknownUser, Detail: "who"}, status: 404},
		{err: &ingest.Error{Kind: ingest.KindConflict, Detail: "key"}, status: 422},
		{err: &ingest.Error{Kind: ingest.KindRevokedToken, Detail: "erased"}, status: 401, bearer: true},
		{err: &codec.Error{Kind: codec.KindInvalid, Detail: "bad"}, status: 400},
		{err: &codec.Error{Kind: codec.KindTooLarge, Detail: "big"}, status: 413},
		{err: &query.Error{Detail: "limit must be an integer from 1 to 100."}, status: 400},
		{err: forbidden("no"), status: 403},
		{err: stale("again"), status: 401},
		{err: fmt.Errorf("wrapped: %w", notFound("gone")), status: 404, detail: "gone"},
		{err: auth.ErrInvalidAPIKey, status: 401, detail: "Invalid or missing API key"},
		{err: auth.ErrInvalidApp, status: 401, detail: "Invalid app credentials"},
		{err: auth.ErrInvalidRefreshToken, status: 401, detail: "Invalid or revoked refresh token", bearer: true},
		{err: auth.ErrLastAdminKey, status: 409, detail: "The last admin key cannot be deleted; create another admin key first."},
		{err: query.ErrNoRoute, status: 404, detail: "Workout has no route"},
		{err: notFoundAs(auth.ErrNotFound, "Apikey with ID: k not found."), status: 404, detail: "Apikey with ID: k not found."},
		{err: notFoundAs(query.ErrNotFound, "Workout not found"), status: 404, detail: "Workout not found"},
		{err: notFoundAs(auth.ErrLastAdminKey, "unused"), status: 409, detail: "The last admin key cannot be deleted; create another admin key first."},
		{err: errors.New("disk on fire"), status: 500, detail: "Internal server error."},
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
		if got := string(ctx.Response.Header.Peek("WWW-Authenticate")); got != map[bool]string{true: "Bearer"}[c.bearer] {
			t.Errorf("%v: WWW-Authenticate %q", c.err, got)
		}
		want := c.detail
		if want == "" {
			want = c.err.Error()
		}
		if d := detailOf(t, &ctx); d != want {
			t.Errorf("detail %q, want %q", d, want)
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
