package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rs/zerolog"

	"wearhouse/audit"
	"wearhouse/auth"
)

// accountCmd is `wearhouse account create|reset-password`: the console's
// human accounts, changed in the data directory of a stopped server (the
// store's lock refuses a running one). The password is read from the first
// line of standard input when it is not a terminal; on a terminal a random
// one is made and shown once.
func accountCmd(args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "reset-password") {
		return usagef("account", "account needs a subcommand: create or reset-password")
	}
	sub := args[0]
	fs := flag.NewFlagSet("account "+sub, flag.ContinueOnError)
	dataDir := fs.String("data-dir", envOr("WEARHOUSE_DATA_DIR", "./data"), "data directory of the stopped server")
	email := fs.String("email", "", "the account's e-mail address (required)")
	role := fs.String("role", string(auth.RoleAdmin), "create: admin or viewer")
	keyFile := keyFileFlag(fs)
	pos, err := parseArgs(fs, "--email <address> [flags]", args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("account", "unexpected argument %q", pos[0])
	}
	if *email == "" {
		return usagef("account", "--email is required")
	}
	password, shown, err := readPassword(os.Stdin)
	if err != nil {
		return err
	}
	st, err := openStopped(*dataDir, *keyFile)
	if err != nil {
		return err
	}
	defer st.Close()
	accounts := auth.NewAccountStore(st, nil)
	var a *auth.Account
	if sub == "create" {
		a, err = accounts.CreateAccount(*email, password, auth.Role(*role))
	} else {
		a, err = accounts.SetPassword(*email, password)
	}
	if err != nil {
		return err
	}
	// The command line's changes are in the audit trail too.
	if trail, err := audit.Open(st, audit.Options{Logger: zerolog.Nop()}); err == nil {
		trail.Record(audit.Event{Action: "credential", Method: "CLI", Route: "account " + sub, Status: 200,
			Actor: audit.Actor{Kind: "cli"}, Target: map[string]string{"account": a.Email}})
		trail.Close()
	}
	verb := "created"
	if sub == "reset-password" {
		verb = "has a new password; its sessions have ended"
	}
	fmt.Printf("account %s (%s) %s\n", a.Email, a.Role, verb)
	if shown {
		fmt.Printf("password: %s\n(shown once: it is stored only as its hash)\n", password)
	}
	return nil
}

// readPassword reads a password from the first line of f, or makes one
// when f is a terminal (shown is then true).
func readPassword(f *os.File) (password string, shown bool, err error) {
	if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		p, err := auth.NewAPIKey() // 32 random characters after its prefix
		return strings.TrimPrefix(p, "sk-"), true, err
	}
	line, err := bufio.NewReader(io.LimitReader(f, auth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, err
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}
