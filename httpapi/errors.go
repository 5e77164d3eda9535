package httpapi

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
	"wearhouse/ingest"
	"wearhouse/query"
)

// Every error answer is written here. A handler returns its error and route
// passes it to writeError, which looks it up in one table (answerOf): the
// edge's own refusals (httpError, built by the constructors below, each of
// which names its status), the services' typed errors by their kind
// (codec.Error, ingest.Error, query.Error) and the services' sentinel
// errors (auth's, query's). The answer is a status, a {"detail": ...} body
// and the headers that go with it. Anything the table does not know is a
// 500 that is logged and tells the client nothing of its internals.

// answer is how one error is answered.
type answer struct {
	status     int
	detail     string
	bearer     bool          // WWW-Authenticate: Bearer
	retryAfter time.Duration // Retry-After, in whole seconds rounded up
	// guess marks a refused credential: it counts towards the client's
	// bad-credential limit (limited).
	guess bool
	log   bool // an internal error, logged
}

// httpError is a refusal of the edge's own, with its status.
type httpError struct {
	status int
	detail string
	// notGuess marks a 401 for a credential that is ours but stale (an
	// expired SDK token): it is no bad credential and is never limited.
	notGuess   bool
	retryAfter time.Duration
}

func (e *httpError) Error() string { return e.detail }

// errStatus builds a refusal of the edge's own with its status: the
// constructors below, one per status, are its callers.
func errStatus(status int, detail string) error { return &httpError{status: status, detail: detail} }

// The edge's own refusals, by status.
func invalid(detail string) error      { return errStatus(fasthttp.StatusBadRequest, detail) }
func unauthorized(detail string) error { return errStatus(fasthttp.StatusUnauthorized, detail) }
func forbidden(detail string) error    { return errStatus(fasthttp.StatusForbidden, detail) }
func notFound(detail string) error     { return errStatus(fasthttp.StatusNotFound, detail) }
func timedOut(detail string) error     { return errStatus(fasthttp.StatusRequestTimeout, detail) }
func oversize(detail string) error     { return errStatus(fasthttp.StatusRequestEntityTooLarge, detail) }
func unavailable(detail string) error  { return errStatus(fasthttp.StatusServiceUnavailable, detail) }
func conflict(detail string) error     { return errStatus(fasthttp.StatusConflict, detail) }

// throttled is a 429 with the time after which to retry.
func throttled(detail string, retry time.Duration) error {
	return &httpError{status: fasthttp.StatusTooManyRequests, detail: detail, retryAfter: retry}
}

// stale is a 401 for a credential that is ours but no longer holds (an
// expired SDK token): the client is to renew it, and it is no guess.
func stale(detail string) error {
	return &httpError{status: fasthttp.StatusUnauthorized, detail: detail, notGuess: true}
}

var (
	errMethod   = errStatus(fasthttp.StatusMethodNotAllowed, "Method Not Allowed")
	errEncoding = errStatus(fasthttp.StatusUnsupportedMediaType,
		"Unsupported Content-Encoding: use gzip, zstd, deflate or none.")
	// errPanic is the answer of a handler that panicked; the recoverer
	// has logged it.
	errPanic = errStatus(fasthttp.StatusInternalServerError, "Internal server error.")
)

// notFoundAs words a service's "not found" (auth.ErrNotFound,
// query.ErrNotFound, ingest.ErrNotFound) as the route names what it did not find; any other
// error, and nil, passes as it is.
func notFoundAs(err error, detail string) error {
	if errors.Is(err, auth.ErrNotFound) || errors.Is(err, query.ErrNotFound) || errors.Is(err, ingest.ErrNotFound) {
		return notFound(detail)
	}
	return err
}

// sentinels are the services' errors that are answered alike wherever they
// come from.
var sentinels = []struct {
	err error
	answer
}{
	{auth.ErrInvalidAPIKey, answer{status: fasthttp.StatusUnauthorized, detail: "Invalid or missing API key", guess: true}},
	{auth.ErrInvalidApp, answer{status: fasthttp.StatusUnauthorized, detail: "Invalid app credentials", guess: true}},
	{auth.ErrInvalidRefreshToken, answer{status: fasthttp.StatusUnauthorized, detail: "Invalid or revoked refresh token",
		bearer: true, guess: true}},
	// A wrong invitation code was counted by auth already (RedeemInvitation).
	{auth.ErrInvalidInvitation, answer{status: fasthttp.StatusNotFound, detail: "Invalid or expired invitation code"}},
	{auth.ErrLastAdminKey, answer{status: fasthttp.StatusConflict,
		detail: "The last admin key cannot be deleted; create another admin key first."}},
	{auth.ErrNotFound, answer{status: fasthttp.StatusNotFound, detail: "Not Found"}},
	{auth.ErrBadLogin, answer{status: fasthttp.StatusUnauthorized, detail: "Wrong e-mail address or password."}},
	{auth.ErrBusy, answer{status: fasthttp.StatusServiceUnavailable, detail: "Too many logins at once; retry in a moment.",
		retryAfter: time.Second}},
	{auth.ErrSetupDone, answer{status: fasthttp.StatusConflict, detail: "The console is set up already: log in."}},
	{auth.ErrBadSetupToken, answer{status: fasthttp.StatusForbidden,
		detail: "Wrong setup token: use the setup link of the server's log, or an admin API key."}},
	{auth.ErrAccountExists, answer{status: fasthttp.StatusConflict, detail: "An account with this e-mail address exists."}},
	{auth.ErrNoAccount, answer{status: fasthttp.StatusNotFound, detail: "No such account."}},
	{query.ErrNotFound, answer{status: fasthttp.StatusNotFound, detail: "Not Found"}},
	{query.ErrNoRoute, answer{status: fasthttp.StatusNotFound, detail: "Workout has no route"}},
	{ingest.ErrNotFound, answer{status: fasthttp.StatusNotFound, detail: "Not Found"}},
}

// ingestStatus is the status of each kind of ingest.Error; a kind not in it
// is a 500.
var ingestStatus = map[ingest.Kind]int{
	ingest.KindOverloaded:   fasthttp.StatusServiceUnavailable,
	ingest.KindDiskFull:     fasthttp.StatusInsufficientStorage,
	ingest.KindUnknownUser:  fasthttp.StatusNotFound,
	ingest.KindConflict:     fasthttp.StatusUnprocessableEntity,
	ingest.KindExists:       fasthttp.StatusConflict,
	ingest.KindRevokedToken: fasthttp.StatusUnauthorized,
	ingest.KindTooLarge:     fasthttp.StatusRequestEntityTooLarge,
	ingest.KindBadUpload:    fasthttp.StatusBadRequest,
}

// answerOf is the table: the answer of an error.
func answerOf(err error) answer {
	var (
		herr *httpError
		cerr *codec.Error
		ierr *ingest.Error
		qerr *query.Error
		terr *auth.ThrottledError
		lerr *auth.LoginThrottledError
		aerr *auth.InvalidAccountError
	)
	switch {
	case errors.As(err, &herr):
		return answer{status: herr.status, detail: herr.detail, retryAfter: herr.retryAfter,
			guess: herr.status == fasthttp.StatusUnauthorized && !herr.notGuess}
	case errors.As(err, &qerr):
		return answer{status: fasthttp.StatusBadRequest, detail: qerr.Detail}
	case errors.As(err, &terr):
		detail := errTooManyGuesses
		if terr.Everyone {
			detail = "Too many wrong invitation codes from all addresses; retry later."
		}
		return answer{status: fasthttp.StatusTooManyRequests, detail: detail, retryAfter: terr.RetryAfter}
	case errors.As(err, &lerr):
		return answer{status: fasthttp.StatusTooManyRequests, retryAfter: lerr.RetryAfter,
			detail: "Too many failed logins for this account or from this address; retry later."}
	case errors.As(err, &aerr):
		if strings.Contains(aerr.Detail, "last admin") {
			return answer{status: fasthttp.StatusConflict, detail: upperFirst(aerr.Detail) + "."}
		}
		return answer{status: fasthttp.StatusBadRequest, detail: upperFirst(aerr.Detail) + "."}
	case errors.As(err, &cerr):
		if cerr.Kind == codec.KindTooLarge {
			return answer{status: fasthttp.StatusRequestEntityTooLarge, detail: cerr.Detail}
		}
		return answer{status: fasthttp.StatusBadRequest, detail: cerr.Detail}
	case errors.As(err, &ierr):
		status, ok := ingestStatus[ierr.Kind]
		if !ok {
			status = fasthttp.StatusInternalServerError
		}
		// A revoked SDK token is ours, only dead: the SDK is told to
		// authenticate again, and no guess is counted.
		return answer{status: status, detail: ierr.Detail, retryAfter: ierr.RetryAfter,
			bearer: ierr.Kind == ingest.KindRevokedToken}
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.answer
		}
	}
	return answer{status: fasthttp.StatusInternalServerError, detail: "Internal server error.", log: true}
}

const errTooManyGuesses = "Too many requests with bad credentials from this address; retry later."

// writeError answers an error as the table says: the only place where an
// error becomes a status and a {"detail": ...} body (on the FHIR routes,
// the same status and detail as an OperationOutcome). A refused credential
// from an address that has sent too many is answered 429 instead.
func (s *Server) writeError(ctx *fasthttp.RequestCtx, err error) {
	a := answerOf(err)
	if a.log {
		s.log.Error().Err(err).Bytes("method", ctx.Method()).Bytes("path", ctx.Path()).Msg("request failed")
	}
	if a.guess {
		if left, ok := s.limited(ctx); ok {
			a = answer{status: fasthttp.StatusTooManyRequests, retryAfter: left, detail: errTooManyGuesses}
		}
	}
	if a.bearer {
		ctx.Response.Header.Set("WWW-Authenticate", "Bearer")
	}
	if a.retryAfter > 0 {
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(int((a.retryAfter+time.Second-1)/time.Second)))
	}
	if isFHIR(ctx) {
		writeOutcome(ctx, a.status, a.detail)
		return
	}
	writeJSON(ctx, a.status, codec.Detail(a.detail))
}

// limited counts a refused credential against the client's address and
// reports whether that address has sent too many, with the time left until
// it may try again. It is called for refused credentials and nowhere else,
// so that a request with valid credentials is never limited, whatever its
// address did. A request without a credential is no guess: neither counted
// nor limited.
func (s *Server) limited(ctx *fasthttp.RequestCtx) (time.Duration, bool) {
	if s.deps.Auth == nil || !presentedCredential(ctx) {
		return 0, false
	}
	return s.deps.Auth.Limiter.Refuse(s.clientAddr(ctx))
}

// presentedCredential reports whether a refused request carried a
// credential: only those count towards the bad-credential limit, so that
// clients without one (a poller, phones behind one NAT with an expired
// token on a read route) cannot lock out their address.
func presentedCredential(ctx *fasthttp.RequestCtx) bool {
	if len(ctx.Request.Header.Peek(apiKeyHeader)) > 0 {
		return true
	}
	path := string(ctx.Path())
	if _, ok := bearer(ctx.Request.Header.Peek("Authorization")); ok && (strings.Contains(path, "/sdk/") || signOut(ctx, path)) {
		// Only the SDK routes and the sign-out take tokens: a token
		// elsewhere is a wrong door, not a guess.
		return true
	}
	// Application credentials and refresh tokens travel in the body.
	return strings.HasSuffix(strings.TrimSuffix(path, "/"), "/token") || strings.Contains(path, "/token/")
}

// signOut reports whether a request is the revocation of a connection
// without its data, the one route besides the SDK routes that takes SDK
// tokens (the app signs out with it).
func signOut(ctx *fasthttp.RequestCtx, path string) bool {
	return string(ctx.Method()) == "DELETE" && strings.Contains(path, "/connections/") &&
		!strings.HasSuffix(strings.TrimSuffix(path, "/"), "/data")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
