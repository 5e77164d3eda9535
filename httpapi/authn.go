package httpapi

import (
	"bytes"
	"errors"
	"slices"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/ingest"
)

// apiKeyHeader carries an API key.
const apiKeyHeader = "X-Open-Wearables-API-Key"

// grant is what the write path checks of an SDK token: that it still holds
// for its user, not erased (nor created again) since. API keys have none.
func grant(p *auth.Principal) *ingest.Grant {
	if p.Kind != auth.KindSDKToken {
		return nil
	}
	return &ingest.Grant{UserIID: p.UserIID, Issued: p.Issued}
}

// apiKey is the credential check of every route that takes an API key
// alone: a key of one of the scopes given, or 401 (none, or not valid) or
// 403 (another scope). SDK tokens count as no credential, as in Open
// Wearables: they cannot read data back nor manage anything. Without a key,
// a console session stands for one (sessions.go): an admin account's as an
// admin key, a viewer's as a read key.
func (s *Server) apiKey(ctx *fasthttp.RequestCtx, accepts ...auth.Scope) (*auth.Principal, error) {
	adminOnly := len(accepts) == 1 && accepts[0] == auth.ScopeAdmin
	key := ctx.Request.Header.Peek(apiKeyHeader)
	var (
		p   *auth.Principal
		err error
	)
	switch {
	case key != nil:
		p, err = s.deps.Auth.APIKey(string(key))
	case hasSession(ctx):
		p, err = s.sessionPrincipal(ctx)
	case adminOnly:
		return nil, unauthorized("Authentication required: provide an admin API key")
	default:
		return nil, unauthorized("Authentication required: provide JWT token or API key")
	}
	if err != nil {
		return nil, err
	}
	what := credName(p)
	switch {
	case slices.Contains(accepts, p.Scope):
		noteCredential(ctx, p)
		return p, nil
	case adminOnly && p.Kind == auth.KindSession:
		return nil, forbidden("This route needs an admin account.")
	case adminOnly:
		return nil, forbidden("This route needs an API key with the admin scope.")
	case p.Scope == auth.ScopeWrite:
		return nil, forbidden(what + " has the write scope and may not read data.")
	default:
		return nil, forbidden(what + " has the read scope and may not change data.")
	}
}

// credName names a key or a session in a refusal.
func credName(p *auth.Principal) string {
	if p.Kind == auth.KindSession {
		return "This account"
	}
	return "This API key"
}

// readable is the preamble of a data read route: an API key of the admin or
// read scope, and a user id that may name a user.
func (s *Server) readable(ctx *fasthttp.RequestCtx, userID string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead); err != nil {
		return err
	}
	if !validUserID(userID) {
		return errBadUserID
	}
	return nil
}

// sdkPrincipal resolves the credentials of the SDK routes (fact sheet §2.2,
// SDKAuth): a valid SDK token wins; otherwise the API key header decides.
func (s *Server) sdkPrincipal(ctx *fasthttp.RequestCtx) (*auth.Principal, error) {
	expired := false
	if tok, ok := bearer(ctx.Request.Header.Peek("Authorization")); ok {
		p, err := s.deps.Auth.SDKToken(tok)
		if err == nil {
			noteCredential(ctx, p)
			return p, nil
		}
		expired = errors.Is(err, auth.ErrTokenExpired)
	}
	if key := ctx.Request.Header.Peek(apiKeyHeader); key != nil {
		p, err := s.deps.Auth.APIKey(string(key))
		if err == nil {
			noteCredential(ctx, p)
		}
		return p, err
	}
	if hasSession(ctx) {
		p, err := s.sessionPrincipal(ctx)
		if err == nil {
			noteCredential(ctx, p)
		}
		return p, err
	}
	// An expired token gets its 401, so that the SDK refreshes it, and is
	// no bad credential.
	const detail = "Authentication required: provide SDK token or API key"
	if expired {
		return nil, stale(detail)
	}
	return nil, unauthorized(detail)
}

// bearer extracts the token of an "Authorization: Bearer <token>" header.
func bearer(h []byte) (string, bool) {
	const prefix = "bearer "
	if len(h) <= len(prefix) || !bytes.EqualFold(h[:len(prefix)], []byte(prefix)) {
		return "", false
	}
	tok := bytes.TrimSpace(h[len(prefix):])
	if len(tok) == 0 {
		return "", false
	}
	return string(tok), true
}
