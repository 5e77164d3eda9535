package main

import (
	"os"
	"testing"

	"github.com/rs/zerolog"

	"wearhouse/auth"
	"wearhouse/pebblestore"
)

// withStdin runs fn with standard input reading s from a pipe.
func withStdin(t *testing.T, s string, fn func()) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString(s)
	w.Close()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	fn()
}

// TestAccountCommand: an account made and given a new password from the
// command line logs in with it, and nothing else of the credentials moves.
func TestAccountCommand(t *testing.T) {
	dir := t.TempDir()
	st, err := pebblestore.Open(pebblestore.Options{Dir: dir, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	withStdin(t, "first long password\n", func() {
		if err := accountCmd([]string{"create", "--data-dir", dir, "--email", "Ada@Example.org"}); err != nil {
			t.Fatal(err)
		}
	})
	withStdin(t, "second long password\n", func() {
		if err := accountCmd([]string{"reset-password", "--data-dir", dir, "--email", "ada@example.org"}); err != nil {
			t.Fatal(err)
		}
	})
	withStdin(t, "short\n", func() {
		if err := accountCmd([]string{"reset-password", "--data-dir", dir, "--email", "ada@example.org"}); err == nil {
			t.Error("a short password was taken")
		}
	})
	if err := accountCmd([]string{"delete"}); err == nil {
		t.Error("an unknown subcommand ran")
	}
	st, err = pebblestore.Open(pebblestore.Options{Dir: dir, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := auth.NewAccountStore(st, nil).Login("ada@example.org", "second long password")
	if err != nil || a.Role != auth.RoleAdmin || a.Generation != 2 {
		t.Fatalf("login: %+v %v", a, err)
	}
	if _, err := os.Stat(dir + "/" + auth.AdminKeyFile); err == nil {
		t.Error("the command made an admin key")
	}
}
