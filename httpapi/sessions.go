package httpapi

import (
	"errors"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
)

// Console sessions. A login (or the first admin's setup) sets the cookie
// sessionCookie: the session's random token, HttpOnly so that no script
// reads it, SameSite=Strict so that no other site's page sends it, Secure
// under TLS, Path=/ and no Max-Age (it ends with the browser, or sooner on
// the server: logout, the idle timeout, a password change). The JSON API
// takes the cookie where it takes an API key (apiKey): an admin account
// acts as an admin key, a viewer as a read key. A request that may change
// something (any method but GET and HEAD) must echo the session's CSRF
// token in csrfHeader; a cross-site form cannot, and SameSite=Strict would
// not have sent the cookie anyway.

const (
	sessionCookie = "wh_session"
	csrfHeader    = "X-CSRF-Token"
	// backgroundHeader marks a request the browser made on its own (the
	// overview's poll): it does not count as a use of the session, so an
	// unattended console still logs off after the idle time.
	backgroundHeader = "X-Wearhouse-Background"
)

// hasSession reports whether a request carries a session cookie.
func hasSession(ctx *fasthttp.RequestCtx) bool {
	return len(ctx.Request.Header.Cookie(sessionCookie)) > 0
}

var (
	errNoSession = unauthorized("Not logged in, or the session ended: log in again.")
	errCSRF      = forbidden("Missing or wrong " + csrfHeader + " header: requests that change something must carry the session's CSRF token.")
)

// session resolves the request's session cookie, or errNoSession.
func (s *Server) session(ctx *fasthttp.RequestCtx) (*auth.Session, error) {
	tok := ctx.Request.Header.Cookie(sessionCookie)
	if len(tok) == 0 || len(tok) > 128 {
		return nil, errNoSession
	}
	use := s.deps.Auth.Accounts.Session
	if len(ctx.Request.Header.Peek(backgroundHeader)) > 0 {
		use = s.deps.Auth.Accounts.PeekSession
	}
	sess, err := use(string(tok))
	if errors.Is(err, auth.ErrNoSession) {
		clearSessionCookie(ctx)
		return nil, errNoSession
	}
	return sess, err
}

// sessionPrincipal is the principal of the request's session, with its
// CSRF token checked when the method may change something.
func (s *Server) sessionPrincipal(ctx *fasthttp.RequestCtx) (*auth.Principal, error) {
	sess, err := s.session(ctx)
	if err != nil {
		return nil, err
	}
	if !ctx.IsGet() && !ctx.IsHead() && !sess.CheckCSRF(string(ctx.Request.Header.Peek(csrfHeader))) {
		return nil, errCSRF
	}
	return sessionOf(sess), nil
}

func sessionOf(sess *auth.Session) *auth.Principal {
	scope := auth.ScopeRead
	if sess.Account.Role == auth.RoleAdmin {
		scope = auth.ScopeAdmin
	}
	return &auth.Principal{Kind: auth.KindSession, KeyID: auth.ConsoleKeyID, Scope: scope, Account: sess.Account.Email}
}

func setSessionCookie(ctx *fasthttp.RequestCtx, token string) {
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(sessionCookie)
	c.SetValue(token)
	c.SetPath("/")
	c.SetHTTPOnly(true)
	c.SetSameSite(fasthttp.CookieSameSiteStrictMode)
	c.SetSecure(ctx.IsTLS())
	ctx.Response.Header.SetCookie(c)
}

func clearSessionCookie(ctx *fasthttp.RequestCtx) {
	c := fasthttp.AcquireCookie()
	defer fasthttp.ReleaseCookie(c)
	c.SetKey(sessionCookie)
	c.SetValue("")
	c.SetPath("/")
	c.SetHTTPOnly(true)
	c.SetSameSite(fasthttp.CookieSameSiteStrictMode)
	c.SetSecure(ctx.IsTLS())
	c.SetMaxAge(-1)
	ctx.Response.Header.SetCookie(c)
}

// sessionView is what the console learns of its session.
type sessionView struct {
	Email       string    `json:"email"`
	Role        auth.Role `json:"role"`
	CSRFToken   string    `json:"csrf_token"`
	IdleTimeout float64   `json:"idle_timeout_seconds"`
	ExpiresAt   time.Time `json:"expires_at"`
}

func (s *Server) viewSession(ctx *fasthttp.RequestCtx, sess *auth.Session) error {
	ctx.Response.Header.Set("Cache-Control", "no-store")
	return writeValue(ctx, fasthttp.StatusOK, sessionView{Email: sess.Account.Email, Role: sess.Account.Role,
		CSRFToken: sess.CSRF, IdleTimeout: s.deps.Auth.Accounts.SessionIdle().Seconds(), ExpiresAt: sess.Expires})
}

// startSession begins a session of an account that proved itself and
// answers it, with its cookie.
func (s *Server) startSession(ctx *fasthttp.RequestCtx, a *auth.Account) error {
	tok, sess, err := s.deps.Auth.Accounts.StartSession(a)
	if err != nil {
		return err
	}
	setSessionCookie(ctx, tok)
	noteCredential(ctx, sessionOf(sess))
	return s.viewSession(ctx, sess)
}

func (s *Server) sessionRoutes() []route {
	return []route{
		h("GET", "/api/v1/console/session", s.getSession),
		h("POST", "/api/v1/console/login", s.login),
		h("POST", "/api/v1/console/logout", s.logout),
		h("GET", "/api/v1/console/setup", s.setupState),
		h("POST", "/api/v1/console/setup", s.setup),
		h("POST", "/api/v1/console/password", s.changePassword),
		h("GET", "/api/v1/console/accounts", s.listAccounts),
		h("POST", "/api/v1/console/accounts", s.createAccount),
		h("DELETE", "/api/v1/console/accounts/{email}", s.deleteAccount),
	}
}

func (s *Server) getSession(ctx *fasthttp.RequestCtx, _ []string) error {
	sess, err := s.session(ctx)
	if err != nil {
		return err
	}
	noteCredential(ctx, sessionOf(sess))
	return s.viewSession(ctx, sess)
}

type loginBody struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// login is POST /console/login: an e-mail address and a password, throttled
// per account and per address (auth.LoginThrottledError, 429).
func (s *Server) login(ctx *fasthttp.RequestCtx, _ []string) error {
	var in loginBody
	if err := s.credentialJSON(ctx, &in); err != nil {
		return err
	}
	a, err := s.deps.Auth.Accounts.LoginFrom(ctx, s.clientAddr(ctx), in.Email, in.Password)
	if err != nil {
		if errors.Is(err, auth.ErrBadLogin) {
			s.log.Info().Str("event", "account.login_failed").Str("addr", s.clientAddr(ctx).String()).
				Msg("a console login was refused")
		}
		return err
	}
	return s.startSession(ctx, a)
}

// credentialJSON reads the small JSON body of a route whose credential is
// in it (login, setup).
func (s *Server) credentialJSON(ctx *fasthttp.RequestCtx, v any) error {
	body, err := s.credentialBody(ctx)
	if err != nil {
		return err
	}
	if err := codec.Unmarshal(body, v); err != nil {
		return invalid("Body must be a JSON object with the fields of this route.")
	}
	return nil
}

// logout ends the session, if there is one, and clears its cookie.
func (s *Server) logout(ctx *fasthttp.RequestCtx, _ []string) error {
	if tok := ctx.Request.Header.Cookie(sessionCookie); len(tok) > 0 && len(tok) <= 128 {
		sess, err := s.session(ctx)
		if err == nil {
			if !sess.CheckCSRF(string(ctx.Request.Header.Peek(csrfHeader))) {
				return errCSRF
			}
			if err := s.deps.Auth.Accounts.EndSession(string(tok)); err != nil {
				return err
			}
		}
	}
	clearSessionCookie(ctx)
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

func (s *Server) setupState(ctx *fasthttp.RequestCtx, _ []string) error {
	needed, err := s.deps.Auth.SetupNeeded()
	if err != nil {
		return err
	}
	return writeValue(ctx, fasthttp.StatusOK, setupState{needed})
}

// setup is POST /console/setup: the first admin account, made with the
// setup link's token (or an admin API key) while there is no account.
func (s *Server) setup(ctx *fasthttp.RequestCtx, _ []string) error {
	var in setupBody
	if err := s.credentialJSON(ctx, &in); err != nil {
		return err
	}
	a, err := s.deps.Auth.CompleteSetup(in.Token, in.Email, in.Password)
	if errors.Is(err, auth.ErrBadSetupToken) {
		if left, limited := s.deps.Auth.Limiter.Refuse(s.clientAddr(ctx)); limited {
			return &auth.ThrottledError{RetryAfter: left}
		}
	}
	if err != nil {
		return err
	}
	return s.startSession(ctx, a)
}

// changePassword is POST /console/password: a session's own password,
// with the current one. The account's sessions end, this one too.
func (s *Server) changePassword(ctx *fasthttp.RequestCtx, _ []string) error {
	p, err := s.sessionPrincipal(ctx)
	if err != nil {
		return err
	}
	var in passwordBody
	if err := s.credentialJSON(ctx, &in); err != nil {
		return err
	}
	if _, err := s.deps.Auth.Accounts.LoginFrom(ctx, s.clientAddr(ctx), p.Account, in.Current); err != nil {
		if errors.Is(err, auth.ErrBadLogin) {
			return forbidden("The current password is wrong.")
		}
		return err
	}
	if _, err := s.deps.Auth.Accounts.SetPassword(p.Account, in.New); err != nil {
		return err
	}
	s.log.Info().Str("event", "account.password_changed").Str("account", p.Account).Msg("an account changed its password; its sessions ended")
	clearSessionCookie(ctx)
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

func (s *Server) listAccounts(ctx *fasthttp.RequestCtx, _ []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	items, err := s.deps.Auth.Accounts.List()
	if err != nil {
		return err
	}
	if items == nil {
		items = []auth.Account{}
	}
	return writeValue(ctx, fasthttp.StatusOK, accountList{items})
}

func (s *Server) createAccount(ctx *fasthttp.RequestCtx, _ []string) error {
	p, err := s.apiKey(ctx, auth.ScopeAdmin)
	if err != nil {
		return err
	}
	var in accountBody
	if err := s.credentialJSON(ctx, &in); err != nil {
		return err
	}
	if in.Role == "" {
		in.Role = auth.RoleViewer
	}
	a, err := s.deps.Auth.Accounts.CreateAccount(in.Email, in.Password, in.Role)
	if err != nil {
		return err
	}
	s.log.Info().Str("event", "account.created").Str("role", string(a.Role)).Str("by", credentialLabel(p)).Msg("account created")
	return created(ctx, a)
}

func (s *Server) deleteAccount(ctx *fasthttp.RequestCtx, a []string) error {
	p, err := s.apiKey(ctx, auth.ScopeAdmin)
	if err != nil {
		return err
	}
	email, err := auth.NormalizeEmail(a[0])
	if err != nil {
		return notFound("No such account.")
	}
	if p.Kind == auth.KindSession && p.Account == email {
		return conflict("You cannot delete your own account; another admin can.")
	}
	if err := s.deps.Auth.Accounts.DeleteAccount(email); err != nil {
		return err
	}
	s.log.Info().Str("event", "account.deleted").Str("by", credentialLabel(p)).Msg("account deleted; its sessions ended")
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	return nil
}

// The bodies of the console routes (the OpenAPI document describes them).

type setupState struct {
	Needed bool `json:"needed"`
}

type setupBody struct {
	Token    string `json:"token" doc:"The token of the setup link, or an admin API key."`
	Email    string `json:"email"`
	Password string `json:"password" doc:"At least 10 characters."`
}

type passwordBody struct {
	Current string `json:"current_password"`
	New     string `json:"new_password" doc:"At least 10 characters."`
}

type accountBody struct {
	Email    string    `json:"email"`
	Password string    `json:"password"`
	Role     auth.Role `json:"role" doc:"admin or viewer"`
}

type accountList struct {
	Items []auth.Account `json:"items"`
}
