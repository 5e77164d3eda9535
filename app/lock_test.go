package app

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"wearhouse/pebblestore"
)

// A second instance on the same data directory is told whose it is, not
// "resource temporarily unavailable".
func TestSecondInstanceIsToldTheDirectoryIsInUse(t *testing.T) {
	dir := t.TempDir()
	start := func() (*App, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a, err := Start(Options{Store: pebblestore.Options{Dir: dir}, Logger: zerolog.Nop(), Announce: nopWriter{}}, ln)
		if err != nil {
			ln.Close()
		}
		return a, err
	}
	a, err := start()
	if err != nil {
		t.Fatal(err)
	}
	_, err = start()
	want := "is in use by another wearhouse (pid " + strconv.Itoa(os.Getpid()) + ")"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("second start: %v, want %q", err, want)
	}
	if err := a.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Once the first has stopped, the directory is free again.
	b, err := start()
	if err != nil {
		t.Fatalf("start after close: %v", err)
	}
	if err := b.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, lockFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v, %v", fi, err)
	}
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
