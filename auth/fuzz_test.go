package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzSDKToken feeds Service.SDKToken arbitrary strings. It must never
// panic, and it may accept a string only when its signed part (header and
// claims) is exactly that of a token the service minted, for that token's
// user and application.
func FuzzSDKToken(f *testing.F) {
	fx := newFixture(f, nil)
	s := fx.svc
	fx.user("u1")
	app, _ := fx.app("app")
	deadApp, _ := fx.app("dead")
	_, minter := fx.key("minter", ScopeAdmin)

	type mintedToken struct{ user, app string }
	minted := map[string]mintedToken{} // signing input -> who
	mint := func(user, appID string, gen int) string {
		tok := fx.mint(user, appID, gen).AccessToken
		i := strings.LastIndexByte(tok, '.')
		minted[tok[:i]] = mintedToken{user, appID}
		return tok
	}
	live := mint("u1", app.AppID, app.Generation)
	other := mint("0F8FAD5B-D9CB-469F-A165-70867728950E", app.AppID, app.Generation)
	byKey := mint("u2", AdminAppID(minter.ID), 0)
	dead := mint("u1", deadApp.AppID, deadApp.Generation)
	if err := s.DeleteApp(deadApp.AppID); err != nil {
		f.Fatal(err)
	}

	now := fx.clock.Now()
	claims := sdkClaims{Scope: "sdk", AppID: app.AppID, Gen: app.Generation, RegisteredClaims: jwt.RegisteredClaims{
		Subject: "u1", IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}}
	forged := func(m jwt.SigningMethod, key any) string {
		tok, err := jwt.NewWithClaims(m, claims).SignedString(key)
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	parts := strings.Split(live, ".")
	for _, seed := range []string{
		live, other, byKey, dead,
		live + " ", " " + live, live + ".", live + "=", live[:len(live)-1], live[:len(live)-1] + "A",
		parts[0] + "." + parts[1], parts[0] + ".." + parts[2], "." + parts[1] + "." + parts[2],
		parts[0] + "." + strings.Split(other, ".")[1] + "." + parts[2],
		forged(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType),
		forged(jwt.SigningMethodHS512, s.secret),
		forged(jwt.SigningMethodHS384, s.secret),
		forged(jwt.SigningMethodHS256, []byte("not the service's secret........")),
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MSIsInNjb3BlIjoic2RrIn0.",
		"", ".", "..", "...", "a.b.c", "Bearer " + live, strings.Repeat("A", 5000),
		"eyJ", "eyJhbGciOiJIUzI1NiJ9.e30.", "\x00\xff", "rt-0123456789abcdef0123456789abcdef",
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, raw string) {
		p, err := s.SDKToken(raw)
		if err != nil {
			if p != nil {
				t.Fatalf("error %v with a principal %+v", err, p)
			}
			return
		}
		i := strings.LastIndexByte(raw, '.')
		if i < 0 {
			t.Fatalf("accepted a string without a signature: %q", raw)
		}
		who, ok := minted[raw[:i]]
		if !ok {
			t.Fatalf("accepted a token the service never minted: %q", raw)
		}
		if p.Kind != KindSDKToken || p.UserID != who.user || p.AppID != who.app {
			t.Fatalf("token of %+v resolved to %+v", who, p)
		}
		if who.app == deadApp.AppID {
			t.Fatalf("accepted a token of a deleted application: %q", raw)
		}
	})
}
