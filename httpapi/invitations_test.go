package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"wearhouse/app"
)

var invitationCodeRE = regexp.MustCompile(`^[A-HJ-NP-Z2-9]{8}$`)

func codeBody(code string) []byte {
	b, _ := json.Marshal(map[string]string{"code": code})
	return b
}

// invite creates an invitation code for a user with an API key and
// returns the answer's fields.
func (cs *credServer) invite(user, key string) map[string]any {
	cs.t.Helper()
	r := cs.call("POST", "/api/v1/users/"+user+"/invitation-code", key, nil)
	cs.want(r, 201, "")
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		cs.t.Errorf("Cache-Control %q on a new invitation code", cc)
	}
	return r.json(cs.t)
}

func (cs *credServer) redeem(code string) resp {
	cs.t.Helper()
	return cs.call("POST", "/api/v1/invitation-code/redeem", "", codeBody(code))
}

const invalidCode = "Invalid or expired invitation code"

// TestPairWithInvitationCode is the Open Wearables app's way in: an admin
// creates a code for a user that does not exist yet, the person types it
// (in lower case, with a dash), the app redeems it for tokens, syncs with
// them, and the data reads back; the code works once.
func TestPairWithInvitationCode(t *testing.T) {
	cs := startCredServer(t, func(o *app.Options) { o.Compactor.Paused = false })
	const user = "phone-user"
	inv := cs.invite(user, cs.admin)
	code, _ := inv["code"].(string)
	created, _ := time.Parse(time.RFC3339Nano, inv["created_at"].(string))
	expires, _ := time.Parse(time.RFC3339Nano, inv["expires_at"].(string))
	if !invitationCodeRE.MatchString(code) || inv["user_id"] != user || inv["id"] == "" || len(inv) != 5 ||
		expires.Sub(created) != 7*24*time.Hour {
		t.Fatalf("invitation %v", inv)
	}
	if r := cs.call("GET", "/api/v1/users/"+user, cs.admin, nil); r.status != 200 {
		t.Fatalf("the user of a new code was not created: %d %s", r.status, r.body)
	}

	typed := strings.ToLower(code[:4] + "-" + code[4:])
	r := cs.call("POST", "/api/v1/invitation-code/redeem", "", []byte(`{"code": " `+typed+` "}`))
	cs.want(r, 200, "")
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on redeemed tokens", cc)
	}
	var got struct {
		tokens
		UserID string `json:"user_id"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil || got.UserID != user || got.Type != "bearer" || got.Expires != 3600 ||
		!refreshRE.MatchString(got.Refresh) || got.Access == "" {
		t.Fatalf("redeemed: %s", r.body)
	}
	if claims := jwtClaims(t, got.Access); claims["sub"] != user || claims["app_id"] != "invite:key_admin_env" || claims["scope"] != "sdk" {
		t.Errorf("the redeemed token's claims: %v", claims)
	}
	cs.want(cs.syncAs(user, got.Access), 202, "")
	cs.indexed()
	q := url.Values{"start_time": {"2020-01-01"}, "end_time": {"2030-01-01"}}
	r = cs.call("GET", "/api/v1/users/"+user+"/timeseries?"+q.Encode(), cs.admin, nil)
	cs.want(r, 200, "")
	var page struct {
		Data []any `json:"data"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.Data) == 0 {
		t.Errorf("the paired phone's data does not read back: %s", r.body)
	}
	refreshed := cs.tokensOf(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(got.Refresh)))
	cs.want(cs.syncAs(user, refreshed.Access), 202, "")

	cs.want(cs.redeem(code), 404, invalidCode)
	for _, body := range []string{``, `{}`, `{"code":""}`, `{"code":"ABC"}`, `{"code":"ABCDEFG0"}`, `{"code":7}`, `[]`} {
		cs.want(cs.call("POST", "/api/v1/invitation-code/redeem", "", []byte(body)), 400, "")
	}
}

// TestInvitationCodeRules: a new code revokes the older, a code expires
// after 7 days, only admin and write keys create codes, and a server that
// does not create users on their first sync does not create them here.
func TestInvitationCodeRules(t *testing.T) {
	cs := startCredServer(t, nil)
	older := cs.invite("u1", cs.admin)["code"].(string)
	newer := cs.invite("u1", cs.admin)["code"].(string)
	cs.want(cs.redeem(older), 404, invalidCode)
	cs.want(cs.redeem(newer), 200, "")

	late := cs.invite("u1", cs.admin)["code"].(string)
	cs.clock.Add(7 * 24 * time.Hour)
	cs.want(cs.redeem(late), 404, invalidCode)

	writeKey, _ := cs.newKey("w", "write")
	readKey, _ := cs.newKey("r", "read")
	cs.want(cs.redeem(cs.invite("u1", writeKey)["code"].(string)), 200, "")
	cs.want(cs.call("POST", "/api/v1/users/u1/invitation-code", readKey, nil), 403, "")
	cs.want(cs.call("POST", "/api/v1/users/u1/invitation-code", "", nil), 401, "")
	tok := cs.tokensOf(cs.redeem(cs.invite("u1", cs.admin)["code"].(string)))
	cs.want(cs.call("POST", "/api/v1/users/u1/invitation-code", "", nil, "Authorization", "Bearer "+tok.Access), 401, "")
	cs.want(cs.call("POST", "/api/v1/users/bad%20id/invitation-code", cs.admin, nil), 400, "")

	strict := startCredServer(t, func(o *app.Options) { o.Ingest.AutoCreateUsers = false })
	strict.want(strict.call("POST", "/api/v1/users/stranger/invitation-code", strict.admin, nil), 404, "User with ID: stranger not found.")
	r := strict.call("POST", "/api/v1/users", strict.admin, []byte(`{"first_name":"Ada"}`))
	strict.want(r, 201, "")
	strict.invite(r.json(t)["id"].(string), strict.admin)
}

// TestInvitationCodesDieWithTheUser: the erasure of a user erases its
// code, and a user created again under the same id does not inherit it.
func TestInvitationCodesDieWithTheUser(t *testing.T) {
	cs := startCredServer(t, nil)
	code := cs.invite("u1", cs.admin)["code"].(string)
	kept := cs.invite("u2", cs.admin)["code"].(string)
	cs.want(cs.call("DELETE", "/api/v1/users/u1", cs.admin, nil), 200, "")
	cs.createUser("u1")
	cs.want(cs.redeem(code), 404, invalidCode)
	cs.want(cs.redeem(kept), 200, "")
}

// TestGuessingInvitationCodes: wrong codes are bad credentials of their
// address (429 past the limit, with Retry-After), and the wrong codes of
// all addresses together are capped; a right code is answered 200
// whatever came before it, from any address.
func TestGuessingInvitationCodes(t *testing.T) {
	cs := startCredServer(t, func(o *app.Options) { o.Auth.BadCredentials, o.Auth.RedeemFailures = 5, 8 })
	right := cs.invite("u1", cs.admin)["code"].(string)
	const wrong = "ZZZZZZZZ" // the right one, once in 2^40 runs
	for i := 0; i < 5; i++ {
		cs.want(cs.redeem(wrong), 404, invalidCode)
	}
	r := cs.redeem(wrong)
	cs.want(r, 429, "Too many requests with bad credentials from this address; retry later.")
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	cs.want(cs.redeem(right), 200, "")

	other := clientFrom(t, "127.0.0.2")
	third := clientFrom(t, "127.0.0.3")
	from := func(c *http.Client, code string) resp {
		return send(t, c, cs.base, "POST", "/api/v1/invitation-code/redeem", codeBody(code), nil)
	}
	for i := 0; i < 3; i++ { // 5 + 3: the cap of all addresses
		cs.want(from(other, wrong), 404, invalidCode)
	}
	cs.want(from(other, wrong), 429, "Too many wrong invitation codes from all addresses; retry later.")
	cs.want(from(third, wrong), 429, "Too many wrong invitation codes from all addresses; retry later.")
	cs.want(from(third, cs.invite("u1", cs.admin)["code"].(string)), 200, "")
	cs.clock.Add(time.Minute)
	cs.want(from(third, wrong), 404, invalidCode)
}

// TestSignOutRevokesTheConnection is the iOS SDK's signOut: DELETE of its
// connection with its own SDK token, after which it throws its tokens
// away. The connection is revoked and the refresh token of that sign-in
// stops; another user's token is 403, and a token never erases data.
func TestSignOutRevokesTheConnection(t *testing.T) {
	cs := startCredServer(t, nil)
	mine := cs.tokensOf(cs.redeem(cs.invite("u1", cs.admin)["code"].(string)))
	otherPhone := cs.tokensOf(cs.redeem(cs.invite("u1", cs.admin)["code"].(string)))
	theirs := cs.tokensOf(cs.redeem(cs.invite("u2", cs.admin)["code"].(string)))
	cs.want(cs.syncAs("u1", mine.Access), 202, "")
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	const conn = "/api/v1/users/u1/connections/apple"

	cs.want(cs.call("DELETE", conn, "", nil, bearer(theirs.Access)...), 403, "Token does not match user_id")
	cs.want(cs.call("DELETE", conn+"/data", "", nil, bearer(mine.Access)...), 401, "")
	cs.want(cs.call("DELETE", conn, "", nil, bearer(mine.Access)...), 204, "")
	r := cs.call("GET", "/api/v1/users/u1/connections", cs.admin, nil)
	cs.want(r, 200, "")
	if !strings.Contains(string(r.body), `"status":"revoked"`) {
		t.Errorf("the connection after sign-out: %s", r.body)
	}
	cs.want(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(mine.Refresh)), 401, "")
	cs.tokensOf(cs.call("POST", "/api/v1/token/refresh", "", refreshBody(otherPhone.Refresh)))

	// API keys as before: write revokes, read may not; the data route
	// erases.
	readKey, _ := cs.newKey("r", "read")
	cs.want(cs.syncAs("u1", otherPhone.Access), 202, "")
	cs.want(cs.call("DELETE", conn, readKey, nil), 403, "This API key has the read scope and may not change data.")
	cs.want(cs.call("DELETE", conn, cs.admin, nil), 204, "")
	cs.want(cs.call("DELETE", conn+"/data", cs.admin, nil), 204, "")
	cs.want(cs.call("DELETE", "/api/v1/users/u2/connections/apple", cs.admin, nil), 404, "")

	// A token of an erased user is dead here too, even once the id is
	// back.
	cs.want(cs.call("DELETE", "/api/v1/users/u1", cs.admin, nil), 200, "")
	cs.createUser("u1")
	cs.want(cs.call("DELETE", conn, "", nil, bearer(otherPhone.Access)...), 401, "")
}
