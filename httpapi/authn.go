package httpapi

import (
	"errors"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/ingest"
	"wearhouse/pebblestore"
)

// grant is what the write path checks of an SDK token: that it still holds
// for its user, not erased (nor created again) since. API keys have none.
func grant(p *auth.Principal) *ingest.Grant {
	if p.Kind != auth.KindSDKToken {
		return nil
	}
	return &ingest.Grant{UserIID: p.UserIID, Issued: p.Issued}
}

// reader resolves the credentials of a read route: an API key with the admin
// or read scope. SDK tokens cannot read data back, as in Open Wearables: a
// Bearer SDK token counts as no credential.
func (s *Server) reader(ctx *fasthttp.RequestCtx) (*auth.Principal, error) {
	key := ctx.Request.Header.Peek("X-Open-Wearables-API-Key")
	if key == nil {
		return nil, errStatus(fasthttp.StatusUnauthorized, "Authentication required: provide JWT token or API key")
	}
	p, err := s.deps.Auth.APIKey(string(key))
	if errors.Is(err, auth.ErrInvalidAPIKey) {
		return nil, errStatus(fasthttp.StatusUnauthorized, "Invalid or missing API key")
	}
	if err != nil {
		return nil, err
	}
	if p.Scope == auth.ScopeWrite {
		return nil, errStatus(fasthttp.StatusForbidden, "This API key has the write scope and may not read data.")
	}
	return p, nil
}

// readUser resolves the user of a read route. ok is false for a user that
// does not exist: data routes then answer empty, as Open Wearables does.
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
