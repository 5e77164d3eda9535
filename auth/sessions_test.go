package auth

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSessions: a session lasts while it is used, and ends at logout,
// after the idle time, at a password change and with its account; its
// token is stored only as its hash; the CSRF token is the session's own.
func TestSessions(t *testing.T) {
	f := newFixture(t, nil)
	s := f.svc.Accounts
	s.SetSessionIdle(15 * time.Minute)
	if _, err := s.CreateAccount("ada@example.org", "correct horse battery", RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAccount("vera@example.org", "viewer's own password", RoleViewer); err != nil {
		t.Fatal(err)
	}
	login := func(email, pw string) string {
		t.Helper()
		a, err := s.Login(email, pw)
		if err != nil {
			t.Fatal(err)
		}
		token, sess, err := s.StartSession(a)
		if err != nil || sess.CSRF == "" || len(token) < 40 {
			t.Fatalf("start: %q %+v %v", token, sess, err)
		}
		return token
	}
	token := login("ada@example.org", "correct horse battery")
	sess, err := s.Session(token)
	if err != nil || sess.Account.Email != "ada@example.org" || sess.Account.Role != RoleAdmin {
		t.Fatalf("session: %+v %v", sess, err)
	}
	if !sess.CheckCSRF(sess.CSRF) || sess.CheckCSRF("") || sess.CheckCSRF(sess.CSRF+"x") {
		t.Error("CSRF check")
	}
	if _, err := s.Session(token + "x"); !errors.Is(err, ErrNoSession) {
		t.Errorf("a wrong token: %v", err)
	}
	n := 0
	f.store.Sessions(func(_ [32]byte, v []byte) bool {
		n++
		if strings.Contains(string(v), token) {
			t.Error("the token is stored")
		}
		return true
	})
	if n != 1 {
		t.Errorf("%d sessions stored", n)
	}

	// Used every 10 minutes, it lasts; 15 minutes unused, it ends.
	for range 4 {
		f.clock.Add(10 * time.Minute)
		if _, err := s.Session(token); err != nil {
			t.Fatalf("a session in use ended: %v", err)
		}
	}
	f.clock.Add(15 * time.Minute)
	if _, err := s.Session(token); !errors.Is(err, ErrNoSession) {
		t.Errorf("after 15 idle minutes: %v", err)
	}

	// A password change ends the account's sessions, not another's.
	token = login("ada@example.org", "correct horse battery")
	other := login("vera@example.org", "viewer's own password")
	if _, err := s.SetPassword("ada@example.org", "a brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(token); !errors.Is(err, ErrNoSession) {
		t.Errorf("after a password change: %v", err)
	}
	if _, err := s.Session(other); err != nil {
		t.Errorf("another account's session: %v", err)
	}
	// Logout, and the account's deletion.
	token = login("ada@example.org", "a brand new passphrase")
	if err := s.EndSession(token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(token); !errors.Is(err, ErrNoSession) {
		t.Errorf("after logout: %v", err)
	}
	if err := s.DeleteAccount("vera@example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(other); !errors.Is(err, ErrNoSession) {
		t.Errorf("after the account's deletion: %v", err)
	}

	// The sweep deletes the sessions that ended unseen: a login runs it
	// every sweepEvery.
	login("ada@example.org", "a brand new passphrase")
	login("ada@example.org", "a brand new passphrase")
	f.clock.Add(time.Hour)
	if n, err := s.SweepSessions(); err != nil || n != 2 {
		t.Errorf("swept %d (%v), want 2", n, err)
	}
	login("ada@example.org", "a brand new passphrase")
	f.clock.Add(time.Hour)
	kept := login("ada@example.org", "a brand new passphrase")
	stored := 0
	if err := s.store.Sessions(func([32]byte, []byte) bool { stored++; return true }); err != nil || stored != 1 {
		t.Errorf("%d sessions stored after a login's sweep (%v), want the live one alone", stored, err)
	}
	if _, err := s.Session(kept); err != nil {
		t.Errorf("the live session was swept: %v", err)
	}
}
