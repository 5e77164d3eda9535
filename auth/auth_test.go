package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"

	"wearhouse/pebblestore"
)

// testClock is a clock the tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a log sink that the service may write from several
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const testAdminKey = "sk-0123456789abcdef0123456789abcdef"

// fixture is a credential service over a store in a temp directory.
type fixture struct {
	t     testing.TB
	dir   string
	store *pebblestore.Store
	svc   *Service
	clock *testClock
	logs  *syncBuffer
	opts  Options
}

// newFixture opens a store and a service; tune may change the options.
func newFixture(t testing.TB, tune func(*Options)) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := pebblestore.Open(pebblestore.Options{Dir: dir, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, dir: dir, store: st, clock: newClock(), logs: &syncBuffer{}}
	f.opts = Options{
		DataDir: dir, AdminKey: testAdminKey, Announce: io.Discard,
		Logger: zerolog.New(f.logs), Now: f.clock.Now,
	}
	if tune != nil {
		tune(&f.opts)
	}
	f.svc = f.open()
	return f
}

// open opens a (new) service over the fixture's store, as a restart does.
func (f *fixture) open() *Service {
	f.t.Helper()
	s, err := Open(f.store, f.opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f *fixture) user(id string) *pebblestore.User {
	f.t.Helper()
	b := f.store.NewBatch()
	u, err := b.CreateUser(id, f.clock.Now(), nil)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		f.t.Fatal(err)
	}
	return u
}

func (f *fixture) app(name string) (*App, string) {
	f.t.Helper()
	a, secret, err := f.svc.CreateApp(name)
	if err != nil {
		f.t.Fatal(err)
	}
	return a, secret
}

// appToken registers the application "app" and mints an SDK token of it
// for user, creating the user first when there is none. It returns the
// application, its secret and the token pair.
func (f *fixture) appToken(user string) (*App, string, *TokenPair) {
	f.t.Helper()
	app, secret := f.app("app")
	return app, secret, f.mint(user, app.AppID, app.Generation)
}

// mint mints an SDK token, creating its user first when there is none.
func (f *fixture) mint(user, appID string, gen int) *TokenPair {
	f.t.Helper()
	if _, err := f.store.User(user); errors.Is(err, pebblestore.ErrNotFound) {
		f.user(user)
	}
	p, err := f.svc.MintSDKToken(user, appID, gen)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) key(name string, scope Scope) (string, *KeyInfo) {
	f.t.Helper()
	k, rec, err := f.svc.CreateKey(name, scope, "key_admin_env")
	if err != nil {
		f.t.Fatal(err)
	}
	return k, rec
}

var (
	keyRE     = regexp.MustCompile(`^sk-[0-9a-f]{32}$`)
	appIDRE   = regexp.MustCompile(`^app_[0-9a-f]{32}$`)
	secretRE  = regexp.MustCompile(`^secret_[0-9a-f]{64}$`)
	refreshRE = regexp.MustCompile(`^rt-[0-9a-f]{32}$`)
)

func TestParseScope(t *testing.T) {
	for in, want := range map[string]Scope{"": ScopeAdmin, "admin": ScopeAdmin, "read": ScopeRead, "write": ScopeWrite} {
		if got, ok := ParseScope(in); !ok || got != want {
			t.Errorf("ParseScope(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"Admin", "READ", "sdk", "all", " read", "read,write"} {
		if _, ok := ParseScope(in); ok {
			t.Errorf("ParseScope(%q) accepted", in)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := []func(*Options){
		func(o *Options) { o.AdminKey = "short" },
		func(o *Options) { o.TokenTTL = time.Second },
		func(o *Options) { o.RefreshTTL = time.Minute },
		func(o *Options) { o.BadCredentials = -1 },
		func(o *Options) { o.BadCredentialWindow = time.Millisecond },
	}
	for i, tune := range bad {
		o := Options{}
		tune(&o)
		o.EnsureDefaults()
		if o.Validate() == nil {
			t.Errorf("case %d: accepted %+v", i, o)
		}
	}
	o := Options{}
	o.EnsureDefaults()
	if err := o.Validate(); err != nil || o.TokenTTL != time.Hour || o.RefreshTTL != 90*24*time.Hour {
		t.Errorf("defaults: %v %+v", err, o)
	}
}

func TestAdminKeyCreatedOnFirstStartOnly(t *testing.T) {
	var announce bytes.Buffer
	f := newFixture(t, func(o *Options) { o.AdminKey, o.Announce = "", &announce })
	b, err := os.ReadFile(filepath.Join(f.dir, AdminKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(b))
	if !keyRE.MatchString(key) {
		t.Fatalf("admin.key holds %q", b)
	}
	if fi, err := os.Stat(filepath.Join(f.dir, AdminKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin.key mode: %v %v", fi.Mode(), err)
	}
	if !strings.Contains(announce.String(), key) {
		t.Errorf("the new admin key was not announced: %q", announce.String())
	}
	p, err := f.svc.APIKey(key)
	if err != nil || p.Scope != ScopeAdmin || p.Kind != KindAPIKey {
		t.Fatalf("admin key: %+v %v", p, err)
	}
	if strings.Contains(f.logs.String(), key) {
		t.Errorf("the admin key was logged")
	}

	// A restart neither creates nor announces another key.
	announce.Reset()
	s2 := f.open()
	if announce.Len() != 0 {
		t.Errorf("announced again: %q", announce.String())
	}
	keys, err := s2.Keys()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys after restart: %v %v", keys, err)
	}
	if _, err := s2.APIKey(key); err != nil {
		t.Errorf("admin key after restart: %v", err)
	}
}

func TestAPIKeyLifecycle(t *testing.T) {
	f := newFixture(t, nil)
	s := f.svc

	f.clock.Add(time.Second)
	readKey, readRec := f.key("reader", ScopeRead)
	f.clock.Add(time.Second)
	writeKey, writeRec := f.key("", ScopeWrite)
	for _, k := range []string{readKey, writeKey} {
		if !keyRE.MatchString(k) {
			t.Errorf("key %q is not sk- and 32 hex", k)
		}
	}
	if writeRec.Name != "Default" || writeRec.CreatedBy != "key_admin_env" || writeRec.ID == readRec.ID {
		t.Errorf("write key record %+v", writeRec)
	}
	for k, want := range map[string]*KeyInfo{readKey: readRec, writeKey: writeRec} {
		p, err := s.APIKey(k)
		if err != nil || p.KeyID != want.ID || p.Scope != want.Scope || p.Kind != KindAPIKey {
			t.Errorf("APIKey(%s): %+v %v", want.Name, p, err)
		}
	}

	keys, err := s.Keys()
	if err != nil || len(keys) != 3 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	if keys[0].ID != writeRec.ID || keys[1].ID != readRec.ID || keys[2].ID != "key_admin_env" {
		t.Errorf("not newest first: %s %s %s", keys[0].ID, keys[1].ID, keys[2].ID)
	}

	if rec, err := s.RenameKey(readRec.ID, "renamed"); err != nil || rec.Name != "renamed" || rec.Scope != ScopeRead {
		t.Errorf("rename: %+v %v", rec, err)
	}
	if _, err := s.RenameKey("key_nope", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("rename unknown: %v", err)
	}
	if p, err := s.APIKey(readKey); err != nil || p.Scope != ScopeRead {
		t.Errorf("key after rename: %+v %v", p, err)
	}

	// Rotation: the old key stops at once, the new one has the same name
	// and scope under a new id.
	newKey, rotated, err := s.RotateKey(readRec.ID)
	if err != nil || !keyRE.MatchString(newKey) || newKey == readKey {
		t.Fatalf("rotate: %q %v", newKey, err)
	}
	if rotated.ID == readRec.ID || rotated.Name != "renamed" || rotated.Scope != ScopeRead {
		t.Errorf("rotated record %+v", rotated)
	}
	if _, err := s.APIKey(readKey); !errors.Is(err, ErrInvalidAPIKey) {
		t.Errorf("old key after rotation: %v", err)
	}
	if p, err := s.APIKey(newKey); err != nil || p.KeyID != rotated.ID {
		t.Errorf("new key: %+v %v", p, err)
	}
	for _, op := range []func(string) error{
		func(id string) error { _, err := s.RenameKey(id, "x"); return err },
		func(id string) error { _, _, err := s.RotateKey(id); return err },
		func(id string) error { _, err := s.DeleteKey(id); return err },
	} {
		if err := op(readRec.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("operation on the rotated-away id: %v", err)
		}
	}

	if rec, err := s.DeleteKey(writeRec.ID); err != nil || rec.ID != writeRec.ID {
		t.Fatalf("delete: %+v %v", rec, err)
	}
	if _, err := s.APIKey(writeKey); !errors.Is(err, ErrInvalidAPIKey) {
		t.Errorf("deleted key: %v", err)
	}
	if _, err := s.DeleteKey(writeRec.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}

	// Only the hash is stored: no record holds the key.
	if err := f.store.APIKeys(func(h [32]byte, v []byte) error {
		if bytes.Contains(v, []byte("sk-")) {
			t.Errorf("a key record holds a key: %s", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.APIKey(sha256.Sum256([]byte(newKey))); err != nil {
		t.Errorf("the key is not stored under its SHA-256: %v", err)
	}

	// A restart keeps what was done.
	s2 := f.open()
	if _, err := s2.APIKey(readKey); err == nil {
		t.Errorf("rotated key alive after restart")
	}
	if _, err := s2.APIKey(newKey); err != nil {
		t.Errorf("new key after restart: %v", err)
	}
}

func TestAPIKeyRefusals(t *testing.T) {
	f := newFixture(t, nil)
	for _, raw := range []string{"", "sk-", testAdminKey + " ", " " + testAdminKey, strings.ToUpper(testAdminKey),
		testAdminKey[:len(testAdminKey)-1], strings.Repeat("a", 300), testAdminKey + "\x00"} {
		if p, err := f.svc.APIKey(raw); !errors.Is(err, ErrInvalidAPIKey) {
			t.Errorf("APIKey(%q) = %+v, %v", raw, p, err)
		}
	}
}

func TestLastAdminKeyCannotBeDeleted(t *testing.T) {
	f := newFixture(t, nil)
	s := f.svc
	_, readRec := f.key("r", ScopeRead)
	if _, err := s.DeleteKey("key_admin_env"); !errors.Is(err, ErrLastAdminKey) {
		t.Fatalf("deleting the only admin key: %v", err)
	}
	if _, err := s.APIKey(testAdminKey); err != nil {
		t.Fatalf("the admin key was lost: %v", err)
	}
	// Rotating the last admin key is fine: there is still one after.
	rotated, rec, err := s.RotateKey("key_admin_env")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteKey(rec.ID); !errors.Is(err, ErrLastAdminKey) {
		t.Errorf("deleting the rotated last admin key: %v", err)
	}
	second, secondRec := f.key("second admin", ScopeAdmin)
	if _, err := s.DeleteKey(rec.ID); err != nil {
		t.Fatalf("deleting one of two admin keys: %v", err)
	}
	if _, err := s.APIKey(rotated); err == nil {
		t.Errorf("deleted admin key still works")
	}
	if _, err := s.DeleteKey(secondRec.ID); !errors.Is(err, ErrLastAdminKey) {
		t.Errorf("deleting the new last admin key: %v", err)
	}
	if _, err := s.APIKey(second); err != nil {
		t.Errorf("last admin key: %v", err)
	}
	// Other scopes never count.
	if _, err := s.DeleteKey(readRec.ID); err != nil {
		t.Errorf("deleting a read key: %v", err)
	}
}

// TestLastAdminKeyConcurrentDeletes deletes the two admin keys at the same
// time: one delete must be refused, or nobody could manage the server.
func TestLastAdminKeyConcurrentDeletes(t *testing.T) {
	lost := 0
	const rounds = 10
	for i := 0; i < rounds; i++ {
		f := newFixture(t, nil)
		_, rec := f.key("second admin", ScopeAdmin)
		var wg sync.WaitGroup
		for _, id := range []string{"key_admin_env", rec.ID} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = f.svc.DeleteKey(id)
			}()
		}
		wg.Wait()
		keys, err := f.svc.Keys()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == 0 {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("two concurrent deletes of the two admin keys left no admin key in %d of %d rounds: "+
			"the count of admin keys and the delete are not one atomic step", lost, rounds)
	}
}

func TestApplications(t *testing.T) {
	f := newFixture(t, nil)
	s := f.svc
	a1, secret1 := f.app("first")
	f.clock.Add(time.Second)
	a2, secret2 := f.app("second")
	if !appIDRE.MatchString(a1.AppID) || !secretRE.MatchString(secret1) || a1.AppID == a2.AppID || secret1 == secret2 {
		t.Fatalf("app %q secret %q", a1.AppID, secret1)
	}
	if a1.Generation != 1 || a1.Name != "first" || strings.Contains(a1.SecretHash, secret1) {
		t.Errorf("app record %+v", a1)
	}
	if apps, err := s.Apps(); err != nil || len(apps) != 2 || apps[0].AppID != a2.AppID {
		t.Errorf("apps not newest first: %v %v", apps, err)
	}
	// The stored record holds only the hash.
	v, err := f.store.App(a1.AppID)
	if err != nil || bytes.Contains(v, []byte(secret1)) || bytes.Contains(v, []byte(secret1[len("secret_"):])) {
		t.Errorf("stored app record holds the secret: %s %v", v, err)
	}

	if got, err := s.CheckApp(a1.AppID, secret1); err != nil || got.AppID != a1.AppID {
		t.Errorf("CheckApp: %+v %v", got, err)
	}
	for _, c := range []struct{ app, secret string }{
		{a1.AppID, secret2}, {a1.AppID, ""}, {a1.AppID, secret1 + "0"}, {a1.AppID, strings.ToUpper(secret1)},
		{"app_nope", secret1}, {"", ""}, {a2.AppID, secret1},
	} {
		if _, err := s.CheckApp(c.app, c.secret); !errors.Is(err, ErrInvalidApp) {
			t.Errorf("CheckApp(%q, %q): %v", c.app, c.secret, err)
		}
	}

	rotated, secret3, err := s.RotateSecret(a1.AppID)
	if err != nil || !secretRE.MatchString(secret3) || secret3 == secret1 || rotated.Generation != 2 {
		t.Fatalf("rotate: %+v %q %v", rotated, secret3, err)
	}
	if _, err := s.CheckApp(a1.AppID, secret1); !errors.Is(err, ErrInvalidApp) {
		t.Errorf("old secret after rotation: %v", err)
	}
	if _, err := s.CheckApp(a1.AppID, secret3); err != nil {
		t.Errorf("new secret: %v", err)
	}

	if err := s.DeleteApp(a1.AppID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckApp(a1.AppID, secret3); !errors.Is(err, ErrInvalidApp) {
		t.Errorf("deleted app: %v", err)
	}
	if err := s.DeleteApp(a1.AppID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if _, _, err := s.RotateSecret(a1.AppID); !errors.Is(err, ErrNotFound) {
		t.Errorf("rotate deleted: %v", err)
	}
	if apps, _ := s.Apps(); len(apps) != 1 || apps[0].AppID != a2.AppID {
		t.Errorf("apps after delete: %v", apps)
	}
}

// claimsOf decodes a JWT's payload without checking it.
func claimsOf(t *testing.T, tok string) map[string]any {
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

func headerOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// sign signs claims with a method and key.
func sign(t *testing.T, m jwt.SigningMethod, claims jwt.Claims, key any) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSDKTokenValidation(t *testing.T) {
	f := newFixture(t, nil)
	s := f.svc
	app, _, pair := f.appToken("u1")

	p, err := s.SDKToken(pair.AccessToken)
	if err != nil || p.Kind != KindSDKToken || p.UserID != "u1" || p.AppID != app.AppID || p.Namespace() != "t:u1" {
		t.Fatalf("SDKToken: %+v %v", p, err)
	}
	if h := headerOf(t, pair.AccessToken); h["alg"] != "HS256" {
		t.Errorf("header %v", h)
	}
	c := claimsOf(t, pair.AccessToken)
	if c["sub"] != "u1" || c["scope"] != "sdk" || c["app_id"] != app.AppID || c["exp"].(float64)-c["iat"].(float64) != 3600 {
		t.Errorf("claims %v", c)
	}
	if pair.ExpiresIn != 3600 || !refreshRE.MatchString(pair.RefreshToken) {
		t.Errorf("pair %d %q", pair.ExpiresIn, pair.RefreshToken)
	}

	now := f.clock.Now()
	valid := sdkClaims{Scope: "sdk", AppID: app.AppID, Gen: app.Generation, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "u1", IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}}
	with := func(mod func(*sdkClaims)) sdkClaims { c := valid; mod(&c); return c }
	if _, err := s.SDKToken(sign(t, jwt.SigningMethodHS256, valid, s.secret)); err != nil {
		t.Fatalf("a token signed as the service signs is refused: %v", err)
	}

	parts := strings.Split(pair.AccessToken, ".")
	other := strings.Split(f.mint("u2", app.AppID, app.Generation).AccessToken, ".")
	refused := map[string]string{
		"empty":                     "",
		"garbage":                   "not-a-jwt",
		"two parts":                 parts[0] + "." + parts[1],
		"payload of another token":  parts[0] + "." + other[1] + "." + parts[2],
		"signature of another":      parts[0] + "." + parts[1] + "." + other[2],
		"empty signature":           parts[0] + "." + parts[1] + ".",
		"other secret":              sign(t, jwt.SigningMethodHS256, valid, []byte("another secret of 32 bytes......")),
		"HS384 with the secret":     sign(t, jwt.SigningMethodHS384, valid, s.secret),
		"HS512 with the secret":     sign(t, jwt.SigningMethodHS512, valid, s.secret),
		"alg none":                  sign(t, jwt.SigningMethodNone, valid, jwt.UnsafeAllowNoneSignatureType),
		"scope developer":           sign(t, jwt.SigningMethodHS256, with(func(c *sdkClaims) { c.Scope = "developer" }), s.secret),
		"no scope":                  sign(t, jwt.SigningMethodHS256, with(func(c *sdkClaims) { c.Scope = "" }), s.secret),
		"scope SDK":                 sign(t, jwt.SigningMethodHS256, with(func(c *sdkClaims) { c.Scope = "SDK" }), s.secret),
		"no sub":                    sign(t, jwt.SigningMethodHS256, with(func(c *sdkClaims) { c.Subject = "" }), s.secret),
		"no exp":                    sign(t, jwt.SigningMethodHS256, with(func(c *sdkClaims) { c.ExpiresAt = nil }), s.secret),
		"expired":                   sign(t, jwt.SigningMethodHS256, with(func(c *sdkClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Second)) }), s.secret),
		"not yet valid":             sign(t, jwt.SigningMethodHS256, with(func(c *sdkClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour)) }), s.secret),
		"unknown app":               sign(t, jwt.SigningMethodHS256, with(func(c *sdkClaims) { c.AppID = "app_unknown" }), s.secret),
		"no app":                    sign(t, jwt.SigningMethodHS256, with(func(c *sdkClaims) { c.AppID = "" }), s.secret),
		"older generation":          sign(t, jwt.SigningMethodHS256, with(func(c *sdkClaims) { c.Gen = 0 }), s.secret),
		"newer generation":          sign(t, jwt.SigningMethodHS256, with(func(c *sdkClaims) { c.Gen = 2 }), s.secret),
		"admin minted, unknown key": sign(t, jwt.SigningMethodHS256, with(func(c *sdkClaims) { c.AppID = "admin:key_nope"; c.Gen = 0 }), s.secret),
		"too long":                  pair.AccessToken + strings.Repeat("A", 5000),
		"refresh token":             pair.RefreshToken,
		"API key":                   testAdminKey,
	}
	expired := func(mod func(*sdkClaims)) sdkClaims {
		return with(func(c *sdkClaims) { mod(c); c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Second)) })
	}
	refused["expired, other secret"] = sign(t, jwt.SigningMethodHS256, expired(func(*sdkClaims) {}), []byte("another secret of 32 bytes......"))
	refused["expired, HS512"] = sign(t, jwt.SigningMethodHS512, expired(func(*sdkClaims) {}), s.secret)
	refused["expired, unknown app"] = sign(t, jwt.SigningMethodHS256, expired(func(c *sdkClaims) { c.AppID = "app_unknown" }), s.secret)
	refused["expired, scope developer"] = sign(t, jwt.SigningMethodHS256, expired(func(c *sdkClaims) { c.Scope = "developer" }), s.secret)
	refused["expired, payload of another"] = strings.Join(strings.Split(refused["expired"], ".")[:2], ".") + "." + parts[2]
	for name, tok := range refused {
		p, err := s.SDKToken(tok)
		if !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: accepted as %+v (%v)", name, p, err)
		}
		// Only a token that is ours in every way but its age is told
		// apart: anything else is a bad credential.
		if isExpired := errors.Is(err, ErrTokenExpired); isExpired != (name == "expired") {
			t.Errorf("%s: ErrTokenExpired is %v", name, isExpired)
		}
	}

	// Expiry follows the service's clock.
	f.clock.Add(time.Hour - 2*time.Second)
	if _, err := s.SDKToken(pair.AccessToken); err != nil {
		t.Errorf("token refused before its expiry: %v", err)
	}
	f.clock.Add(3 * time.Second)
	if _, err := s.SDKToken(pair.AccessToken); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("expired token: %v, want ErrTokenExpired", err)
	}
}

func TestSDKTokenDiesWithItsMinter(t *testing.T) {
	f := newFixture(t, nil)
	s := f.svc
	app, secret, before := f.appToken("u1")

	// Rotating the secret refuses tokens of the older generation only.
	rotated, _, err := s.RotateSecret(app.AppID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SDKToken(before.AccessToken); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token minted before the rotation accepted: %v", err)
	}
	if _, err := s.CheckApp(app.AppID, secret); err == nil {
		t.Errorf("old secret accepted")
	}
	after := f.mint("u1", app.AppID, rotated.Generation)
	if _, err := s.SDKToken(after.AccessToken); err != nil {
		t.Errorf("token minted after the rotation: %v", err)
	}

	// Deleting the application refuses every token minted from it.
	if err := s.DeleteApp(app.AppID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SDKToken(after.AccessToken); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token of a deleted app accepted: %v", err)
	}

	// A token minted with an admin key dies with the key, deleted or
	// rotated.
	_, k1 := f.key("minter 1", ScopeAdmin)
	_, k2 := f.key("minter 2", ScopeAdmin)
	t1 := f.mint("u1", AdminAppID(k1.ID), 0)
	t2 := f.mint("u1", AdminAppID(k2.ID), 0)
	if c := claimsOf(t, t1.AccessToken); c["app_id"] != "admin:"+k1.ID {
		t.Errorf("admin-minted app_id %v", c["app_id"])
	}
	for _, tok := range []string{t1.AccessToken, t2.AccessToken} {
		if _, err := s.SDKToken(tok); err != nil {
			t.Fatalf("admin-minted token: %v", err)
		}
	}
	if _, err := s.DeleteKey(k1.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RotateKey(k2.ID); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"deleted key": t1.AccessToken, "rotated key": t2.AccessToken} {
		if _, err := s.SDKToken(tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("token minted by a %s accepted: %v", name, err)
		}
	}

	// A restart keeps all of it: the signing secret, the generations and
	// the keys.
	app2, _ := f.app("app 2")
	live := f.mint("u1", app2.AppID, app2.Generation)
	s2 := f.open()
	if _, err := s2.SDKToken(live.AccessToken); err != nil {
		t.Errorf("live token after restart: %v", err)
	}
	for _, tok := range []string{before.AccessToken, after.AccessToken, t1.AccessToken, t2.AccessToken} {
		if _, err := s2.SDKToken(tok); err == nil {
			t.Errorf("dead token accepted after restart")
		}
	}
}

// TestAdminMintedTokenAfterEnvKeyComesBack: a token minted with the
// WEARHOUSE_ADMIN_KEY key must stay dead once that key is deleted, even when
// the next start re-creates the key from the environment.
func TestAdminMintedTokenAfterEnvKeyComesBack(t *testing.T) {
	f := newFixture(t, nil)
	f.user("u1")
	pair := f.mint("u1", AdminAppID("key_admin_env"), 0)
	f.key("other admin", ScopeAdmin)
	if _, err := f.svc.DeleteKey("key_admin_env"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SDKToken(pair.AccessToken); err == nil {
		t.Fatal("token of a deleted key accepted")
	}
	s2 := f.open() // WEARHOUSE_ADMIN_KEY is still set: the key is back
	_, errTok := s2.SDKToken(pair.AccessToken)
	_, _, errRefresh := s2.Refresh(pair.RefreshToken)
	if errTok == nil || errRefresh == nil {
		t.Errorf("after the env admin key was deleted, a restart re-creates it "+
			"under the same id key_admin_env, and the SDK token (accepted: %v) and refresh token (accepted: %v) minted "+
			"with it before the deletion work again", errTok == nil, errRefresh == nil)
	}
}

func TestRefreshRotation(t *testing.T) {
	f := newFixture(t, nil)
	s := f.svc
	app, _, first := f.appToken("u1")

	second, uid, err := s.Refresh(first.RefreshToken)
	if err != nil || uid != "u1" {
		t.Fatalf("refresh: %v %q", err, uid)
	}
	if !refreshRE.MatchString(second.RefreshToken) || second.RefreshToken == first.RefreshToken || second.AccessToken == "" {
		t.Fatalf("new pair %+v", second)
	}
	p, err := s.SDKToken(second.AccessToken)
	if err != nil || p.UserID != "u1" || p.AppID != app.AppID {
		t.Errorf("refreshed access token: %+v %v", p, err)
	}
	// The old one is refused at once, and refusing it does not harm the new.
	if _, _, err := s.Refresh(first.RefreshToken); !errors.Is(err, ErrInvalidRefreshToken) {
		t.Errorf("old refresh token: %v", err)
	}
	third, _, err := s.Refresh(second.RefreshToken)
	if err != nil {
		t.Fatalf("second refresh: %v", err)
	}

	if err := s.Revoke(third.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Refresh(third.RefreshToken); !errors.Is(err, ErrInvalidRefreshToken) {
		t.Errorf("revoked refresh token: %v", err)
	}
	for _, raw := range []string{third.RefreshToken, second.RefreshToken, "", "rt-", "rt-0000", "x", first.AccessToken,
		"rt-" + strings.Repeat("0", 100)} {
		if err := s.Revoke(raw); !errors.Is(err, ErrNotFound) {
			t.Errorf("Revoke(%.20q): %v", raw, err)
		}
		if _, _, err := s.Refresh(raw); !errors.Is(err, ErrInvalidRefreshToken) {
			t.Errorf("Refresh(%.20q): %v", raw, err)
		}
	}

	// Refresh tokens are stored as hashes only.
	n := 0
	if err := f.store.RefreshTokens(func(h [32]byte, v []byte) error {
		n++
		if bytes.Contains(v, []byte("rt-")) {
			t.Errorf("refresh record holds a token: %s", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d refresh tokens left after revoking the last", n)
	}
}

func TestRefreshExpiresWhenUnused(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.RefreshTTL = 10 * time.Hour })
	s := f.svc
	f.user("u1")
	app, _ := f.app("app")

	idle := f.mint("u1", app.AppID, app.Generation)
	used := f.mint("u1", app.AppID, app.Generation)
	// Used within the lifetime, a refresh token is renewed: its successor
	// lives another lifetime from the use.
	f.clock.Add(8 * time.Hour)
	next, _, err := s.Refresh(used.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2*time.Hour + time.Second)
	if _, _, err := s.Refresh(idle.RefreshToken); !errors.Is(err, ErrInvalidRefreshToken) {
		t.Errorf("refresh token unused for longer than RefreshTTL accepted: %v", err)
	}
	if err := s.Revoke(idle.RefreshToken); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired refresh token was not removed: %v", err)
	}
	f.clock.Add(7 * time.Hour)
	if _, _, err := s.Refresh(next.RefreshToken); err != nil {
		t.Errorf("refresh token used 9 h ago refused: %v", err)
	}
}

func TestRefreshRefusedWhenMinterOrUserGone(t *testing.T) {
	f := newFixture(t, nil)
	s := f.svc
	u1 := f.user("u1")
	f.user("u2")
	deleted, _ := f.app("deleted")
	rotated, _ := f.app("rotated")
	kept, _ := f.app("kept")
	_, adminRec := f.key("minter", ScopeAdmin)

	fromDeleted := f.mint("u2", deleted.AppID, deleted.Generation)
	fromRotated := f.mint("u2", rotated.AppID, rotated.Generation)
	fromKey := f.mint("u2", AdminAppID(adminRec.ID), 0)
	ofUser := f.mint("u1", kept.AppID, kept.Generation)
	other := f.mint("u2", kept.AppID, kept.Generation)

	if err := s.DeleteApp(deleted.AppID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RotateSecret(rotated.AppID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteKey(adminRec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.DeleteUser(u1); err != nil {
		t.Fatal(err)
	}
	for name, rt := range map[string]string{
		"deleted app": fromDeleted.RefreshToken, "rotated secret": fromRotated.RefreshToken,
		"deleted minting key": fromKey.RefreshToken, "deleted user": ofUser.RefreshToken,
	} {
		if _, _, err := s.Refresh(rt); !errors.Is(err, ErrInvalidRefreshToken) {
			t.Errorf("refresh token of a %s: %v", name, err)
		}
	}
	if _, _, err := s.Refresh(other.RefreshToken); err != nil {
		t.Errorf("unrelated refresh token: %v", err)
	}
}

// TestRefreshIsSingleUse refreshes one token from several goroutines at
// once: at most one may succeed, or a stolen refresh token forks into two
// live chains.
func TestRefreshIsSingleUse(t *testing.T) {
	f := newFixture(t, nil)
	f.user("u1")
	app, _ := f.app("app")
	forked := 0
	const rounds, racers = 10, 8
	for i := 0; i < rounds; i++ {
		rt := f.mint("u1", app.AppID, app.Generation).RefreshToken
		ok := race(racers, func() bool {
			_, _, err := f.svc.Refresh(rt)
			return err == nil
		})
		if ok == 0 {
			t.Fatalf("round %d: no refresh succeeded", i)
		}
		if ok > 1 {
			forked++
		}
	}
	if forked > 0 {
		t.Errorf("one refresh token was exchanged more than once by concurrent requests in %d of %d "+
			"rounds: the lookup and the rotation are not one atomic step, so a stolen token can fork a second live chain",
			forked, rounds)
	}
}

// race runs try on n goroutines at once and returns how many of them it
// reported success on.
func race(n int, try func() bool) int {
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if try() {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ok
}

func TestSameUser(t *testing.T) {
	u := "0f8fad5b-d9cb-469f-a165-70867728950e"
	cases := []struct {
		sub, path string
		want      bool
	}{
		{u, u, true},
		{u, strings.ToUpper(u), true},
		{strings.ToUpper(u), u, true},
		{"alice", "alice", true},
		{"alice", "Alice", false},
		{"alice", "alice ", false},
		{u, u[:35], false},
		{"", "", true},
		{"0f8fad5b-d9cb-469f-a165-70867728950g", "0F8FAD5B-D9CB-469F-A165-70867728950G", false},
	}
	for _, c := range cases {
		if got := SameUser(c.sub, c.path); got != c.want {
			t.Errorf("SameUser(%q, %q) = %v", c.sub, c.path, got)
		}
	}
}

// TestCredentialEventsLoggedWithoutSecrets goes through every credential
// event and checks the log names them and never holds a secret.
func TestCredentialEventsLoggedWithoutSecrets(t *testing.T) {
	f := newFixture(t, nil)
	s := f.svc
	f.user("u1")
	var secrets []string
	key, rec := f.key("k", ScopeRead)
	rotatedKey, _, err := s.RotateKey(rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	app, secret := f.app("app")
	_, secret2, err := s.RotateSecret(app.AppID)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = s.CheckApp(app.AppID, secret) // refused: the old secret
	pair := f.mint("u1", app.AppID, 2)
	next, _, err := s.Refresh(pair.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _ = s.Refresh(pair.RefreshToken) // refused: used
	if err := s.Revoke(next.RefreshToken); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, testAdminKey, key, rotatedKey, secret, secret2, pair.AccessToken, pair.RefreshToken,
		next.AccessToken, next.RefreshToken)

	logs := f.logs.String()
	for _, sec := range secrets {
		if strings.Contains(logs, sec) {
			t.Errorf("a secret is in the log: %.12s...", sec)
		}
		// The random part alone must not be there either.
		if i := strings.IndexAny(sec, "-_"); i > 0 && len(sec)-i > 16 && strings.Contains(logs, sec[i+1:]) {
			t.Errorf("the random part of a secret is in the log: %.12s...", sec)
		}
	}
	for _, ev := range []string{"credential.created", "credential.rotated", "credential.revoked", "credential.refused"} {
		if !strings.Contains(logs, `"event":"`+ev+`"`) {
			t.Errorf("no %s event in the log", ev)
		}
	}
}

// TestTokensNameTheUserIncarnation: an SDK token and its refresh token
// carry the user's internal id, so that they die with the user even when
// a user of the same id is created again; RevokeUser deletes the refresh
// tokens of an erased user and only those.
func TestTokensNameTheUserIncarnation(t *testing.T) {
	f := newFixture(t, nil)
	s := f.svc
	u1 := f.user("u1")
	app, _, pair := f.appToken("u1")
	other := f.mint("u2", app.AppID, app.Generation)
	p, err := s.SDKToken(pair.AccessToken)
	if err != nil || p.UserIID != u1.IID || p.Issued.IsZero() {
		t.Fatalf("principal %+v, %v; want the user's internal id %d and the issue time", p, err, u1.IID)
	}
	if c := claimsOf(t, pair.AccessToken); c["uid"] != float64(u1.IID) {
		t.Errorf("claims %v: no uid", c)
	}
	if _, err := s.MintSDKToken("nobody", app.AppID, app.Generation); !errors.Is(err, ErrNotFound) {
		t.Errorf("a token for a user that does not exist: %v", err)
	}
	if n, err := s.RevokeUser(u1); err != nil || n != 1 {
		t.Fatalf("RevokeUser: %d, %v", n, err)
	}
	if _, _, err := s.Refresh(pair.RefreshToken); !errors.Is(err, ErrInvalidRefreshToken) {
		t.Errorf("a revoked user's refresh token: %v", err)
	}
	if _, _, err := s.Refresh(other.RefreshToken); err != nil {
		t.Errorf("another user's refresh token: %v", err)
	}

	created := f.clock.Now()
	for _, c := range []struct {
		name string
		rec  refreshRecord
		want bool
	}{
		{"same internal id", refreshRecord{UserIID: 7}, true},
		{"another internal id", refreshRecord{UserIID: 8, CreatedAt: created.Add(time.Hour)}, false},
		{"earlier release, minted after the creation", refreshRecord{CreatedAt: created}, true},
		{"earlier release, minted before the creation", refreshRecord{CreatedAt: created.Add(-time.Nanosecond)}, false},
	} {
		if got := c.rec.mintedFor(&pebblestore.User{IID: 7, Created: created}); got != c.want {
			t.Errorf("%s: mintedFor = %v, want %v", c.name, got, c.want)
		}
	}
}
