package pebblestore

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestBackupUsesTheStoresFilesystem: a checkpoint and its restore happen
// on the store's filesystem (Options.FS), here an in-memory one, and never
// on the disk.
func TestBackupUsesTheStoresFilesystem(t *testing.T) {
	mem := vfs.NewMem()
	const dir, backup, restored = "/data", "/backup", "/restored"
	s := openStoreAt(t, dir, Options{FS: mem})
	b := s.NewBatch()
	if _, err := b.CreateUser("kept", time.Now(), []byte(`{"first_name":"Ada"}`)); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	n, err := s.Checkpoint(backup)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Checkpoint(backup); err == nil {
		t.Error("a checkpoint over an existing directory was accepted")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n <= 0 {
		t.Errorf("checkpoint of %d bytes", n)
	}
	for _, d := range []string{backup, restored} {
		if _, err := os.Stat(d); err == nil {
			t.Fatalf("%s was written on the disk", d)
		}
	}

	if err := Restore(backup, restored, Options{FS: mem}); err != nil {
		t.Fatal(err)
	}
	r := openStoreAt(t, restored, Options{FS: mem})
	defer r.Close()
	if u, err := r.User("kept"); err != nil || !strings.Contains(string(u.Profile), "Ada") {
		t.Errorf("restored user: %+v, %v", u, err)
	}
	if err := Restore(backup, restored, Options{FS: mem}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a restore into a store: %v", err)
	}
	if err := Restore(dir+"/none", "/elsewhere", Options{FS: mem}); err == nil {
		t.Error("a restore from nothing was accepted")
	}
}
