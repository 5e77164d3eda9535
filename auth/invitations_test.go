package auth

import (
	"bytes"
	"errors"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	codeRE = regexp.MustCompile(`^[A-HJ-NP-Z2-9]{8}$`)
	here   = netip.MustParseAddr("192.0.2.1")
)

func (f *fixture) invite(user, by string) *Invitation {
	f.t.Helper()
	inv, err := f.svc.CreateInvitation(user, by)
	if err != nil {
		f.t.Fatal(err)
	}
	return inv
}

func (f *fixture) redeem(code string) (*TokenPair, string, error) {
	f.t.Helper()
	return f.svc.RedeemInvitation(code, here)
}

// TestInvitationLifecycle: a code is 8 characters of the alphabet, valid
// for 7 days, once; it gives an SDK token and a refresh token of its user
// minted for "invite:<key id>"; a new code revokes the older; and neither
// the code nor its record's secret is stored or logged.
func TestInvitationLifecycle(t *testing.T) {
	f := newFixture(t, nil)
	f.user("u1")
	if _, err := f.svc.CreateInvitation("nobody", "key_admin_env"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a code for a user that does not exist: %v, want ErrNotFound", err)
	}
	inv := f.invite("u1", "key_admin_env")
	if !codeRE.MatchString(inv.Code) || inv.UserID != "u1" || !IsUUID(inv.ID) ||
		inv.ExpiresAt.Sub(inv.CreatedAt) != 7*24*time.Hour || !inv.CreatedAt.Equal(f.clock.Now()) {
		t.Fatalf("invitation %+v", inv)
	}
	pair, user, err := f.redeem(inv.Code)
	if err != nil || user != "u1" || pair.ExpiresIn != 3600 || !refreshRE.MatchString(pair.RefreshToken) {
		t.Fatalf("redeem: %v %q %+v", err, user, pair)
	}
	p, err := f.svc.SDKToken(pair.AccessToken)
	if err != nil || p.UserID != "u1" || p.AppID != "invite:key_admin_env" || p.Session == "" {
		t.Fatalf("the redeemed token: %v %+v", err, p)
	}
	if _, _, err := f.svc.Refresh(pair.RefreshToken); err != nil {
		t.Errorf("the redeemed refresh token: %v", err)
	}
	if _, _, err := f.redeem(inv.Code); !errors.Is(err, ErrInvalidInvitation) {
		t.Errorf("a code redeemed twice: %v", err)
	}

	older := f.invite("u1", "key_admin_env")
	newer := f.invite("u1", "key_admin_env")
	if _, _, err := f.redeem(older.Code); !errors.Is(err, ErrInvalidInvitation) {
		t.Errorf("a code revoked by a newer one: %v", err)
	}
	if _, _, err := f.redeem(newer.Code); err != nil {
		t.Errorf("the newer code: %v", err)
	}

	late := f.invite("u1", "key_admin_env")
	f.clock.Add(InvitationTTL - time.Second)
	early := f.invite("u1", "key_admin_env") // revokes late
	f.clock.Add(time.Second)
	if _, _, err := f.redeem(late.Code); !errors.Is(err, ErrInvalidInvitation) {
		t.Errorf("a revoked code: %v", err)
	}
	if _, _, err := f.redeem(early.Code); err != nil {
		t.Errorf("a code one second short of its 7 days: %v", err)
	}
	expired := f.invite("u1", "key_admin_env")
	f.clock.Add(InvitationTTL)
	if _, _, err := f.redeem(expired.Code); !errors.Is(err, ErrInvalidInvitation) {
		t.Errorf("a code of 7 days: %v", err)
	}

	codes := []string{inv.Code, older.Code, newer.Code, late.Code, early.Code, expired.Code}
	if err := f.store.Each(func(k, v []byte) error {
		for _, c := range codes {
			if bytes.Contains(k, []byte(c)) || bytes.Contains(v, []byte(c)) {
				t.Errorf("code %s is stored in the clear under %q", c, k[:1])
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	logs := f.logs.String()
	for _, c := range codes {
		if strings.Contains(logs, c) {
			t.Errorf("code %s is in the log", c)
		}
	}
	for _, ev := range []string{"created", "redeemed", "refused"} {
		if !strings.Contains(logs, `"event":"credential.`+ev+`","kind":"invitation_code"`) {
			t.Errorf("no %s event of an invitation code in the log", ev)
		}
	}
}

// TestInvitationDiesWithItsUserAndKey: the erasure of the user erases its
// code; a code (and the tokens redeemed from one) stops with the key that
// created it, as the tokens a key mints do.
func TestInvitationDiesWithItsUserAndKey(t *testing.T) {
	f := newFixture(t, nil)
	u := f.user("u1")
	f.user("u2")
	erased := f.invite("u1", "key_admin_env")
	kept := f.invite("u2", "key_admin_env")
	if _, err := f.store.DeleteUser(u); err != nil {
		t.Fatal(err)
	}
	f.user("u1") // created again: the code was of the user erased
	if _, _, err := f.redeem(erased.Code); !errors.Is(err, ErrInvalidInvitation) {
		t.Errorf("the code of an erased user: %v", err)
	}
	if _, _, err := f.redeem(kept.Code); err != nil {
		t.Errorf("another user's code after the erasure: %v", err)
	}

	_, rec := f.key("pairing", ScopeWrite)
	redeemed, _, err := f.redeem(f.invite("u1", rec.ID).Code)
	if err != nil {
		t.Fatal(err)
	}
	pending := f.invite("u2", rec.ID)
	if _, err := f.svc.DeleteKey(rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.redeem(pending.Code); !errors.Is(err, ErrInvalidInvitation) {
		t.Errorf("the code of a deleted key: %v", err)
	}
	if _, err := f.svc.SDKToken(redeemed.AccessToken); err == nil {
		t.Error("an SDK token redeemed from a deleted key's code still holds")
	}
	if _, _, err := f.svc.Refresh(redeemed.RefreshToken); !errors.Is(err, ErrInvalidRefreshToken) {
		t.Errorf("its refresh token: %v", err)
	}
}

// TestInvitationRedeemedOnce: racing redemptions of one code give one
// pair of tokens. (Those that look the code up after it is spent count as
// wrong codes: the limit is raised above them.)
func TestInvitationRedeemedOnce(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.BadCredentials, o.RedeemFailures = 1000, 1000 })
	f.user("u1")
	const rounds, racers = 10, 8
	for i := 0; i < rounds; i++ {
		code := f.invite("u1", "key_admin_env").Code
		ok := race(racers, func() bool {
			_, _, err := f.redeem(code)
			if err != nil && !errors.Is(err, ErrInvalidInvitation) {
				t.Errorf("a racing redemption: %v", err)
			}
			return err == nil
		})
		if ok != 1 {
			t.Fatalf("round %d: %d redemptions of one code succeeded, want 1", i, ok)
		}
	}
}

func TestParseInvitationCode(t *testing.T) {
	for in, want := range map[string]string{
		"ABCDEFGH": "ABCDEFGH", "abcd efgh": "ABCDEFGH", " ab-cd-ef-23 ": "ABCDEF23", "\tk7m2 p9q4\t": "K7M2P9Q4",
		"ABCDEFG": "", "ABCDEFGHJ": "", "ABCDEFG0": "", "ABCDEFGI": "", "ABCDEFGO": "", "ABCDEFG1": "",
		"ABCD_EFG": "", "": "", "ÀBCDEFGH": "", strings.Repeat(" ", 100) + "ABCDEFGH": "",
	} {
		got, ok := ParseInvitationCode(in)
		if got != want || ok != (want != "") {
			t.Errorf("ParseInvitationCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestWrongInvitationCodesThrottled: wrong codes count against their
// address, and those that pass it against the cap of all addresses
// together; past either, wrong codes are throttled until the window ends,
// and a right code is always answered.
func TestWrongInvitationCodesThrottled(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.BadCredentials, o.RedeemFailures = 3, 5 })
	f.user("u1")
	a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
	wrong := func(from netip.Addr) error {
		_, _, err := f.svc.RedeemInvitation("ZZZZZZZZ", from)
		return err
	}
	throttled := func(err error, everyone bool) bool {
		var te *ThrottledError
		return errors.As(err, &te) && te.Everyone == everyone && te.RetryAfter > 0 && te.RetryAfter <= time.Minute
	}
	for i := 0; i < 3; i++ {
		if err := wrong(a); !errors.Is(err, ErrInvalidInvitation) {
			t.Fatalf("wrong code %d from a: %v", i+1, err)
		}
	}
	if err := wrong(a); !throttled(err, false) {
		t.Fatalf("a's fourth wrong code: %v, want throttled for its address", err)
	}
	for i := 0; i < 10; i++ { // refused for the address: not counted in the cap
		_ = wrong(a)
	}
	if _, _, err := f.svc.RedeemInvitation(f.invite("u1", "key_admin_env").Code, a); err != nil {
		t.Errorf("a right code from a throttled address: %v", err)
	}
	for i := 0; i < 2; i++ {
		if err := wrong(b); !errors.Is(err, ErrInvalidInvitation) {
			t.Fatalf("wrong code %d from b: %v", i+1, err)
		}
	}
	if err := wrong(b); !throttled(err, true) {
		t.Fatalf("the sixth wrong code of all addresses: %v, want throttled for everyone", err)
	}
	if _, _, err := f.svc.RedeemInvitation(f.invite("u1", "key_admin_env").Code, c); err != nil {
		t.Errorf("a right code past the cap: %v", err)
	}
	if !strings.Contains(f.logs.String(), "too many wrong invitation codes") {
		t.Error("the cap was reached without a log line")
	}
	f.clock.Add(time.Minute)
	if err := wrong(b); !errors.Is(err, ErrInvalidInvitation) {
		t.Errorf("a wrong code in the next minute: %v", err)
	}
}

// TestSignOut revokes the refresh tokens of the token's sign-in, through
// its rotations, and no other sign-in's of the user.
func TestSignOut(t *testing.T) {
	f := newFixture(t, nil)
	f.user("u1")
	first, _, err := f.redeem(f.invite("u1", "key_admin_env").Code)
	if err != nil {
		t.Fatal(err)
	}
	rotated, _, err := f.svc.Refresh(first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := f.redeem(f.invite("u1", "key_admin_env").Code) // another phone
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.SDKToken(first.AccessToken) // the token from before the rotation: the same sign-in
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.SignOut(p); err != nil || n != 1 {
		t.Fatalf("sign-out: %d revoked, %v; want 1", n, err)
	}
	if _, _, err := f.svc.Refresh(rotated.RefreshToken); !errors.Is(err, ErrInvalidRefreshToken) {
		t.Errorf("the signed-out refresh token: %v", err)
	}
	if _, _, err := f.svc.Refresh(other.RefreshToken); err != nil {
		t.Errorf("another sign-in's refresh token: %v", err)
	}
	key, err := f.svc.APIKey(testAdminKey)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.SignOut(key); err != nil || n != 0 {
		t.Errorf("sign-out with an API key: %d revoked, %v", n, err)
	}
}
