package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// Exit codes, as the usual Unix tools use them.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is a command line that cannot be run as written: a flag that
// does not exist or does not parse, a missing or extra argument. It exits 2
// and points at the command's -h.
type usageError struct {
	cmd string
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, err: fmt.Errorf(format, args...)}
}

// command is one subcommand of the binary.
type command struct {
	name, args, summary string
	run                 func(args []string) error
}

func commands() []command {
	return []command{
		{"serve", "[flags]", "run the server (the default command)", serve},
		{"bench", "[flags]", "measure ingest throughput and latency", benchCmd},
		{"backup", "[flags] <dir>", "download a consistent copy of the store into a new directory (the server may run)", backupCmd},
		{"account", "create|reset-password", "make a console account, or give one a new password (server stopped)", accountCmd},
		{"audit", "verify [flags]", "check the audit trail's hash chain (server stopped)", auditCmd},
		{"import", "[flags] <file>", "upload an Apple Health export (export.zip or export.xml) for a user, and follow its import", importCmd},
		{"keygen", "<file>", "write a new encryption key for --encryption-key-file (32 random bytes, mode 0600)", keygenCmd},
		{"rotate-key", "[flags]", "rewrite a stopped server's store under a new encryption key (--encryption-key-file new, --old-key-file old)", rotateKeyCmd},
		{"restore", "[flags] <dir>", "put a backup in place as a new data directory (server stopped)", restoreCmd},
		{"version", "", "print the version, the commit and the build date", func(args []string) error {
			if len(args) > 0 {
				return usagef("version", "unexpected argument %q", args[0])
			}
			fmt.Println(versionLine())
			return nil
		}},
		{"help", "", "list the commands", func([]string) error { usage(os.Stdout); return nil }},
	}
}

// run is the whole command line; it returns the exit code.
func run(args []string, stderr io.Writer) int {
	name := "serve"
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help":
			name, args = "help", args[1:]
		case "-version", "--version":
			name, args = "version", args[1:]
		default:
			if !strings.HasPrefix(args[0], "-") {
				name, args = args[0], args[1:]
			}
		}
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == name {
			cmd = &c
			break
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "wearhouse: unknown command %q\n\n", name)
		usage(stderr)
		return exitUsage
	}
	err := cmd.run(args)
	var uerr *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &uerr):
		fmt.Fprintf(stderr, "wearhouse %s: %v\nRun 'wearhouse %s -h' for its usage.\n", uerr.cmd, uerr.err, uerr.cmd)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "wearhouse %s: %v\n", name, err)
		return exitFailure
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: wearhouse <command> [flags] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %-14s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "'wearhouse <command> -h' lists a command's flags. Every flag of serve also reads an")
	fmt.Fprintln(w, "environment variable: --data-dir is WEARHOUSE_DATA_DIR, --max-body WEARHOUSE_MAX_BODY, ...")
}

// parseArgs parses a subcommand's flags wherever they stand among its
// arguments ("backup /srv/bk --target ..." as well as "backup --target ...
// /srv/bk"); everything after "--" is an argument. Errors are returned, not
// printed, so that they are printed once; -h prints the flags to stdout.
func parseArgs(fs *flag.FlagSet, synopsis string, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var rest []string
	if i := indexOf(args, "--"); i >= 0 {
		args, rest = args[:i], args[i+1:]
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Printf("Usage: wearhouse %s %s\n\n", fs.Name(), synopsis)
				fs.SetOutput(os.Stdout)
				fs.PrintDefaults()
				return nil, err
			}
			return nil, &usageError{cmd: fs.Name(), err: err}
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return append(positional, rest...), nil
}

func indexOf(ss []string, s string) int {
	for i, v := range ss {
		if v == s {
			return i
		}
	}
	return -1
}

// versionLine is the version, with the commit and its date that Go embeds
// in a build from a git checkout.
func versionLine() string {
	var (
		rev, at string
		dirty   bool
	)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	platform := fmt.Sprintf("%s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if rev == "" {
		return fmt.Sprintf("wearhouse %s, %s (built without version control information)", version, platform)
	}
	changes := ""
	if dirty {
		changes = " with local changes"
	}
	return fmt.Sprintf("wearhouse %s, commit %s of %s%s, %s", version, rev, at, changes, platform)
}
