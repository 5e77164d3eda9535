package httpapi

import (
	"errors"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
)

// credentialRoutes manage API keys and applications (admin scope) and
// exchange or revoke refresh tokens (no other credential needed).
func (s *Server) credentialRoutes() []route {
	return []route{
		r("GET", "/api/v1/developer/api-keys", s.listKeys),
		r("POST", "/api/v1/developer/api-keys", s.createKey),
		r("PATCH", "/api/v1/developer/api-keys/{key_id}", s.renameKey),
		r("DELETE", "/api/v1/developer/api-keys/{key_id}", s.deleteKey),
		r("POST", "/api/v1/developer/api-keys/{key_id}/rotate", s.rotateKey),
		r("GET", "/api/v1/applications", s.listApps),
		r("POST", "/api/v1/applications", s.createApp),
		r("DELETE", "/api/v1/applications/{app_id}", s.deleteApp),
		r("POST", "/api/v1/applications/{app_id}/rotate-secret", s.rotateApp),
		r("POST", "/api/v1/token/refresh", s.refresh),
		r("POST", "/api/v1/token/revoke", s.revoke),
	}
}

// keyView is an API key as the routes show it; Key is set only when the
// key was just created or rotated.
type keyView struct {
	*auth.KeyInfo
	Key string `json:"key,omitempty"`
}

func keyNotFound(id string) error {
	return errStatus(fasthttp.StatusNotFound, "Apikey with ID: "+id+" not found.")
}

func (s *Server) listKeys(ctx *fasthttp.RequestCtx, _ []string) {
	if _, err := s.adminKey(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	keys, err := s.deps.Auth.Keys()
	if keys == nil {
		keys = []*auth.KeyInfo{}
	}
	s.answer(ctx, keys, err)
}

func (s *Server) createKey(ctx *fasthttp.RequestCtx, _ []string) {
	p, err := s.adminKey(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	var in struct {
		Name  string `json:"name"`
		Scope string `json:"scope"`
	}
	if err := s.jsonBody(ctx, &in); err != nil {
		s.writeError(ctx, err)
		return
	}
	scope, ok := auth.ParseScope(in.Scope)
	if !ok {
		s.writeError(ctx, errStatus(fasthttp.StatusBadRequest, "scope must be admin, read or write."))
		return
	}
	if len(in.Name) > 100 {
		s.writeError(ctx, errStatus(fasthttp.StatusBadRequest, "name must be at most 100 characters."))
		return
	}
	key, rec, err := s.deps.Auth.CreateKey(in.Name, scope, p.KeyID)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	s.created(ctx, keyView{KeyInfo: rec, Key: key})
}

func (s *Server) created(ctx *fasthttp.RequestCtx, v any) {
	b, err := codec.Marshal(v)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	ctx.Response.Header.Set("Cache-Control", "no-store")
	writeJSON(ctx, fasthttp.StatusCreated, b)
}

func (s *Server) renameKey(ctx *fasthttp.RequestCtx, a []string) {
	if _, err := s.adminKey(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	var in struct {
		Name *string `json:"name"`
	}
	body, err := s.controlBody(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if err := codec.Unmarshal(body, &in); err != nil || in.Name == nil || len(*in.Name) > 100 {
		s.writeError(ctx, errStatus(fasthttp.StatusBadRequest, "Body must be {\"name\": \"...\"} with at most 100 characters."))
		return
	}
	rec, err := s.deps.Auth.RenameKey(a[0], *in.Name)
	if errors.Is(err, auth.ErrNotFound) {
		err = keyNotFound(a[0])
	}
	s.answer(ctx, rec, err)
}

func (s *Server) deleteKey(ctx *fasthttp.RequestCtx, a []string) {
	if _, err := s.adminKey(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	rec, err := s.deps.Auth.DeleteKey(a[0])
	switch {
	case errors.Is(err, auth.ErrNotFound):
		err = keyNotFound(a[0])
	case errors.Is(err, auth.ErrLastAdminKey):
		err = errStatus(fasthttp.StatusConflict, "The last admin key cannot be deleted; create another admin key first.")
	}
	s.answer(ctx, rec, err)
}

func (s *Server) rotateKey(ctx *fasthttp.RequestCtx, a []string) {
	if _, err := s.adminKey(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	key, rec, err := s.deps.Auth.RotateKey(a[0])
	if errors.Is(err, auth.ErrNotFound) {
		err = keyNotFound(a[0])
	}
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	s.created(ctx, keyView{KeyInfo: rec, Key: key})
}

// appView is an application as the routes show it; AppSecret is set only
// when it was just created or rotated.
type appView struct {
	ID        string    `json:"id"`
	AppID     string    `json:"app_id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	AppSecret string    `json:"app_secret,omitempty"`
}

func viewApp(a *auth.App, secret string) appView {
	return appView{ID: a.ID, AppID: a.AppID, Name: a.Name, CreatedAt: a.CreatedAt, AppSecret: secret}
}

var errAppNotFound = errStatus(fasthttp.StatusNotFound, "Application not found")

func (s *Server) listApps(ctx *fasthttp.RequestCtx, _ []string) {
	if _, err := s.adminKey(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	apps, err := s.deps.Auth.Apps()
	out := make([]appView, 0, len(apps))
	for _, a := range apps {
		out = append(out, viewApp(a, ""))
	}
	s.answer(ctx, out, err)
}

func (s *Server) createApp(ctx *fasthttp.RequestCtx, _ []string) {
	if _, err := s.adminKey(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	var in struct {
		Name string `json:"name"`
	}
	body, err := s.controlBody(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if err := codec.Unmarshal(body, &in); err != nil || in.Name == "" || len(in.Name) > 100 {
		s.writeError(ctx, errStatus(fasthttp.StatusBadRequest, "Body must be {\"name\": \"...\"} with 1 to 100 characters."))
		return
	}
	a, secret, err := s.deps.Auth.CreateApp(in.Name)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	s.created(ctx, viewApp(a, secret))
}

func (s *Server) deleteApp(ctx *fasthttp.RequestCtx, a []string) {
	if _, err := s.adminKey(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	err := s.deps.Auth.DeleteApp(a[0])
	if errors.Is(err, auth.ErrNotFound) {
		err = errAppNotFound
	}
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

func (s *Server) rotateApp(ctx *fasthttp.RequestCtx, a []string) {
	if _, err := s.adminKey(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	app, secret, err := s.deps.Auth.RotateSecret(a[0])
	if errors.Is(err, auth.ErrNotFound) {
		err = errAppNotFound
	}
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	s.answer(ctx, viewApp(app, secret), nil)
}

func (s *Server) refreshBody(ctx *fasthttp.RequestCtx) (string, error) {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	body, err := s.credentialBody(ctx)
	if err != nil {
		return "", err
	}
	if err := codec.Unmarshal(body, &in); err != nil || in.RefreshToken == "" {
		return "", errStatus(fasthttp.StatusBadRequest, "Body must be {\"refresh_token\": \"rt-...\"}.")
	}
	return in.RefreshToken, nil
}

func (s *Server) refresh(ctx *fasthttp.RequestCtx, _ []string) {
	rt, err := s.refreshBody(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	pair, _, err := s.deps.Auth.Refresh(rt)
	if errors.Is(err, auth.ErrInvalidRefreshToken) {
		err = &httpError{status: fasthttp.StatusUnauthorized, detail: "Invalid or revoked refresh token", wwwAuth: true}
	}
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	s.writeTokens(ctx, pair)
}

func (s *Server) revoke(ctx *fasthttp.RequestCtx, _ []string) {
	rt, err := s.refreshBody(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	err = s.deps.Auth.Revoke(rt)
	if errors.Is(err, auth.ErrNotFound) {
		err = errStatus(fasthttp.StatusNotFound, "Refresh token not found")
	}
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// limited counts a refused credential (a 401) against the client's
// address and, when that address has sent too many, answers 429 in its
// place. It is called where a 401 is written and nowhere else, so that a
// request with valid credentials is never limited, whatever its address did.
// A request without a credential, or with one that is ours but stale, is no
// guess: neither counted nor limited.
func (s *Server) limited(ctx *fasthttp.RequestCtx, refused *httpError) bool {
	if s.deps.Auth == nil || refused.notGuess || !presentedCredential(ctx) {
		return false
	}
	left, limited := s.deps.Auth.Limiter.Refuse(s.clientAddr(ctx))
	if !limited {
		return false
	}
	ctx.Response.Header.Set("Retry-After", strconv.Itoa(int((left+time.Second-1)/time.Second)))
	writeDetail(ctx, fasthttp.StatusTooManyRequests, "Too many requests with bad credentials from this address; retry later.")
	return true
}
