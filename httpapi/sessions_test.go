package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/app"
)

// consoleClient is a browser's view of the console: a session cookie and
// its CSRF token.
type consoleClient struct {
	t           *testing.T
	ts          *testServer
	cookie      string
	csrf        string
	lastCookies []*http.Cookie
}

func (c *consoleClient) do(method, path string, body []byte, extra ...string) resp {
	c.t.Helper()
	var hs []string
	if c.cookie != "" {
		hs = append(hs, "Cookie", "wh_session="+c.cookie)
	}
	if c.csrf != "" && method != "GET" {
		hs = append(hs, "X-CSRF-Token", c.csrf)
	}
	r := send(c.t, c.ts.c, c.ts.base, method, path, body, nil, append(hs, extra...)...)
	c.lastCookies = (&http.Response{Header: r.header}).Cookies()
	return r
}

// take keeps the session of a login or setup answer.
func (c *consoleClient) take(r resp) {
	c.t.Helper()
	if r.status != 200 {
		c.t.Fatalf("no session: %d %s", r.status, r.body)
	}
	for _, ck := range c.lastCookies {
		if ck.Name == "wh_session" {
			c.cookie = ck.Value
		}
	}
	c.csrf = r.json(c.t)["csrf_token"].(string)
}

func (c *consoleClient) login(email, password string) resp {
	c.t.Helper()
	return c.do("POST", "/api/v1/console/login", fmt.Appendf(nil, `{"email":%q,"password":%q}`, email, password))
}

func wantStatus(t *testing.T, r resp, status int, detail string) {
	t.Helper()
	if r.status != status || detail != "" && !bytes.Contains(r.body, []byte(detail)) {
		t.Fatalf("got %d %s, want %d %q", r.status, r.body, status, detail)
	}
}

// TestConsoleSetupLink: on first start the setup link's token (or the
// admin key) makes the first admin, once; the cookie is HttpOnly and
// SameSite=Strict, and the session works on the JSON API.
func TestConsoleSetupLink(t *testing.T) {
	logs := &lockedBuffer{}
	ts := startServer(t, func(o *app.Options) { o.Logger = zerolog.New(logs) })
	url, ok := ts.app.SetupURL(false)
	if !ok || !strings.Contains(string(logs.Bytes()), `"setup_url":"`+url+`"`) {
		t.Fatalf("setup link %q (%v) not logged: %s", url, ok, logs.Bytes())
	}
	token := url[strings.Index(url, "token=")+len("token="):]
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Errorf("setup link %q does not name the listener", url)
	}
	c := &consoleClient{t: t, ts: ts}
	wantStatus(t, c.do("GET", "/api/v1/console/setup", nil), 200, `"needed":true`)
	setup := func(tok, email string) resp {
		return c.do("POST", "/api/v1/console/setup", fmt.Appendf(nil, `{"token":%q,"email":%q,"password":"first-admin-pw"}`, tok, email))
	}
	wantStatus(t, setup("not-the-token", "a@example.com"), 403, "Wrong setup token")
	wantStatus(t, setup(token, "not an address"), 400, "e-mail address")
	r := setup(token, "Boss@Example.com")
	c.take(r)
	var ck *http.Cookie
	for _, x := range c.lastCookies {
		if x.Name == "wh_session" {
			ck = x
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure || ck.MaxAge != 0 {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP, no Max-Age", ck)
	}
	if m := r.json(t); m["email"] != "boss@example.com" || m["role"] != "admin" || m["idle_timeout_seconds"] != 900.0 {
		t.Fatalf("session: %v", m)
	}
	// Once: the token is spent, and so is any other way in.
	wantStatus(t, setup(token, "second@example.com"), 409, "set up already")
	wantStatus(t, setup(adminKey, "third@example.com"), 409, "")
	if _, ok := ts.app.SetupURL(false); ok {
		t.Error("a setup link is still offered once an account exists")
	}
	wantStatus(t, c.do("GET", "/api/v1/console/setup", nil), 200, `"needed":false`)
	// The session is an admin on the JSON API; changes need the CSRF token.
	wantStatus(t, c.do("GET", "/api/v1/developer/api-keys", nil), 200, "")
	csrf := c.csrf
	c.csrf = ""
	wantStatus(t, c.do("POST", "/api/v1/users", []byte(`{"external_user_id":"e1"}`)), 403, "CSRF")
	wantStatus(t, c.do("POST", "/api/v1/users", []byte(`{"external_user_id":"e1"}`), "X-CSRF-Token", "wrong"), 403, "CSRF")
	c.csrf = csrf
	wantStatus(t, c.do("POST", "/api/v1/users", []byte(`{"external_user_id":"e1"}`)), 201, "e1")
}

// TestConsoleSetupWithAdminKey: the admin key works as the setup token,
// for a server whose log was not kept.
func TestConsoleSetupWithAdminKey(t *testing.T) {
	ts := startServer(t, nil)
	c := &consoleClient{t: t, ts: ts}
	c.take(c.do("POST", "/api/v1/console/setup", fmt.Appendf(nil, `{"token":%q,"email":"a@example.com","password":"first-admin-pw"}`, adminKey)))
	wantStatus(t, c.do("GET", "/api/v1/console/session", nil), 200, "a@example.com")
}

// TestConsoleSessionsEnd: by logout, by the idle timeout, by a password
// change (every session of the account) and with the account.
func TestConsoleSessionsEnd(t *testing.T) {
	clock := newManualClock()
	ts := startServer(t, func(o *app.Options) { o.Auth.Now = clock.Now; o.Auth.SessionIdle = 10 * time.Minute })
	adminDo(t, ts, "POST", "/api/v1/console/accounts", []byte(`{"email":"ann@example.com","password":"ann-password-1","role":"admin"}`), 201)
	adminDo(t, ts, "POST", "/api/v1/console/accounts", []byte(`{"email":"vic@example.com","password":"vic-password-1","role":"viewer"}`), 201)
	browser := func(email, pw string) *consoleClient {
		c := &consoleClient{t: t, ts: ts}
		c.take(c.login(email, pw))
		return c
	}

	// Logout ends the session on the server, not only in the browser.
	a := browser("ann@example.com", "ann-password-1")
	old := a.cookie
	wantStatus(t, a.do("POST", "/api/v1/console/logout", nil), 204, "")
	a.cookie = old
	wantStatus(t, a.do("GET", "/api/v1/users", nil), 401, "session ended")

	// Idle: used within the timeout it lives on; unused past it, it ends.
	a = browser("ann@example.com", "ann-password-1")
	for range 3 {
		clock.Add(8 * time.Minute)
		wantStatus(t, a.do("GET", "/api/v1/console/session", nil), 200, "")
	}
	clock.Add(10*time.Minute + time.Second)
	wantStatus(t, a.do("GET", "/api/v1/console/session", nil), 401, "")

	// A background poll (the overview's) reads, but does not keep an
	// unattended session alive.
	a = browser("ann@example.com", "ann-password-1")
	for range 3 {
		clock.Add(3 * time.Minute)
		wantStatus(t, a.do("GET", "/api/v1/console/overview", nil, "X-Wearhouse-Background", "1"), 200, "")
	}
	clock.Add(time.Minute + time.Second) // 10 min 1 s after the login
	wantStatus(t, a.do("GET", "/api/v1/console/overview", nil, "X-Wearhouse-Background", "1"), 401, "")

	// A password change ends every session of the account, and needs the
	// current password.
	a1, a2 := browser("ann@example.com", "ann-password-1"), browser("ann@example.com", "ann-password-1")
	wantStatus(t, a1.do("POST", "/api/v1/console/password", []byte(`{"current_password":"wrong-password","new_password":"ann-password-2"}`)), 403, "current password")
	wantStatus(t, a1.do("POST", "/api/v1/console/password", []byte(`{"current_password":"ann-password-1","new_password":"short"}`)), 400, "at least 10")
	wantStatus(t, a1.do("POST", "/api/v1/console/password", []byte(`{"current_password":"ann-password-1","new_password":"ann-password-2"}`)), 204, "")
	wantStatus(t, a1.do("GET", "/api/v1/users", nil), 401, "")
	wantStatus(t, a2.do("GET", "/api/v1/users", nil), 401, "")
	wantStatus(t, a2.login("ann@example.com", "ann-password-1"), 401, "Wrong e-mail address or password")
	a = browser("ann@example.com", "ann-password-2")

	// A viewer reads and never changes; it may not manage accounts.
	v := browser("vic@example.com", "vic-password-1")
	wantStatus(t, v.do("GET", "/api/v1/users", nil), 200, "")
	wantStatus(t, v.do("POST", "/api/v1/users", []byte(`{"external_user_id":"x"}`)), 403, "read scope")
	wantStatus(t, v.do("GET", "/api/v1/console/accounts", nil), 403, "admin account")
	wantStatus(t, v.do("DELETE", "/api/v1/console/accounts/ann@example.com", nil), 403, "")

	// An admin may not delete itself, nor the last admin; deleting an
	// account ends its sessions.
	wantStatus(t, a.do("DELETE", "/api/v1/console/accounts/ann@example.com", nil), 409, "your own account")
	wantStatus(t, a.do("DELETE", "/api/v1/console/accounts/vic@example.com", nil), 204, "")
	wantStatus(t, v.do("GET", "/api/v1/users", nil), 401, "")
	if r := adminDo(t, ts, "GET", "/api/v1/console/accounts", nil, 200); bytes.Contains(r.body, []byte("vic@")) || !bytes.Contains(r.body, []byte("ann@")) {
		t.Fatalf("accounts: %s", r.body)
	}
	r := send(t, ts.c, ts.base, "DELETE", "/api/v1/console/accounts/ann@example.com", nil, nil, "X-Open-Wearables-API-Key", adminKey)
	wantStatus(t, r, 409, "last admin")
}

// TestConsoleLoginThrottle: past 10 wrong passwords for an account in 15
// minutes its logins are refused, right password or not, while another
// account from the same address still logs in; past 30 from an address,
// that address is refused. The windows end.
func TestConsoleLoginThrottle(t *testing.T) {
	clock := newManualClock()
	ts := startServer(t, func(o *app.Options) { o.Auth.Now = clock.Now })
	for _, e := range []string{"a", "b"} {
		adminDo(t, ts, "POST", "/api/v1/console/accounts", fmt.Appendf(nil, `{"email":"%s@example.com","password":"right-password","role":"viewer"}`, e), 201)
	}
	c := &consoleClient{t: t, ts: ts}
	for i := range 10 {
		if r := c.login("a@example.com", "wrong-password"); r.status != 401 {
			t.Fatalf("wrong password %d: %d %s", i, r.status, r.body)
		}
	}
	r := c.login("a@example.com", "right-password")
	wantStatus(t, r, 429, "Too many failed logins")
	if ra := r.header.Get("Retry-After"); ra != "900" {
		t.Errorf("Retry-After %q, want 900", ra)
	}
	wantStatus(t, c.login("b@example.com", "right-password"), 200, "")
	clock.Add(15 * time.Minute)
	wantStatus(t, c.login("a@example.com", "right-password"), 200, "")

	// The address: 30 wrong passwords over many accounts.
	for i := range 30 {
		if r := c.login(fmt.Sprintf("nobody%d@example.com", i), "wrong-password"); r.status != 401 {
			t.Fatalf("wrong login %d: %d %s", i, r.status, r.body)
		}
	}
	wantStatus(t, c.login("b@example.com", "right-password"), 429, "")
	clock.Add(15 * time.Minute)
	wantStatus(t, c.login("b@example.com", "right-password"), 200, "")
}

// TestConsolePages: the shell at every page address and the assets carry
// the strict policy and no framing; assets are gzipped and revalidated;
// / leads to the console.
func TestConsolePages(t *testing.T) {
	ts := startServer(t, nil)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r := send(t, noFollow, ts.base, "GET", "/", nil, nil)
	if r.status != 302 || r.header.Get("Location") != "/console/" {
		t.Fatalf("GET /: %d %v", r.status, r.header)
	}
	for _, p := range []string{"/console", "/console/", "/console/users", "/console/users/u-1", "/console/credentials", "/setup?token=x"} {
		r := send(t, ts.c, ts.base, "GET", p, nil, nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !bytes.Contains(r.body, []byte("/console/assets/app.js")) {
			t.Fatalf("GET %s: %d %s %.80q", p, r.status, r.header.Get("Content-Type"), r.body)
		}
		csp := r.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP %q allows unsafe sources", p, csp)
		}
		if r.header.Get("X-Frame-Options") != "DENY" || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: X-Frame-Options %q, Cache-Control %q", p, r.header.Get("X-Frame-Options"), r.header.Get("Cache-Control"))
		}
	}
	wantStatus(t, send(t, ts.c, ts.base, "GET", "/console/nothing", nil, nil), 404, "")
	wantStatus(t, send(t, ts.c, ts.base, "GET", "/console/assets/..%2findex.html", nil, nil), 400, "")
	wantStatus(t, send(t, ts.c, ts.base, "GET", "/console/assets/none.js", nil, nil), 404, "")

	// An asset, gzipped on request, then 304 by its ETag.
	tr := &http.Transport{DisableCompression: true}
	raw := &http.Client{Transport: tr}
	req, _ := http.NewRequest("GET", ts.base+"/console/assets/NOTICE.md", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := raw.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	zb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("ETag") == "" {
		t.Fatalf("asset: %v", res.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(zb))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !bytes.Contains(plain, []byte("vendored")) {
		t.Fatalf("gzipped asset: %q", plain)
	}
	req, _ = http.NewRequest("GET", ts.base+"/console/assets/NOTICE.md", nil)
	req.Header.Set("If-None-Match", res.Header.Get("ETag"))
	res2, err := raw.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != 304 {
		t.Fatalf("revalidation: %d", res2.StatusCode)
	}
}

// TestConsoleOverview: the figures come from the server's state.
func TestConsoleOverview(t *testing.T) {
	ts := startServer(t, func(o *app.Options) { o.Compactor.Paused = false })
	body := fixture(t, "apple_sdk_import__sample_sdk_payload.json")
	for _, u := range []string{"ov-1", "ov-2"} {
		r := send(t, ts.c, ts.base, "POST", "/api/v1/sdk/users/"+u+"/sync", body, nil, "X-Open-Wearables-API-Key", adminKey)
		wantStatus(t, r, 202, "")
	}
	ts.indexed()
	r := adminDo(t, ts, "GET", "/api/v1/console/overview", nil, 200)
	m := r.json(t)
	disk := m["disk"].(map[string]any)
	if m["users"] != 2.0 || m["phones_24h"] != 2.0 || disk["total_bytes"].(float64) < disk["free_bytes"].(float64) ||
		disk["reserve_bytes"] != float64(512<<20) {
		t.Fatalf("overview: %s", r.body)
	}
	if comp := m["compactor"].(map[string]any); comp["running"] != true || comp["lag_batches"] != 0.0 {
		t.Fatalf("overview compactor: %s", r.body)
	}
}

// adminDo sends a request with the admin key and wants a status.
func adminDo(t *testing.T, ts *testServer, method, path string, body []byte, want int) resp {
	t.Helper()
	r := send(t, ts.c, ts.base, method, path, body, nil, "X-Open-Wearables-API-Key", adminKey)
	if r.status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, want)
	}
	return r
}
