package ingest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"
)

// TestBallastGivenBackWhenFullAndRestored drives the ballast through a disk
// that fills and empties, by moving the reserve around the real free space.
func TestBallastGivenBackWhenFullAndRestored(t *testing.T) {
	dir := t.TempDir()
	d := &diskWatch{dir: dir, ballast: 4 << 20, log: zerolog.Nop()}
	if err := d.sample(); err != nil {
		t.Fatal(err)
	}
	free := d.free.Load()
	if free < 64<<20 {
		t.Skip("not enough free space to exercise the ballast")
	}
	path := filepath.Join(dir, BallastFile)

	// Plenty of room: the ballast is made, with real blocks.
	d.reserve = free - 32<<20
	d.tend()
	fi, err := os.Stat(path)
	if err != nil || fi.Size() != 4<<20 {
		t.Fatalf("ballast not made: %v %v", fi, err)
	}
	if d.full.Load() {
		t.Errorf("full with room to spare")
	}

	// The disk fills: under half the reserve the ballast goes.
	d.reserve = free * 3
	d.sample()
	d.tend()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("ballast kept on a full disk: %v", err)
	}
	if !d.full.Load() {
		t.Errorf("not reported full")
	}

	// Space returns: the ballast comes back and the disk is not full.
	d.sample()
	d.reserve = d.free.Load() - 32<<20
	d.tend()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("ballast not restored: %v", err)
	}
	if d.full.Load() {
		t.Errorf("still reported full")
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary ballast left behind")
	}
}
