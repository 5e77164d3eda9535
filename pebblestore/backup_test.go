package pebblestore

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func mustCreateUser(t *testing.T, s *Store, id string) {
	t.Helper()
	b := s.NewBatch()
	if _, err := b.CreateUser(id, time.Now(), []byte(`{"first_name":"Ada"}`)); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
}

// archiveOf makes a checkpoint of s, writes its archive and removes it.
func archiveOf(t *testing.T, s *Store) []byte {
	t.Helper()
	c, err := s.NewCheckpoint()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.WriteArchive(&buf); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBackupUsesTheStoresFilesystem: a checkpoint, its archive and a
// restore happen on the store's filesystem (Options.FS), here an in-memory
// one; only ReadArchive, the client's side, writes to the disk.
func TestBackupUsesTheStoresFilesystem(t *testing.T) {
	mem := vfs.NewMem()
	const dir, restored = "/data", "/restored"
	s := openStoreAt(t, dir, Options{FS: mem})
	mustCreateUser(t, s, "kept")
	c, err := s.NewCheckpoint()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Dir(), dir+"/") {
		t.Errorf("checkpoint at %s, outside the data directory", c.Dir())
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatalf("%s was written on the disk", dir)
	}
	files, n, err := c.Size()
	if err != nil || files < 3 || n <= 0 {
		t.Errorf("checkpoint of %d files, %d bytes: %v", files, n, err)
	}
	var buf bytes.Buffer
	if err := c.WriteArchive(&buf); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Stat(c.Dir()); err == nil {
		t.Error("the checkpoint is still there after Remove")
	}
	id := s.ID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	onDisk := filepath.Join(t.TempDir(), "backup")
	m, err := ReadArchive(bytes.NewReader(buf.Bytes()), onDisk)
	if err != nil {
		t.Fatal(err)
	}
	if m.StoreID != id || len(m.Files) != files || m.Bytes() != n {
		t.Errorf("manifest %+v; the store is %s with %d files of %d bytes", m, id, files, n)
	}
	// The backup, copied into the in-memory filesystem, restores there.
	if err := mem.MkdirAll("/backup", 0o700); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(onDisk)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(onDisk, e.Name()))
		if err := writeFileSynced(mem, "/backup/"+e.Name(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := Restore("/backup", restored, Options{FS: mem}); err != nil {
		t.Fatal(err)
	}
	r := openStoreAt(t, restored, Options{FS: mem})
	defer r.Close()
	if u, err := r.User("kept"); err != nil || !strings.Contains(string(u.Profile), "Ada") {
		t.Errorf("restored user: %+v, %v", u, err)
	}
	if r.ID() != id {
		t.Errorf("restored store id %s, want the backup's %s", r.ID(), id)
	}
	if err := Restore("/backup", restored, Options{FS: mem}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a restore into a store: %v", err)
	}
	if err := Restore(dir+"/none", "/elsewhere", Options{FS: mem}); err == nil {
		t.Error("a restore from nothing was accepted")
	}
}

// TestReadArchiveModes: the files of a backup are 0600, its directory
// 0700 (before, Pebble's checkpoint left them 0644 and 0755 under the
// usual umask), and no .partial directory is left.
func TestReadArchiveModes(t *testing.T) {
	s := openStore(t)
	mustCreateUser(t, s, "u")
	dir := filepath.Join(t.TempDir(), "nested", "backup")
	if _, err := ReadArchive(bytes.NewReader(archiveOf(t, s)), dir); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Dir(dir), dir} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v", d, fi.Mode(), err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fi, _ := e.Info()
		if fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
			t.Errorf("%s: mode %v", e.Name(), fi.Mode())
		}
	}
	if _, err := os.Stat(dir + ".partial"); err == nil {
		t.Error("the .partial directory is left")
	}
	if _, err := ReadArchive(bytes.NewReader(archiveOf(t, s)), dir); err == nil {
		t.Error("a backup over a backup was accepted")
	}
}

// TestReadArchiveRefusesCutOff: an archive cut anywhere (in a file, at the
// boundary of a file, in its manifest, before its end blocks) or damaged
// leaves no backup and no .partial directory behind.
func TestReadArchiveRefusesCutOff(t *testing.T) {
	s := openStore(t)
	mustCreateUser(t, s, "u")
	whole := archiveOf(t, s)
	manifestAt := bytes.Index(whole, []byte(BackupManifestFile))
	if manifestAt < 0 {
		t.Fatal("no manifest in the archive")
	}
	damaged := bytes.Clone(whole)
	damaged[512] ^= 0xff // the first byte of the first file
	for name, b := range map[string][]byte{
		"in the first file":         whole[:700],
		"at a file boundary":        whole[:manifestAt/512*512],
		"in the manifest":           whole[:manifestAt+600],
		"without the end blocks":    whole[:len(whole)-1024],
		"half of the end blocks":    whole[:len(whole)-512],
		"with a damaged first file": damaged,
		"empty":                     nil,
	} {
		dir := filepath.Join(t.TempDir(), "backup")
		_, err := ReadArchive(bytes.NewReader(b), dir)
		if name == "without the end blocks" || name == "half of the end blocks" {
			// The manifest is whole and every file matches it: a backup.
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		for _, d := range []string{dir, dir + ".partial"} {
			if _, serr := os.Stat(d); serr == nil {
				t.Errorf("%s: %s is there (%v)", name, d, err)
			}
		}
	}
	// A transfer that fails after the archive's end fails the backup.
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := ReadArchive(io.MultiReader(bytes.NewReader(whole), errReader{}), dir); err == nil {
		t.Error("a transfer that failed was accepted")
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestRestoreRefusesIncompleteBackups: no manifest, a file missing, a file
// of another size or damaged: refused, and the data directory is left as
// it was found.
func TestRestoreRefusesIncompleteBackups(t *testing.T) {
	s := openStore(t)
	mustCreateUser(t, s, "u")
	whole := archiveOf(t, s)
	for name, spoil := range map[string]func(dir string, m *BackupManifest) error{
		"no manifest": func(dir string, _ *BackupManifest) error { return os.Remove(filepath.Join(dir, BackupManifestFile)) },
		"no store id": func(dir string, _ *BackupManifest) error { return os.Remove(filepath.Join(dir, StoreIDFile)) },
		"a file missing": func(dir string, m *BackupManifest) error {
			return os.Remove(filepath.Join(dir, m.Files[0].Name))
		},
		"a file cut": func(dir string, m *BackupManifest) error {
			return os.Truncate(filepath.Join(dir, m.Files[len(m.Files)-1].Name), 1)
		},
		"a file damaged": func(dir string, m *BackupManifest) error {
			for _, f := range m.Files {
				if strings.HasPrefix(f.Name, "MANIFEST-") {
					p := filepath.Join(dir, f.Name)
					b, _ := os.ReadFile(p)
					b[len(b)/2] ^= 0xff
					return os.WriteFile(p, b, 0o600)
				}
			}
			return nil
		},
	} {
		dir := filepath.Join(t.TempDir(), "backup")
		m, err := ReadArchive(bytes.NewReader(whole), dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := spoil(dir, m); err != nil {
			t.Fatal(err)
		}
		data := filepath.Join(t.TempDir(), "data")
		if err := Restore(dir, data, Options{}); err == nil {
			t.Errorf("%s: restored", name)
		}
		if entries, _ := os.ReadDir(data); len(entries) > 0 {
			t.Errorf("%s: the failed restore left %d files", name, len(entries))
		}
	}
}

// TestStoreID: a store gets an id when it is made, keeps it, writes it to
// StoreIDFile, and a store of an earlier release (no id) gets one on its
// first open.
func TestStoreID(t *testing.T) {
	dir := t.TempDir()
	s := openStoreAt(t, dir, Options{})
	id := s.ID()
	if len(id) != 36 {
		t.Fatalf("store id %q", id)
	}
	if got, err := ReadStoreID(dir); err != nil || got != id {
		t.Errorf("ReadStoreID: %q, %v; want %s", got, err, id)
	}
	s.Close()
	s = openStoreAt(t, dir, Options{})
	if s.ID() != id {
		t.Errorf("reopened with id %s, want %s", s.ID(), id)
	}
	// As an earlier release left it.
	if err := s.db.Delete(key(prefixMeta, []byte(metaStoreID)), nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Remove(filepath.Join(dir, StoreIDFile)); err != nil {
		t.Fatal(err)
	}
	s = openStoreAt(t, dir, Options{})
	defer s.Close()
	if s.ID() == "" || s.ID() == id {
		t.Errorf("a store without an id got %q", s.ID())
	}
	if got, err := ReadStoreID(dir); err != nil || got != s.ID() {
		t.Errorf("ReadStoreID after the first open: %q, %v", got, err)
	}
}

// TestOpenMustExist: with MustExist, a missing data directory and one
// without a store are errors, and nothing is created.
func TestOpenMustExist(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none", "data")
	if _, err := Open(Options{Dir: missing, MustExist: true}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing data directory: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); err == nil {
		t.Error("Open created the data directory's parent")
	}
	empty := t.TempDir()
	if _, err := Open(Options{Dir: empty, MustExist: true}); err == nil || !strings.Contains(err.Error(), "holds no store") {
		t.Errorf("empty data directory: %v", err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) > 0 {
		t.Errorf("Open wrote %d files into an empty directory", len(entries))
	}
}

// TestOpenRemovesStaleCheckpoints: a checkpoint left by a process that
// stopped in a backup is gone after the next open.
func TestOpenRemovesStaleCheckpoints(t *testing.T) {
	dir := t.TempDir()
	s := openStoreAt(t, dir, Options{})
	c, err := s.NewCheckpoint()
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openStoreAt(t, dir, Options{})
	defer s.Close()
	if _, err := os.Stat(c.Dir()); err == nil {
		t.Errorf("%s is still there", c.Dir())
	}
}
