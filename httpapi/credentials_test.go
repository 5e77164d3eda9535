package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/app"
	"wearhouse/auth"
)

var (
	apiKeyRE    = regexp.MustCompile(`^sk-[0-9a-f]{32}$`)
	appIDRE     = regexp.MustCompile(`^app_[0-9a-f]{32}$`)
	appSecretRE = regexp.MustCompile(`^secret_[0-9a-f]{64}$`)
	refreshRE   = regexp.MustCompile(`^rt-[0-9a-f]{32}$`)
	// secretsRE finds every credential in an answer: keys, application
	// secrets, refresh tokens, JWTs and invitation codes (the code of a
	// "code" member).
	secretsRE = regexp.MustCompile(`sk-[0-9a-f]{32}|secret_[0-9a-f]{64}|rt-[0-9a-f]{32}|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|` +
		codeMember + `[A-HJ-NP-Z2-9]{8}"`)
)

// manualClock is the credential service's clock in these tests.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func newManualClock() *manualClock { return &manualClock{t: time.Now().UTC()} }

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// lockedBuffer collects the server's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// secretSet collects every credential the tests were shown.
type secretSet struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (s *secretSet) harvest(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	for _, m := range secretsRE.FindAll(b, -1) {
		if code, ok := bytes.CutPrefix(m, []byte(codeMember)); ok {
			m = code[:len(code)-1]
		}
		s.seen[string(m)] = true
	}
}

// add collects a secret that no answer body shows (a cookie, a password).
func (s *secretSet) add(secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[secret] = true
}

func (s *secretSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.seen))
	for k := range s.seen {
		out = append(out, k)
	}
	return out
}

// send sends a request with any answer type; headers come in pairs. The
// credentials in the answer are collected into secrets when it is set.
func send(t *testing.T, c *http.Client, base, method, path string, body []byte, secrets *secretSet, headers ...string) resp {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if secrets != nil {
		secrets.harvest(b)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// clientFrom is an HTTP client whose connections come from a given
// loopback address.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0") // probe that the address can be bound
	if err != nil {
		t.Skipf("cannot use %s: %v", ip, err)
	}
	ln.Close()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
}

// jwtClaims decodes the claims of a JWT without checking it.
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// credServer is a server for the credential tests, with a clock, a log,
// and a record of every credential it answered.
type credServer struct {
	*testServer
	clock   *manualClock
	logs    *lockedBuffer
	secrets *secretSet
	admin   string
}

func startCredServer(t *testing.T, tune func(*app.Options)) *credServer {
	t.Helper()
	cs := &credServer{clock: newManualClock(), logs: &lockedBuffer{}, secrets: &secretSet{}, admin: adminKey}
	cs.testServer = startServer(t, func(o *app.Options) {
		o.Auth.Now = cs.clock.Now
		o.Logger = zerolog.New(cs.logs)
		if tune != nil {
			tune(o)
		}
	})
	return cs
}

// call sends a request with an API key (empty: none).
func (cs *credServer) call(method, path, key string, body []byte, headers ...string) resp {
	cs.t.Helper()
	if key != "" {
		headers = append(headers, "X-Open-Wearables-API-Key", key)
	}
	return send(cs.t, cs.c, cs.base, method, path, body, cs.secrets, headers...)
}

func (cs *credServer) want(r resp, status int, detail string) {
	cs.t.Helper()
	if r.status != status {
		cs.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if detail != "" {
		if d := r.detail(cs.t); d != detail {
			cs.t.Errorf("detail %q, want %q", d, detail)
		}
	}
	if len(r.body) > 0 && r.header.Get("Content-Type") != "application/json" {
		cs.t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
	}
}

func (cs *credServer) createUser(id string) {
	cs.t.Helper()
	cs.want(cs.call("POST", "/api/v1/sdk/users/"+id+"/sync", cs.admin, fixture(cs.t, "malformed_payload_debug__valid.json")), 202, "")
}

func (cs *credServer) newKey(name, scope string) (string, map[string]any) {
	cs.t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "scope": scope})
	r := cs.call("POST", "/api/v1/developer/api-keys", cs.admin, body)
	cs.want(r, 201, "")
	m := r.json(cs.t)
	return m["key"].(string), m
}

func (cs *credServer) newApp(name string) (appID, secret string) {
	cs.t.Helper()
	r := cs.call("POST", "/api/v1/applications", cs.admin, []byte(`{"name":"`+name+`"}`))
	cs.want(r, 201, "")
	m := r.json(cs.t)
	return m["app_id"].(string), m["app_secret"].(string)
}

type tokens struct {
	Access  string `json:"access_token"`
	Type    string `json:"token_type"`
	Refresh string `json:"refresh_token"`
	Expires int    `json:"expires_in"`
}

func (cs *credServer) tokensOf(r resp) tokens {
	cs.t.Helper()
	cs.want(r, 200, "")
	var tk tokens
	if err := json.Unmarshal(r.body, &tk); err != nil {
		cs.t.Fatal(err)
	}
	return tk
}

func (cs *credServer) mintApp(user, appID, secret string) tokens {
	cs.t.Helper()
	body, _ := json.Marshal(map[string]string{"app_id": appID, "app_secret": secret})
	return cs.tokensOf(cs.call("POST", "/api/v1/users/"+user+"/token", "", body))
}

func (cs *credServer) syncAs(user, bearerToken string) resp {
	cs.t.Helper()
	return cs.call("POST", "/api/v1/sdk/users/"+user+"/sync", "", fixture(cs.t, "malformed_payload_debug__valid.json"),
		"Authorization", "Bearer "+bearerToken)
}

func refreshBody(rt string) []byte { return []byte(`{"refresh_token":"` + rt + `"}`) }

// codeMember is how an answer holds an invitation code.
const codeMember = `"code":"`

func TestAPIKeyRoutes(t *testing.T) {
	cs := startCredServer(t, nil)

	r := cs.call("GET", "/api/v1/developer/api-keys", cs.admin, nil)
	cs.want(r, 200, "")
	var list []map[string]any
	if err := json.Unmarshal(r.body, &list); err != nil || len(list) != 1 || list[0]["id"] != "key_admin_env" ||
		list[0]["scope"] != "admin" {
		t.Fatalf("initial list: %s", r.body)
	}

	cs.clock.Add(time.Second)
	readKey, readRec := cs.newKey("reader", "read")
	if !apiKeyRE.MatchString(readKey) || readRec["name"] != "reader" || readRec["scope"] != "read" ||
		readRec["created_by"] != "key_admin_env" || readRec["id"] == "" || readRec["created_at"] == nil {
		t.Errorf("created key: %v", readRec)
	}
	cs.clock.Add(time.Second)
	r = cs.call("POST", "/api/v1/developer/api-keys", cs.admin, nil)
	cs.want(r, 201, "")
	if m := r.json(t); m["name"] != "Default" || m["scope"] != "admin" || !apiKeyRE.MatchString(m["key"].(string)) {
		t.Errorf("key created without a body: %v", m)
	} else if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("the answer that shows a key may be cached: %q", r.header.Get("Cache-Control"))
	}
	cs.want(cs.call("POST", "/api/v1/developer/api-keys", cs.admin, []byte(`{"scope":"root"}`)), 400, "scope must be admin, read or write.")
	cs.want(cs.call("POST", "/api/v1/developer/api-keys", cs.admin, []byte(`{"name":"`+strings.Repeat("n", 101)+`"}`)), 400, "")
	cs.want(cs.call("POST", "/api/v1/developer/api-keys", cs.admin, []byte(`{"name":`)), 400, "")

	// The list never shows a key, newest first.
	r = cs.call("GET", "/api/v1/developer/api-keys", cs.admin, nil)
	cs.want(r, 200, "")
	list = nil
	if err := json.Unmarshal(r.body, &list); err != nil || len(list) != 3 {
		t.Fatalf("list: %s", r.body)
	}
	if list[1]["id"] != readRec["id"] || list[2]["id"] != "key_admin_env" {
		t.Errorf("not newest first: %s", r.body)
	}
	for _, k := range list {
		if _, ok := k["key"]; ok {
			t.Errorf("the list shows a key: %v", k)
		}
	}
	if secretsRE.Match(r.body) {
		t.Errorf("the list holds a credential: %s", r.body)
	}

	// The key works with its scope.
	cs.want(cs.call("GET", "/api/v1/users", readKey, nil), 200, "")
	cs.want(cs.call("GET", "/api/v1/developer/api-keys", readKey, nil), 403, "This route needs an API key with the admin scope.")

	id := readRec["id"].(string)
	r = cs.call("PATCH", "/api/v1/developer/api-keys/"+id, cs.admin, []byte(`{"name":"renamed"}`))
	cs.want(r, 200, "")
	if m := r.json(t); m["name"] != "renamed" || m["key"] != nil {
		t.Errorf("rename: %v", m)
	}
	cs.want(cs.call("PATCH", "/api/v1/developer/api-keys/"+id, cs.admin, []byte(`{}`)), 400, "")
	cs.want(cs.call("PATCH", "/api/v1/developer/api-keys/key_nope", cs.admin, []byte(`{"name":"x"}`)), 404,
		"Apikey with ID: key_nope not found.")

	// Rotation: a new key at once, the old one refused at once.
	r = cs.call("POST", "/api/v1/developer/api-keys/"+id+"/rotate", cs.admin, nil)
	cs.want(r, 201, "")
	rot := r.json(t)
	newKey, _ := rot["key"].(string)
	if !apiKeyRE.MatchString(newKey) || newKey == readKey || rot["id"] == id || rot["name"] != "renamed" || rot["scope"] != "read" {
		t.Fatalf("rotated: %v", rot)
	}
	cs.want(cs.call("GET", "/api/v1/users", readKey, nil), 401, "Invalid or missing API key")
	cs.want(cs.call("GET", "/api/v1/users", newKey, nil), 200, "")
	cs.want(cs.call("POST", "/api/v1/developer/api-keys/"+id+"/rotate", cs.admin, nil), 404, "Apikey with ID: "+id+" not found.")

	// Deletion answers the deleted key (as Open Wearables, without the key).
	newID := rot["id"].(string)
	r = cs.call("DELETE", "/api/v1/developer/api-keys/"+newID, cs.admin, nil)
	cs.want(r, 200, "")
	if m := r.json(t); m["id"] != newID || m["key"] != nil {
		t.Errorf("delete answered %v", m)
	}
	cs.want(cs.call("GET", "/api/v1/users", newKey, nil), 401, "Invalid or missing API key")
	cs.want(cs.call("DELETE", "/api/v1/developer/api-keys/"+newID, cs.admin, nil), 404, "Apikey with ID: "+newID+" not found.")

	// The last admin key stays.
	r = cs.call("GET", "/api/v1/developer/api-keys", cs.admin, nil)
	list = nil
	_ = json.Unmarshal(r.body, &list)
	for _, k := range list {
		if k["id"] != "key_admin_env" {
			cs.want(cs.call("DELETE", "/api/v1/developer/api-keys/"+k["id"].(string), cs.admin, nil), 200, "")
		}
	}
	cs.want(cs.call("DELETE", "/api/v1/developer/api-keys/key_admin_env", cs.admin, nil), 409,
		"The last admin key cannot be deleted; create another admin key first.")
	cs.want(cs.call("GET", "/api/v1/developer/api-keys", cs.admin, nil), 200, "")

	// Without the admin scope nothing is managed.
	writeKey, _ := cs.newKey("w", "write")
	for _, c := range []struct {
		key    string
		status int
	}{{"", 401}, {"sk-00000000000000000000000000000000", 401}, {writeKey, 403}} {
		for _, rq := range []struct{ method, path string }{
			{"GET", "/api/v1/developer/api-keys"}, {"POST", "/api/v1/developer/api-keys"},
			{"PATCH", "/api/v1/developer/api-keys/key_admin_env"}, {"DELETE", "/api/v1/developer/api-keys/key_admin_env"},
			{"POST", "/api/v1/developer/api-keys/key_admin_env/rotate"},
		} {
			r := cs.call(rq.method, rq.path, c.key, []byte(`{"name":"x"}`))
			if r.status != c.status {
				t.Errorf("%s %s with key %.6q: %d, want %d", rq.method, rq.path, c.key, r.status, c.status)
			}
		}
	}
	cs.want(cs.call("GET", "/api/v1/users", cs.admin, nil), 200, "")
}

func TestApplicationRoutesAndMinting(t *testing.T) {
	cs := startCredServer(t, nil)
	cs.createUser("alice")
	cs.createUser("bob")

	r := cs.call("POST", "/api/v1/applications", cs.admin, []byte(`{"name":"backend"}`))
	cs.want(r, 201, "")
	created := r.json(t)
	appID, _ := created["app_id"].(string)
	secret, _ := created["app_secret"].(string)
	if !appIDRE.MatchString(appID) || !appSecretRE.MatchString(secret) || created["name"] != "backend" ||
		created["id"] == nil || created["created_at"] == nil || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("created application: %s (Cache-Control %q)", r.body, r.header.Get("Cache-Control"))
	}
	for _, body := range []string{"", `{}`, `{"name":""}`, `{"name":"` + strings.Repeat("x", 101) + `"}`, `[`} {
		cs.want(cs.call("POST", "/api/v1/applications", cs.admin, []byte(body)), 400, "")
	}
	r = cs.call("GET", "/api/v1/applications", cs.admin, nil)
	cs.want(r, 200, "")
	if bytes.Contains(r.body, []byte("app_secret")) || bytes.Contains(r.body, []byte(secret)) || !bytes.Contains(r.body, []byte(appID)) {
		t.Errorf("application list: %s", r.body)
	}

	// Minting with the application's credentials.
	tk := cs.mintApp("alice", appID, secret)
	if tk.Type != "bearer" || tk.Expires != 3600 || !refreshRE.MatchString(tk.Refresh) {
		t.Errorf("token answer %+v", tk)
	}
	c := jwtClaims(t, tk.Access)
	if c["sub"] != "alice" || c["scope"] != "sdk" || c["app_id"] != appID {
		t.Errorf("claims %v", c)
	}
	cs.want(cs.syncAs("alice", tk.Access), 202, "")
	cs.want(cs.syncAs("bob", tk.Access), 403, "Token does not match user_id")

	// Minting with an admin key.
	r = cs.call("POST", "/api/v1/users/bob/token", cs.admin, nil)
	admTok := cs.tokensOf(r)
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("token answer may be cached")
	}
	if c := jwtClaims(t, admTok.Access); c["sub"] != "bob" || c["app_id"] != "admin:key_admin_env" {
		t.Errorf("admin-minted claims %v", c)
	}
	cs.want(cs.syncAs("bob", admTok.Access), 202, "")

	// Refusals.
	mint := func(user, key, body string) resp {
		return cs.call("POST", "/api/v1/users/"+user+"/token", key, []byte(body))
	}
	cred := func(id, sec string) string { return `{"app_id":"` + id + `","app_secret":"` + sec + `"}` }
	cs.want(mint("nobody", cs.admin, ""), 404, "User with ID: nobody not found.")
	cs.want(mint("nobody", "", cred(appID, secret)), 404, "User with ID: nobody not found.")
	wrong := secret[:len(secret)-1] + map[bool]string{true: "1", false: "0"}[strings.HasSuffix(secret, "0")]
	cs.want(mint("alice", "", cred(appID, wrong)), 401, "Invalid app credentials")
	cs.want(mint("alice", "", cred("app_00000000000000000000000000000000", secret)), 401, "Invalid app credentials")
	// Body credentials win over the key, as in Open Wearables.
	cs.want(mint("alice", cs.admin, cred(appID, "secret_wrong")), 401, "Invalid app credentials")
	cs.want(mint("al ice", "", cred(appID, secret)), 400, "")
	readKey, _ := cs.newKey("r", "read")
	writeKey, _ := cs.newKey("w", "write")
	cs.want(mint("alice", readKey, ""), 403, "")
	cs.want(mint("alice", writeKey, ""), 403, "")
	cs.want(mint("alice", "sk-00000000000000000000000000000000", ""), 401, "Invalid or missing API key")
	// Neither credential. Open Wearables answers 400 here; SPEC §1 asks
	// 401 for missing credentials, which the server answers.
	neither := "Either app credentials (app_id, app_secret) or an admin API key is required"
	cs.want(mint("alice", "", ""), 401, neither)
	cs.want(mint("alice", "", `{"app_id":"`+appID+`"}`), 401, neither)
	cs.want(mint("alice", "", `{"app_secret":"`+secret+`"}`), 401, neither)
	cs.want(cs.call("POST", "/api/v1/users/alice/token", "", nil, "Authorization", "Bearer "+tk.Access), 401, neither)
	cs.want(mint("alice", "", `{"app_id":`), 400, "")

	// Rotating the secret: a new secret shown once; the old secret, the
	// tokens and the refresh tokens minted with it stop at once.
	r = cs.call("POST", "/api/v1/applications/"+appID+"/rotate-secret", cs.admin, nil)
	cs.want(r, 200, "")
	rot := r.json(t)
	secret2, _ := rot["app_secret"].(string)
	if !appSecretRE.MatchString(secret2) || secret2 == secret || rot["app_id"] != appID {
		t.Fatalf("rotated: %s", r.body)
	}
	cs.want(mint("alice", "", cred(appID, secret)), 401, "Invalid app credentials")
	cs.want(cs.syncAs("alice", tk.Access), 401, "Authentication required: provide SDK token or API key")
	cs.want(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(tk.Refresh)), 401, "Invalid or revoked refresh token")
	tk2 := cs.mintApp("alice", appID, secret2)
	cs.want(cs.syncAs("alice", tk2.Access), 202, "")
	cs.want(cs.call("POST", "/api/v1/applications/app_nope/rotate-secret", cs.admin, nil), 404, "Application not found")

	// Deleting the application: its tokens stop at once.
	cs.want(cs.call("DELETE", "/api/v1/applications/"+appID, cs.admin, nil), 204, "")
	cs.want(cs.syncAs("alice", tk2.Access), 401, "")
	cs.want(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(tk2.Refresh)), 401, "Invalid or revoked refresh token")
	cs.want(mint("alice", "", cred(appID, secret2)), 401, "Invalid app credentials")
	cs.want(cs.call("DELETE", "/api/v1/applications/"+appID, cs.admin, nil), 404, "Application not found")
	cs.want(cs.call("POST", "/api/v1/applications/"+appID+"/rotate-secret", cs.admin, nil), 404, "Application not found")

	// A token minted with an admin key stops with the key.
	minter, minterRec := cs.newKey("minter", "admin")
	byKey := cs.tokensOf(cs.call("POST", "/api/v1/users/alice/token", minter, nil))
	if c := jwtClaims(t, byKey.Access); c["app_id"] != "admin:"+minterRec["id"].(string) {
		t.Errorf("app_id %v", c["app_id"])
	}
	cs.want(cs.syncAs("alice", byKey.Access), 202, "")
	cs.want(cs.call("DELETE", "/api/v1/developer/api-keys/"+minterRec["id"].(string), cs.admin, nil), 200, "")
	cs.want(cs.syncAs("alice", byKey.Access), 401, "")
	cs.want(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(byKey.Refresh)), 401, "")

	// Application management needs the admin scope.
	for _, c := range []struct {
		key    string
		status int
	}{{"", 401}, {readKey, 403}, {writeKey, 403}} {
		for _, rq := range []struct{ method, path string }{
			{"GET", "/api/v1/applications"}, {"POST", "/api/v1/applications"},
			{"DELETE", "/api/v1/applications/app_x"}, {"POST", "/api/v1/applications/app_x/rotate-secret"},
		} {
			if r := cs.call(rq.method, rq.path, c.key, []byte(`{"name":"x"}`)); r.status != c.status {
				t.Errorf("%s %s with key %.6q: %d, want %d", rq.method, rq.path, c.key, r.status, c.status)
			}
		}
	}
}

func TestRefreshAndRevokeRoutes(t *testing.T) {
	cs := startCredServer(t, func(o *app.Options) { o.Auth.RefreshTTL = 48 * time.Hour })
	cs.createUser("alice")
	appID, secret := cs.newApp("backend")
	first := cs.mintApp("alice", appID, secret)

	r := cs.call("POST", "/api/v1/token/refresh", "", refreshBody(first.Refresh))
	second := cs.tokensOf(r)
	if second.Refresh == first.Refresh || !refreshRE.MatchString(second.Refresh) || second.Type != "bearer" ||
		second.Expires != 3600 || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("refreshed: %s", r.body)
	}
	if c := jwtClaims(t, second.Access); c["sub"] != "alice" || c["app_id"] != appID || c["scope"] != "sdk" {
		t.Errorf("refreshed claims %v", c)
	}
	cs.want(cs.syncAs("alice", second.Access), 202, "")

	// The old refresh token is refused at once.
	r = cs.call("POST", "/api/v1/token/refresh", "", refreshBody(first.Refresh))
	cs.want(r, 401, "Invalid or revoked refresh token")
	if r.header.Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
	}
	cs.want(cs.call("POST", "/api/v1/token/refresh", "", refreshBody("rt-00000000000000000000000000000000")), 401,
		"Invalid or revoked refresh token")
	for _, body := range []string{"", "{}", `{"refresh_token":""}`, `{"refresh_token":7}`, "["} {
		cs.want(cs.call("POST", "/api/v1/token/refresh", "", []byte(body)), 400, "")
		cs.want(cs.call("POST", "/api/v1/token/revoke", "", []byte(body)), 400, "")
	}

	// Revocation.
	r = cs.call("POST", "/api/v1/token/revoke", "", refreshBody(second.Refresh))
	cs.want(r, 204, "")
	if len(r.body) != 0 {
		t.Errorf("204 with a body: %q", r.body)
	}
	cs.want(cs.call("POST", "/api/v1/token/revoke", "", refreshBody(second.Refresh)), 404, "Refresh token not found")
	cs.want(cs.call("POST", "/api/v1/token/revoke", "", refreshBody(first.Refresh)), 404, "Refresh token not found")
	cs.want(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(second.Refresh)), 401, "Invalid or revoked refresh token")

	// Expiry: an access token after its lifetime, a refresh token unused
	// for RefreshTTL; one used in time lives on.
	idle := cs.mintApp("alice", appID, secret)
	used := cs.mintApp("alice", appID, secret)
	cs.clock.Add(61 * time.Minute)
	cs.want(cs.syncAs("alice", used.Access), 401, "Authentication required: provide SDK token or API key")
	cs.clock.Add(40 * time.Hour)
	renewed := cs.tokensOf(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(used.Refresh)))
	cs.want(cs.syncAs("alice", renewed.Access), 202, "")
	cs.clock.Add(8 * time.Hour)
	cs.want(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(idle.Refresh)), 401, "Invalid or revoked refresh token")
	renewed = cs.tokensOf(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(renewed.Refresh)))

	// Deleting the user ends its refresh tokens.
	cs.want(cs.call("DELETE", "/api/v1/users/alice", cs.admin, nil), 200, "")
	cs.want(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(renewed.Refresh)), 401, "Invalid or revoked refresh token")
}

// TestNoSecretAtRest goes through every credential event over HTTP with a
// generated admin key, stops the server, and reads every file of the data
// directory and the server's log: no key, application secret, access token
// or refresh token may be in any of them (admin.key holds the admin key by
// design and is left out).
func TestNoSecretAtRest(t *testing.T) {
	cs := startCredServer(t, func(o *app.Options) { o.Auth.AdminKey = "" })
	b, err := os.ReadFile(filepath.Join(cs.dir, auth.AdminKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	cs.admin = strings.TrimSpace(string(b))
	cs.secrets.harvest(b)
	cs.createUser("alice")

	readKey, rec := cs.newKey("r", "read")
	cs.want(cs.call("GET", "/api/v1/users", readKey, nil), 200, "")
	cs.want(cs.call("POST", "/api/v1/developer/api-keys/"+rec["id"].(string)+"/rotate", cs.admin, nil), 201, "")
	_, rec = cs.newKey("w", "write")
	cs.want(cs.call("DELETE", "/api/v1/developer/api-keys/"+rec["id"].(string), cs.admin, nil), 200, "")
	appID, secret := cs.newApp("backend")
	tk := cs.mintApp("alice", appID, secret)
	cs.want(cs.syncAs("alice", tk.Access), 202, "")
	tk = cs.tokensOf(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(tk.Refresh)))
	cs.want(cs.call("POST", "/api/v1/token/revoke", "", refreshBody(tk.Refresh)), 204, "")
	cs.tokensOf(cs.call("POST", "/api/v1/users/alice/token", cs.admin, nil))
	r := cs.call("POST", "/api/v1/applications/"+appID+"/rotate-secret", cs.admin, nil)
	cs.want(r, 200, "")
	cs.mintApp("alice", appID, r.json(t)["app_secret"].(string))
	// Refused credentials are not written down either: a wrong key may be
	// a real one with a typo.
	wrongKey := "sk-5e1d0c2b9a8f7e6d5c4b3a2918070605"
	wrongSecret := "secret_" + strings.Repeat("4f3e2d1c", 8)
	wrongRefresh := "rt-a1b2c3d4e5f60718293a4b5c6d7e8f90"
	cs.want(cs.call("GET", "/api/v1/users", wrongKey, nil), 401, "")
	cs.want(cs.call("POST", "/api/v1/users/alice/token", "", []byte(`{"app_id":"`+appID+`","app_secret":"`+wrongSecret+`"}`)), 401, "")
	cs.want(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(wrongRefresh)), 401, "")
	cs.want(cs.call("POST", "/api/v1/token/revoke", "", refreshBody(wrongRefresh)), 404, "")
	cs.want(cs.syncAs("alice", tk.Access+"x"), 401, "")

	cs.stop()
	for _, ev := range []string{"credential.created", "credential.rotated", "credential.revoked", "credential.refused"} {
		if !bytes.Contains(cs.logs.Bytes(), []byte(ev)) {
			t.Errorf("the log has no %s event", ev)
		}
	}
	secrets := append(cs.secrets.list(), wrongKey, wrongSecret, wrongRefresh)
	assertNoSecretsAtRest(t, cs.dir, cs.logs.Bytes(), secrets, []string{appID, "alice"})
}

// assertNoSecretsAtRest reads every file under dir (but admin.key) and the
// log, and fails for each secret found in them, whole, as its random part,
// or as the bytes its random hex encodes. stored are values that are
// stored in the clear: each must be found, which shows the files were read.
func assertNoSecretsAtRest(t *testing.T, dir string, logs []byte, secrets, stored []string) {
	t.Helper()
	if len(secrets) < 5 {
		t.Fatalf("only %d secrets collected", len(secrets))
	}
	type needle struct {
		name string
		b    []byte
	}
	var needles []needle
	for _, s := range secrets {
		short := s
		if len(short) > 12 {
			short = short[:12] + "..."
		}
		needles = append(needles, needle{short, []byte(s)})
		if i := strings.IndexAny(s, "-_"); i > 0 && len(s)-i > 16 && !strings.HasPrefix(s, "eyJ") {
			rnd := s[i+1:]
			needles = append(needles, needle{short + " (random part)", []byte(rnd)})
			if raw, err := hex.DecodeString(rnd); err == nil {
				needles = append(needles, needle{short + " (random bytes)", raw})
			}
		}
		if strings.HasPrefix(s, "eyJ") { // the signature alone
			needles = append(needles, needle{short + " (signature)", []byte(s[strings.LastIndexByte(s, '.')+1:])})
		}
	}
	files := map[string][]byte{"<server log>": logs}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == auth.AdminKeyFile {
			return err
		}
		b, err := os.ReadFile(path)
		files[path] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("only %d files read", len(files))
	}
	for path, b := range files {
		for _, n := range needles {
			if bytes.Contains(b, n.b) {
				t.Errorf("%s holds secret %s", path, n.name)
			}
		}
	}
	for _, s := range stored {
		found := false
		for path, b := range files {
			found = found || (path != "<server log>" && bytes.Contains(b, []byte(s)))
		}
		if !found {
			t.Errorf("%q, stored in the clear, was not found in the files: the search cannot see the store", s)
		}
	}
	if !t.Failed() {
		t.Logf("%d secrets, %d files (and the log, if any): none found", len(secrets), len(files)-1)
	}
}

// TestSDKAuthPrecedence: on the SDK routes a valid token wins over an API
// key; an invalid token is ignored and the key decides (fact sheet §2.2).
func TestSDKAuthPrecedence(t *testing.T) {
	cs := startCredServer(t, nil)
	cs.createUser("alice")
	cs.createUser("bob")
	appID, secret := cs.newApp("backend")
	alice := cs.mintApp("alice", appID, secret)
	readKey, _ := cs.newKey("r", "read")
	body := fixture(t, "malformed_payload_debug__valid.json")
	post := func(user string, headers ...string) resp {
		return cs.call("POST", "/api/v1/sdk/users/"+user+"/sync", "", body, headers...)
	}
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	key := func(k string) []string { return []string{"X-Open-Wearables-API-Key", k} }

	// alice's token and the admin key, for bob: the token wins.
	cs.want(post("bob", append(bearer(alice.Access), key(cs.admin)...)...), 403, "Token does not match user_id")
	// alice's token and a read key, for alice: the token wins.
	cs.want(post("alice", append(bearer(alice.Access), key(readKey)...)...), 202, "")
	// An expired token and a read key: the key decides.
	cs.clock.Add(2 * time.Hour)
	cs.want(post("alice", append(bearer(alice.Access), key(readKey)...)...), 403,
		"This API key has the read scope and may not write data.")
	cs.want(post("alice", append(bearer(alice.Access), key(cs.admin)...)...), 202, "")
	// Credentials in the wrong header.
	fresh := cs.mintApp("alice", appID, secret)
	cs.want(post("alice", key(fresh.Access)...), 401, "Invalid or missing API key")
	cs.want(post("alice", bearer(cs.admin)...), 401, "Authentication required: provide SDK token or API key")
	cs.want(post("alice", "Authorization", "Basic "+fresh.Access), 401, "")
	cs.want(post("alice", "Authorization", "bearer "+fresh.Access), 202, "")
}

// TestSDKTokenUUIDCase: a token's sub and the path's user id are compared
// case-insensitively when both are UUIDs (SPEC §2), so the upper-case
// spelling must reach the same user, not a second one.
func TestSDKTokenUUIDCase(t *testing.T) {
	cs := startCredServer(t, nil)
	id := "5b0e1f3c-8d2a-4c71-9e4b-2f6a7d8c9e01"
	cs.createUser(id)
	appID, secret := cs.newApp("backend")
	tk := cs.mintApp(id, appID, secret)
	r := cs.syncAs(strings.ToUpper(id), tk.Access)
	if r.status == 403 {
		return // refused: the data cannot land elsewhere
	}
	cs.want(r, 202, "")
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(cs.call("GET", "/api/v1/users", cs.admin, nil).body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Errorf("an SDK token of user %s posting to /api/v1/sdk/users/%s/sync is accepted "+
			"(202) and the batch is stored under a second user record %q: the token check folds UUID case, the store does "+
			"not (users now: %v)", id, strings.ToUpper(id), strings.ToUpper(id), page.Items)
	}
}
