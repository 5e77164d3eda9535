package main

import (
	"bytes"
	"flag"
	"slices"
	"strings"
	"testing"
)

func TestParseArgsTakesFlagsAnywhere(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		target     string
		positional []string
	}{
		{[]string{"/srv/bk", "--target", "http://a"}, "http://a", []string{"/srv/bk"}},
		{[]string{"--target", "http://a", "/srv/bk"}, "http://a", []string{"/srv/bk"}},
		{[]string{"x", "--target=http://b", "y"}, "http://b", []string{"x", "y"}},
		{[]string{"--", "--target", "z"}, "", []string{"--target", "z"}},
		{[]string{"a", "--", "-b"}, "", []string{"a", "-b"}},
	} {
		fs := flag.NewFlagSet("backup", flag.ContinueOnError)
		target := fs.String("target", "", "")
		pos, err := parseArgs(fs, "", tc.args)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if *target != tc.target || !slices.Equal(pos, tc.positional) {
			t.Errorf("%q: target %q, positional %q; want %q, %q", tc.args, *target, pos, tc.target, tc.positional)
		}
	}
}

func TestExitCodesAndMessages(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string // a part of what is printed, once
	}{
		{[]string{"help"}, exitOK, ""},
		{[]string{"--help"}, exitOK, ""},
		{[]string{"-h"}, exitOK, ""},
		{[]string{"serve", "-h"}, exitOK, ""},
		{[]string{"backup", "--help"}, exitOK, ""},
		{[]string{"version"}, exitOK, ""},
		{[]string{"--version"}, exitOK, ""},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"serve", "--no-such-flag"}, exitUsage, "flag provided but not defined: -no-such-flag"},
		{[]string{"serve", "--read-timeout", "soon"}, exitUsage, `invalid value "soon" for flag -read-timeout`},
		{[]string{"serve", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"backup"}, exitUsage, "backup needs one argument"},
		{[]string{"restore", "a", "b"}, exitUsage, "restore needs one argument"},
		{[]string{"version", "x"}, exitUsage, `unexpected argument "x"`},
		{[]string{"serve", "--tls-cert", "cert.pem"}, exitUsage, "--tls-cert and --tls-key go together"},
		{[]string{"bench", "--target", "http://127.0.0.1:1"}, exitUsage, "--api-key is required with --target"},
	} {
		var stderr bytes.Buffer
		code := run(tc.args, &stderr)
		if code != tc.code {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tc.args, code, tc.code, stderr.String())
		}
		if tc.stderr != "" && strings.Count(stderr.String(), tc.stderr) != 1 {
			t.Errorf("%q: stderr %q, want %q once", tc.args, stderr.String(), tc.stderr)
		}
		if tc.stderr == "" && stderr.Len() > 0 {
			t.Errorf("%q: stderr %q, want nothing", tc.args, stderr.String())
		}
	}
}

func TestEnvironmentErrorNamesTheVariable(t *testing.T) {
	for name, want := range map[string]string{
		"WEARHOUSE_AUTO_CREATE_USERS": "want true or false",
		"WEARHOUSE_READ_TIMEOUT":      "want a duration",
		"WEARHOUSE_MAX_BODY":          "want a size",
		"WEARHOUSE_MAX_ITEMS":         "want a whole number",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, "bogus")
			var stderr bytes.Buffer
			if code := run([]string{"serve"}, &stderr); code != exitUsage {
				t.Fatalf("exit %d, want %d (stderr %q)", code, exitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), name+`="bogus"`) || !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr %q, want the variable and %q", stderr.String(), want)
			}
		})
	}
}
