package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestAccounts(t *testing.T) {
	f := newFixture(t, nil)
	s := f.svc.Accounts
	a, err := s.CreateAccount("  Ada@Example.org ", "correct horse battery", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if a.Email != "ada@example.org" || a.Role != RoleAdmin || a.Generation != 1 {
		t.Fatalf("created %+v", a)
	}
	if _, err := s.CreateAccount("ada@example.org", "another long password", RoleViewer); !errors.Is(err, ErrAccountExists) {
		t.Errorf("a second account for the address: %v", err)
	}
	var inv *InvalidAccountError
	for _, c := range []struct{ email, pw, role string }{
		{"not an address", "correct horse battery", "admin"},
		{"Ada <ada2@example.org>", "correct horse battery", "admin"},
		{"bob@example.org", "short", "admin"},
		{"bob@example.org", strings.Repeat("x", MaxPasswordLen+1), "admin"},
		{"bob@example.org", "correct horse battery", "root"},
	} {
		if _, err := s.CreateAccount(c.email, c.pw, Role(c.role)); !errors.As(err, &inv) {
			t.Errorf("%q, a password of %d bytes, %q: %v, want an InvalidAccountError", c.email, len(c.pw), c.role, err)
		}
	}

	if got, err := s.Login("ADA@example.org", "correct horse battery"); err != nil || got.Email != "ada@example.org" {
		t.Fatalf("login: %+v %v", got, err)
	}
	for _, c := range [][2]string{{"ada@example.org", "wrong horse battery"}, {"nobody@example.org", "correct horse battery"},
		{"not an address", "x"}, {"ada@example.org", strings.Repeat("y", 10_000)}} {
		if _, err := s.Login(c[0], c[1]); !errors.Is(err, ErrBadLogin) {
			t.Errorf("login %q: %v, want ErrBadLogin", c[0], err)
		}
	}

	// A new password: the old one stops, the generation moves on, and it
	// holds after a restart.
	if a, err = s.SetPassword("ada@example.org", "a brand new passphrase"); err != nil || a.Generation != 2 {
		t.Fatalf("set password: %+v %v", a, err)
	}
	s = f.open().Accounts
	if _, err := s.Login("ada@example.org", "correct horse battery"); !errors.Is(err, ErrBadLogin) {
		t.Errorf("the old password still works: %v", err)
	}
	if got, err := s.Login("ada@example.org", "a brand new passphrase"); err != nil || got.Generation != 2 {
		t.Errorf("the new password: %+v %v", got, err)
	}

	// The password is stored only as its argon2id hash.
	v, err := f.store.Account("ada@example.org")
	if err != nil || strings.Contains(string(v), "passphrase") || !strings.Contains(string(v), "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("stored record %s (%v)", v, err)
	}

	if _, err := s.CreateAccount("vera@example.org", "viewer's own password", RoleViewer); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccount("ada@example.org"); !errors.As(err, &inv) {
		t.Errorf("deleting the last admin: %v", err)
	}
	if err := s.DeleteAccount("vera@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAccount("vera@example.org"); !errors.Is(err, ErrNoAccount) {
		t.Errorf("deleting again: %v", err)
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].Email != "ada@example.org" {
		t.Errorf("accounts %+v %v", list, err)
	}
}

// TestVerifyPassword: a hash is checked with its own parameters, and a
// malformed one never matches.
func TestVerifyPassword(t *testing.T) {
	h, err := hashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !verifyPassword(h, "correct horse battery") || verifyPassword(h, "correct horse batterz") {
		t.Fatal("verify")
	}
	h2, _ := hashPassword("correct horse battery")
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=19456,t=2,p=1$AAAA$AAAA", "$argon2id$v=19$m=99999999,t=2,p=1$AAAA$AAAA",
		"$argon2id$v=19$m=19456,t=2,p=1$!!$AAAA", strings.Replace(h, "t=2", "t=3", 1)} {
		if verifyPassword(bad, "correct horse battery") {
			t.Errorf("%q matched", bad)
		}
	}
}
