package main

import (
	"errors"
	"flag"
	"fmt"

	"wearhouse/audit"
)

// errAuditBroken is a trail whose chain is broken; the command exits 1.
var errAuditBroken = errors.New("the audit trail's chain is broken")

// auditCmd is `wearhouse audit verify`: walks the audit trail of a stopped
// server's data directory (or of a backup restored into one) and checks
// every record's place and hash in the chain.
func auditCmd(args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return usagef("audit", "audit needs a subcommand: verify")
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	dataDir := fs.String("data-dir", envOr("WEARHOUSE_DATA_DIR", "./data"), "data directory of the stopped server, or a restored backup")
	keyFile := keyFileFlag(fs)
	pos, err := parseArgs(fs, "[flags]", args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("audit", "unexpected argument %q", pos[0])
	}
	st, err := openStopped(*dataDir, *keyFile)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := audit.Verify(st)
	if err != nil {
		return err
	}
	from := "the first record written"
	if r.Anchored {
		from = "the retention anchor"
	}
	fmt.Printf("%d records, %d to %d, checked from %s\n", r.Records, r.First, r.Last, from)
	for _, p := range r.Problems {
		fmt.Println("BROKEN: " + p)
	}
	if len(r.Problems) > 0 {
		return errAuditBroken
	}
	fmt.Println("the chain is intact")
	return nil
}
