package httpapi

import (
	"bytes"
	"errors"
	"slices"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/ingest"
	"wearhouse/pebblestore"
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
// Wearables: they cannot read data back nor manage anything.
func (s *Server) apiKey(ctx *fasthttp.RequestCtx, accepts ...auth.Scope) (*auth.Principal, error) {
	adminOnly := len(accepts) == 1 && accepts[0] == auth.ScopeAdmin
	key := ctx.Request.Header.Peek(apiKeyHeader)
	if key == nil {
		if adminOnly {
			return nil, unauthorized("Authentication required: provide an admin API key")
		}
		return nil, unauthorized("Authentication required: provide JWT token or API key")
	}
	p, err := s.deps.Auth.APIKey(string(key))
	if err != nil {
		return nil, err
	}
	switch {
	case slices.Contains(accepts, p.Scope):
		return p, nil
	case adminOnly:
		return nil, forbidden("This route needs an API key with the admin scope.")
	case p.Scope == auth.ScopeWrite:
		return nil, forbidden("This API key has the write scope and may not read data.")
	default:
		return nil, forbidden("This API key has the read scope and may not change data.")
	}
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

// reader and adminKey are apiKey for the read and the admin routes.
// TODO(restructure): removed at the merge, with their callers in
// users.go, syncstatus.go, sdklogs.go and admin.go.
func (s *Server) reader(ctx *fasthttp.RequestCtx) (*auth.Principal, error) {
	return s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead)
}

func (s *Server) adminKey(ctx *fasthttp.RequestCtx) (*auth.Principal, error) {
	return s.apiKey(ctx, auth.ScopeAdmin)
}

// readSetup and readUser resolve the user of a read route to its internal
// id, for the handlers that read the store themselves. The data read
// routes pass the user id to query, which resolves it.
// TODO(restructure): removed at the merge, with their callers in users.go
// and syncstatus.go.
func (s *Server) readSetup(ctx *fasthttp.RequestCtx, userID string) (iid uint32, known bool, ok bool) {
	if err := s.readable(ctx, userID); err != nil {
		s.writeError(ctx, err)
		return 0, false, false
	}
	iid, known, err := s.readUser(userID)
	if err != nil {
		s.writeError(ctx, err)
		return 0, false, false
	}
	return iid, known, true
}

// readUser: ok is false for a user that does not exist.
func (s *Server) readUser(id string) (iid uint32, ok bool, err error) {
	if !validUserID(id) {
		return 0, false, errBadUserID
	}
	u, err := s.deps.Store.User(id)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return u.IID, true, nil
}

// sdkPrincipal resolves the credentials of the SDK routes (fact sheet §2.2,
// SDKAuth): a valid SDK token wins; otherwise the API key header decides.
func (s *Server) sdkPrincipal(ctx *fasthttp.RequestCtx) (*auth.Principal, error) {
	expired := false
	if tok, ok := bearer(ctx.Request.Header.Peek("Authorization")); ok {
		p, err := s.deps.Auth.SDKToken(tok)
		if err == nil {
			return p, nil
		}
		expired = errors.Is(err, auth.ErrTokenExpired)
	}
	if key := ctx.Request.Header.Peek(apiKeyHeader); key != nil {
		return s.deps.Auth.APIKey(string(key))
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
