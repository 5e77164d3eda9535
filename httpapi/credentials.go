package httpapi

import (
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
)

// credentialRoutes manage API keys and applications (admin scope) and
// exchange or revoke refresh tokens (no other credential needed).
func (s *Server) credentialRoutes() []route {
	return []route{
		h("GET", "/api/v1/developer/api-keys", s.listKeys),
		h("POST", "/api/v1/developer/api-keys", s.createKey),
		h("PATCH", "/api/v1/developer/api-keys/{key_id}", s.renameKey),
		h("DELETE", "/api/v1/developer/api-keys/{key_id}", s.deleteKey),
		h("POST", "/api/v1/developer/api-keys/{key_id}/rotate", s.rotateKey),
		h("GET", "/api/v1/applications", s.listApps),
		h("POST", "/api/v1/applications", s.createApp),
		h("DELETE", "/api/v1/applications/{app_id}", s.deleteApp),
		h("POST", "/api/v1/applications/{app_id}/rotate-secret", s.rotateApp),
		h("POST", "/api/v1/token/refresh", s.refresh),
		h("POST", "/api/v1/token/revoke", s.revoke),
	}
}

// keyView is an API key as the routes show it; Key is set only when the
// key was just created or rotated.
type keyView struct {
	*auth.KeyInfo
	Key string `json:"key,omitempty"`
}

func keyNotFound(id string) string { return "Apikey with ID: " + id + " not found." }

// created answers 201 with a new credential, which no cache may keep.
func created(ctx *fasthttp.RequestCtx, v any) error {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	return writeValue(ctx, fasthttp.StatusCreated, v)
}

func (s *Server) listKeys(ctx *fasthttp.RequestCtx, _ []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	keys, err := s.deps.Auth.Keys()
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []*auth.KeyInfo{}
	}
	return writeValue(ctx, fasthttp.StatusOK, keys)
}

func (s *Server) createKey(ctx *fasthttp.RequestCtx, _ []string) error {
	p, err := s.apiKey(ctx, auth.ScopeAdmin)
	if err != nil {
		return err
	}
	var in struct {
		Name  string `json:"name"`
		Scope string `json:"scope"`
	}
	if err := s.jsonBody(ctx, &in); err != nil {
		return err
	}
	scope, ok := auth.ParseScope(in.Scope)
	if !ok {
		return invalid("scope must be admin, read or write.")
	}
	if len(in.Name) > 100 {
		return invalid("name must be at most 100 characters.")
	}
	key, rec, err := s.deps.Auth.CreateKey(in.Name, scope, p.KeyID)
	if err != nil {
		return err
	}
	return created(ctx, keyView{KeyInfo: rec, Key: key})
}

func (s *Server) renameKey(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	var in struct {
		Name *string `json:"name"`
	}
	body, err := s.controlBody(ctx)
	if err != nil {
		return err
	}
	if err := codec.Unmarshal(body, &in); err != nil || in.Name == nil || len(*in.Name) > 100 {
		return invalid("Body must be {\"name\": \"...\"} with at most 100 characters.")
	}
	rec, err := s.deps.Auth.RenameKey(a[0], *in.Name)
	if err != nil {
		return notFoundAs(err, keyNotFound(a[0]))
	}
	return writeValue(ctx, fasthttp.StatusOK, rec)
}

// deleteKey answers the deleted key; the last admin key stays
// (auth.ErrLastAdminKey, 409).
func (s *Server) deleteKey(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	rec, err := s.deps.Auth.DeleteKey(a[0])
	if err != nil {
		return notFoundAs(err, keyNotFound(a[0]))
	}
	return writeValue(ctx, fasthttp.StatusOK, rec)
}

func (s *Server) rotateKey(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	key, rec, err := s.deps.Auth.RotateKey(a[0])
	if err != nil {
		return notFoundAs(err, keyNotFound(a[0]))
	}
	return created(ctx, keyView{KeyInfo: rec, Key: key})
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

const appNotFound = "Application not found"

func (s *Server) listApps(ctx *fasthttp.RequestCtx, _ []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	apps, err := s.deps.Auth.Apps()
	if err != nil {
		return err
	}
	out := make([]appView, 0, len(apps))
	for _, a := range apps {
		out = append(out, viewApp(a, ""))
	}
	return writeValue(ctx, fasthttp.StatusOK, out)
}

func (s *Server) createApp(ctx *fasthttp.RequestCtx, _ []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	var in struct {
		Name string `json:"name"`
	}
	body, err := s.controlBody(ctx)
	if err != nil {
		return err
	}
	if err := codec.Unmarshal(body, &in); err != nil || in.Name == "" || len(in.Name) > 100 {
		return invalid("Body must be {\"name\": \"...\"} with 1 to 100 characters.")
	}
	a, secret, err := s.deps.Auth.CreateApp(in.Name)
	if err != nil {
		return err
	}
	return created(ctx, viewApp(a, secret))
}

func (s *Server) deleteApp(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	if err := s.deps.Auth.DeleteApp(a[0]); err != nil {
		return notFoundAs(err, appNotFound)
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

func (s *Server) rotateApp(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	app, secret, err := s.deps.Auth.RotateSecret(a[0])
	if err != nil {
		return notFoundAs(err, appNotFound)
	}
	return writeValue(ctx, fasthttp.StatusOK, viewApp(app, secret))
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
		return "", invalid("Body must be {\"refresh_token\": \"rt-...\"}.")
	}
	return in.RefreshToken, nil
}

// refresh exchanges a refresh token for new tokens; one that is not valid
// is auth.ErrInvalidRefreshToken (401, counted as a bad credential).
func (s *Server) refresh(ctx *fasthttp.RequestCtx, _ []string) error {
	rt, err := s.refreshBody(ctx)
	if err != nil {
		return err
	}
	pair, _, err := s.deps.Auth.Refresh(rt)
	if err != nil {
		return err
	}
	return writeTokens(ctx, pair)
}

func (s *Server) revoke(ctx *fasthttp.RequestCtx, _ []string) error {
	rt, err := s.refreshBody(ctx)
	if err != nil {
		return err
	}
	if err := s.deps.Auth.Revoke(rt); err != nil {
		return notFoundAs(err, "Refresh token not found")
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}
