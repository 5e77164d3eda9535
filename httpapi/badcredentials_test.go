package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"wearhouse/app"
)

const badKey = "sk-00000000000000000000000000000000"

// limitedLines are the server's warnings that an address is being
// limited, by address, with the count each gave.
func limitedLines(t *testing.T, logs []byte) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, l := range bytes.Split(bytes.TrimSpace(logs), []byte("\n")) {
		var m struct {
			Level, Event, Addr string
			Refused            int
		}
		if json.Unmarshal(l, &m) == nil && m.Event == "credential.limited" && m.Addr != "" {
			if m.Level != "warn" {
				t.Errorf("limited line at level %q: %s", m.Level, l)
			}
			out[m.Addr] = m.Refused
		}
	}
	return out
}

// TestBadCredentialsAnswered429 sends bad credentials from 127.0.0.1 past
// the threshold: its further bad credentials are refused with 429 and
// Retry-After until the window ends; another address is not.
func TestBadCredentialsAnswered429(t *testing.T) {
	cs := startCredServer(t, func(o *app.Options) {
		o.Auth.BadCredentials = 3
		o.Auth.BadCredentialWindow = time.Minute
	})
	other := clientFrom(t, "127.0.0.2")
	for i := 0; i < 3; i++ {
		cs.want(cs.call("GET", "/api/v1/users", badKey, nil), 401, "Invalid or missing API key")
	}
	r := cs.call("GET", "/api/v1/users", badKey, nil)
	cs.want(r, 429, "Too many requests with bad credentials from this address; retry later.")
	if r.header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After %q, want 60", r.header.Get("Retry-After"))
	}
	cs.want(cs.call("POST", "/api/v1/token/refresh", "", refreshBody("rt-00000000000000000000000000000000")), 429, "")
	cs.want(cs.call("POST", "/api/v1/sdk/users/u/sync", badKey, []byte(`{}`)), 429, "")
	cs.want(cs.syncAs("u", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"), 429, "")

	r = send(t, other, cs.base, "GET", "/api/v1/users", nil, nil, "X-Open-Wearables-API-Key", badKey)
	if r.status != 401 {
		t.Errorf("another address: %d %s", r.status, r.body)
	}

	cs.clock.Add(45 * time.Second)
	if r := cs.call("GET", "/api/v1/users", badKey, nil); r.status != 429 || r.header.Get("Retry-After") != "15" {
		t.Errorf("after 45 s: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	cs.clock.Add(15 * time.Second)
	cs.want(cs.call("GET", "/api/v1/users", badKey, nil), 401, "")

	// Bad refresh tokens and bad application secrets count as well.
	cs.createUser("alice")
	appID, _ := cs.newApp("backend")
	cs.want(cs.call("POST", "/api/v1/token/refresh", "", refreshBody("rt-00000000000000000000000000000000")), 401, "")
	cs.want(cs.call("POST", "/api/v1/users/alice/token", "", []byte(`{"app_id":"`+appID+`","app_secret":"secret_x"}`)), 401, "")
	cs.want(cs.call("GET", "/api/v1/users", badKey, nil), 429, "")

	// One warning per address and window, with the address and the count,
	// never the credential.
	logs := cs.logs.Bytes()
	if got := limitedLines(t, logs); len(got) != 1 || got["127.0.0.1"] != 4 {
		t.Errorf("limited lines %v, want 127.0.0.1 with 4 refused", got)
	}
	if bytes.Contains(logs, []byte(badKey)) {
		t.Error("the log holds a refused key")
	}
}

// TestValidCredentialsNeverLimited: an address that has just sent more bad
// keys than the (default) limit still gets the normal answer to every
// valid credential: admin and read keys, SDK tokens, application
// credentials and refresh tokens. Only its bad credentials get 429.
func TestValidCredentialsNeverLimited(t *testing.T) {
	cs := startCredServer(t, nil)
	cs.createUser("alice")
	appID, secret := cs.newApp("fleet")
	tk := cs.mintApp("alice", appID, secret)
	readKey, _ := cs.newKey("reader", "read")

	for i := 0; i < 30; i++ {
		cs.want(cs.call("GET", "/api/v1/users", badKey, nil), 401, "Invalid or missing API key")
	}
	for i := 0; i < 5; i++ {
		cs.want(cs.call("GET", "/api/v1/users", badKey, nil), 429, "")
	}

	cs.want(cs.call("GET", "/api/v1/users", cs.admin, nil), 200, "")
	cs.want(cs.call("GET", "/api/v1/users/alice", readKey, nil), 200, "")
	cs.want(cs.call("GET", "/api/v1/developer/api-keys", cs.admin, nil), 200, "")
	cs.want(cs.syncAs("alice", tk.Access), 202, "")
	cs.want(cs.call("POST", "/api/v1/sdk/users/alice/sync", cs.admin, fixture(t, "malformed_payload_debug__valid.json")), 202, "")
	again := cs.mintApp("alice", appID, secret)
	cs.want(cs.syncAs("alice", again.Access), 202, "")
	cs.tokensOf(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(tk.Refresh)))
	// A valid credential that may not do this is refused as usual (403).
	cs.want(cs.call("DELETE", "/api/v1/users/alice", readKey, nil), 403, "")

	// The bad ones are still limited.
	cs.want(cs.call("GET", "/api/v1/users", badKey, nil), 429, "")
	if got := limitedLines(t, cs.logs.Bytes()); len(got) != 1 || got["127.0.0.1"] != 31 {
		t.Errorf("limited lines %v, want 127.0.0.1 with 31 refused", got)
	}
}

// TestExpiredTokensAreNoStrikes: a fleet whose SDK tokens expired sends
// them until it refreshes; they get their 401 (so that the SDKs refresh),
// never 429, and do not count towards the limit.
func TestExpiredTokensAreNoStrikes(t *testing.T) {
	cs := startCredServer(t, nil) // the default limit: 30 a minute
	cs.createUser("alice")
	appID, secret := cs.newApp("fleet")
	tk := cs.mintApp("alice", appID, secret)
	cs.clock.Add(61 * time.Minute)

	for i := 0; i < 40; i++ {
		cs.want(cs.syncAs("alice", tk.Access), 401, "Authentication required: provide SDK token or API key")
	}
	cs.want(cs.call("GET", "/api/v1/users", badKey, nil), 401, "Invalid or missing API key")
	cs.want(cs.call("GET", "/api/v1/users", cs.admin, nil), 200, "")
	// The bad key was the first strike: 29 more are allowed, the 31st is not.
	for i := 0; i < 29; i++ {
		cs.want(cs.call("GET", "/api/v1/users", badKey, nil), 401, "")
	}
	cs.want(cs.call("GET", "/api/v1/users", badKey, nil), 429, "")
	// Over the limit, an expired token still gets its 401, and the refresh
	// that follows works.
	cs.want(cs.syncAs("alice", tk.Access), 401, "Authentication required: provide SDK token or API key")
	fresh := cs.tokensOf(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(tk.Refresh)))
	cs.want(cs.syncAs("alice", fresh.Access), 202, "")
	// A token with a bad signature is a bad credential.
	cs.want(cs.syncAs("alice", fresh.Access+"x"), 429, "")
}

// TestLimitPerClientBehindTrustedProxy: behind a trusted proxy, clients
// are told apart by X-Forwarded-For or Forwarded and limited one by one;
// the same headers from a peer that is no trusted proxy are ignored.
func TestLimitPerClientBehindTrustedProxy(t *testing.T) {
	tune := func(trusted string) func(*app.Options) {
		return func(o *app.Options) {
			o.Auth.BadCredentials = 3
			o.HTTP.TrustedProxies = []netip.Prefix{netip.MustParsePrefix(trusted)}
		}
	}
	cs := startCredServer(t, tune("127.0.0.1/32"))
	xff := func(addr string) []string { return []string{"X-Forwarded-For", "192.0.2.200, " + addr} }
	for i := 0; i < 3; i++ {
		cs.want(cs.call("GET", "/api/v1/users", badKey, nil, xff("203.0.113.5")...), 401, "")
	}
	cs.want(cs.call("GET", "/api/v1/users", badKey, nil, xff("203.0.113.5")...), 429, "")
	// Another client behind the same proxy is not limited.
	cs.want(cs.call("GET", "/api/v1/users", badKey, nil, xff("203.0.113.6")...), 401, "")
	cs.want(cs.call("GET", "/api/v1/users", badKey, nil, "Forwarded", `for="[2001:db8::7]:4711";proto=https`), 401, "")
	cs.want(cs.call("GET", "/api/v1/users", badKey, nil), 401, "") // the proxy itself
	// Nor are valid credentials of the limited client.
	cs.want(cs.call("GET", "/api/v1/users", cs.admin, nil, xff("203.0.113.5")...), 200, "")
	// An IPv6 client is limited on its own.
	for i := 0; i < 2; i++ {
		cs.want(cs.call("GET", "/api/v1/users", badKey, nil, "Forwarded", `for="[2001:db8::7]"`), 401, "")
	}
	cs.want(cs.call("GET", "/api/v1/users", badKey, nil, "X-Forwarded-For", "2001:db8::7"), 429, "")
	got := limitedLines(t, cs.logs.Bytes())
	if len(got) != 2 || got["203.0.113.5"] != 4 || got["2001:db8::/64"] != 4 {
		t.Errorf("limited lines %v, want 203.0.113.5 and 2001:db8::/64", got)
	}

	// The peer is no trusted proxy: every client it names is the peer.
	cs = startCredServer(t, tune("192.0.2.0/24"))
	for i, addr := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"} {
		want := 401
		if i == 3 {
			want = 429
		}
		cs.want(cs.call("GET", "/api/v1/users", badKey, nil, xff(addr)...), want, "")
	}
	if got := limitedLines(t, cs.logs.Bytes()); len(got) != 1 || got["127.0.0.1"] != 4 {
		t.Errorf("limited lines %v, want 127.0.0.1", got)
	}
}
