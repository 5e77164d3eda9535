package main

// Fault test of the real binary: started on a data directory with a
// flipped byte in an older file (the MANIFEST, or a table written by a
// flush), the server must refuse to run with a clear message and a
// non-zero exit, and must not delete or change the files that hold the
// data.

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/pebblestore"
)

func TestFaultBinaryRefusesDamagedStore(t *testing.T) {
	bin := wearhouseBinary(t)
	rng := rand.New(rand.NewPCG(pickSeed(t), 7))
	src := t.TempDir()
	p := startServer(t, bin, src)
	c, tr := newCrashClient()
	defer tr.CloseIdleConnections()
	gen := newBodyGen(rng)
	for range 60 {
		r := gen.next()
		if status, a, raw, err := postSync(c, p.base, r); err != nil || checkAnswer(r, status, a, raw, false) != "" {
			t.Fatalf("load: %d %v %s", status, err, raw)
		}
	}
	tr.CloseIdleConnections()
	p.stop(t)
	// A table: the queue flushed from the memtable.
	st, err := pebblestore.Open(pebblestore.Options{Dir: src, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name   string
		damage func(t *testing.T, dir string) string // returns the file damaged
		// want are the words the message must hold, besides the file's name.
		want []string
		// keep selects the files that must not change (nil for all).
		keep func(name string) bool
	}{
		{"MANIFEST", damageManifest, []string{"damaged", "backup"}, nil},
		{"table", damageTable, []string{"corruption", "checksum", "backup"}, func(n string) bool { return strings.HasSuffix(n, ".sst") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDataDir(t, src)
			damaged := tc.damage(t, dir)
			before := faultListing(t, dir)
			port, err := freeLoopbackPort()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "serve", "--data-dir", dir, "--listen", fmt.Sprintf("127.0.0.1:%d", port),
				"--log-level", "warn", "--disk-reserve", "64MiB")
			cmd.Env = serverEnv()
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			var waitErr error
			select {
			case waitErr = <-exited:
			case <-time.After(crashProcessTimeout):
				cmd.Process.Kill()
				<-exited
				t.Fatalf("the server ran on a damaged store for %v; output:\n%s", crashProcessTimeout, out.String())
			}
			msg := out.String()
			first, _, _ := strings.Cut(msg, "\n")
			t.Logf("exit: %v; first line of the output: %.600s", waitErr, first)
			if waitErr == nil || cmd.ProcessState.ExitCode() <= 0 {
				t.Errorf("exit %v, want a non-zero exit code", cmd.ProcessState)
			}
			for _, w := range append(tc.want, damaged) {
				if !strings.Contains(msg, w) {
					t.Errorf("the output does not say %q:\n%.2000s", w, msg)
				}
			}
			if ch := faultListingChanges(before, faultListing(t, dir), tc.keep); len(ch) > 0 {
				t.Errorf("files changed by the attempt:\n%s", strings.Join(ch, "\n"))
			}
			if tc.keep != nil {
				t.Logf("other changes: %q", faultListingChanges(before, faultListing(t, dir), func(n string) bool { return !tc.keep(n) }))
			}
		})
	}
}

// damageManifest flips a byte in the payload of the MANIFEST's first
// record, which is older than its last one.
func damageManifest(t *testing.T, dir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "MANIFEST-*"))
	if len(m) == 0 {
		t.Fatal("no MANIFEST")
	}
	slices.Sort(m)
	path := m[len(m)-1]
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first := 7 + int(binary.LittleEndian.Uint16(b[4:]))
	if first >= len(b) {
		t.Fatalf("%s has a single record", path)
	}
	b[first/2] ^= 0x04
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return filepath.Base(path)
}

// damageTable flips a byte in the first data block of the newest table.
func damageTable(t *testing.T, dir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(m) == 0 {
		t.Fatal("no table")
	}
	// The largest table holds the queue, which the server reads at once
	// (a flush writes the queue's key range to a table of its own).
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	path := slices.MaxFunc(m, func(a, b string) int { return cmp.Compare(size(a), size(b)) })
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[16] ^= 0x01
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return filepath.Base(path)
}

// copyDataDir copies the files of a stopped server's data directory.
func copyDataDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// faultListing lists the regular files of dir: name -> size and SHA-256.
func faultListing(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		out[e.Name()] = fmt.Sprintf("%d bytes %s", len(b), hex.EncodeToString(sum[:8]))
	}
	return out
}

// faultListingChanges describes how after differs from before; keep
// selects the files that matter (nil for all).
func faultListingChanges(before, after map[string]string, keep func(string) bool) []string {
	var out []string
	for name, b := range before {
		if keep != nil && !keep(name) {
			continue
		}
		switch a, ok := after[name]; {
		case !ok:
			out = append(out, name+" ("+b+") was deleted")
		case a != b:
			out = append(out, name+" changed: "+b+" -> "+a)
		}
	}
	for name, a := range after {
		if _, ok := before[name]; !ok && (keep == nil || keep(name)) {
			out = append(out, name+" ("+a+") was created")
		}
	}
	slices.Sort(out)
	return out
}
