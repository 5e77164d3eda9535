package pebblestore

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// checkpointPrefix names the temporary checkpoints in the data directory;
// Open removes those that a stopped process left behind.
const checkpointPrefix = "checkpoint-"

// Checkpoint is a consistent copy of the store in a private temporary
// directory inside the data directory, made while the store keeps
// serving: table and blob files are hard-linked (they never change), the
// MANIFEST, OPTIONS and WAL are copied, and the WAL is flushed first, so
// the copy holds every write acknowledged before NewCheckpoint. It also
// holds the StoreIDFile. The caller may add files of its own to Dir (the
// admin key) before it writes the archive, and must Remove it: while it
// exists, its links keep the tables that compactions replace on the disk.
type Checkpoint struct {
	fs  vfs.FS
	dir string
	// StoreID is the id of the store it copies.
	StoreID string
}

// NewCheckpoint makes a checkpoint. The data directory's filesystem
// (Options.FS) holds it.
func (s *Store) NewCheckpoint() (*Checkpoint, error) {
	fs := s.opts.fs()
	var b [8]byte
	_, _ = rand.Read(b[:])
	dir := fs.PathJoin(s.opts.Dir, checkpointPrefix+hex.EncodeToString(b[:]))
	if err := s.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return nil, fmt.Errorf("pebblestore: checkpoint: %w", err)
	}
	c := &Checkpoint{fs: fs, dir: dir, StoreID: s.id}
	if err := writeFileSynced(fs, fs.PathJoin(dir, StoreIDFile), []byte(s.id+"\n")); err != nil {
		_ = c.Remove()
		return nil, fmt.Errorf("pebblestore: checkpoint: %w", err)
	}
	if s.encrypted {
		// The marker, as it is: a backup of an encrypted store is
		// ciphertext and opens with the same key.
		if err := vfs.Copy(fs, fs.PathJoin(s.opts.Dir, EncryptionMarkerFile), fs.PathJoin(dir, EncryptionMarkerFile)); err != nil {
			_ = c.Remove()
			return nil, fmt.Errorf("pebblestore: checkpoint: %w", err)
		}
	}
	if err := syncDir(fs, dir); err != nil {
		_ = c.Remove()
		return nil, fmt.Errorf("pebblestore: checkpoint: %w", err)
	}
	return c, nil
}

// CheckpointCost is about the bytes a checkpoint adds to the disk: those of
// the files it copies (MANIFEST, OPTIONS, WAL). The tables and blob files
// are hard links, which cost no space when they are made, but keep the
// files that compactions replace meanwhile until the checkpoint is removed.
func (s *Store) CheckpointCost() (int64, error) {
	fs := s.opts.fs()
	names, err := fs.List(s.opts.Dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, name := range names {
		if !strings.HasPrefix(name, "MANIFEST-") && !strings.HasPrefix(name, "OPTIONS-") && !strings.HasSuffix(name, ".log") {
			continue
		}
		if fi, err := fs.Stat(fs.PathJoin(s.opts.Dir, name)); err == nil {
			n += fi.Size()
		}
	}
	return n, nil
}

// removeCheckpoints removes the temporary checkpoints of a process that
// stopped while it sent a backup.
func (s *Store) removeCheckpoints() error {
	fs := s.opts.fs()
	names, err := fs.List(s.opts.Dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		if !strings.HasPrefix(name, checkpointPrefix) {
			continue
		}
		if err := fs.RemoveAll(fs.PathJoin(s.opts.Dir, name)); err != nil {
			return fmt.Errorf("pebblestore: remove the stale checkpoint %s: %w", name, err)
		}
		s.log.Info().Str("checkpoint", name).Msg("removed a temporary checkpoint left by an earlier process")
	}
	return nil
}

// Dir is the checkpoint's directory.
func (c *Checkpoint) Dir() string { return c.dir }

// Size is the number of files of the checkpoint and their bytes.
func (c *Checkpoint) Size() (files int, bytes int64, err error) {
	names, err := c.names()
	if err != nil {
		return 0, 0, err
	}
	for _, name := range names {
		fi, err := c.fs.Stat(c.fs.PathJoin(c.dir, name))
		if err != nil {
			return 0, 0, err
		}
		bytes += fi.Size()
	}
	return len(names), bytes, nil
}

// names are the checkpoint's files, sorted. A checkpoint is flat: anything
// but a regular file in it is an error, so that no archive leaves it out.
func (c *Checkpoint) names() ([]string, error) {
	names, err := c.fs.List(c.dir)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		fi, err := c.fs.Stat(c.fs.PathJoin(c.dir, name))
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("pebblestore: the checkpoint holds %s, which is not a regular file", name)
		}
	}
	return names, nil
}

// Remove deletes the checkpoint. It may be called more than once.
func (c *Checkpoint) Remove() error { return c.fs.RemoveAll(c.dir) }

// Restore copies a backup directory (as ReadArchive writes it) into
// dataDir, which must not exist or be empty, and opens the result once to
// prove it is a readable store with the backup's store id. It refuses a
// backup that is not complete: no BackupManifestFile, a file it lists
// missing or of another size or checksum. Both directories are on the
// filesystem of o (Options.FS). Every file is fsynced, and the directory
// after it. Nothing that was there before is deleted or overwritten; the
// files of a restore that fails are removed.
//
// The restored store keeps the backup's store id: it is the same store,
// and its backups are that store's. (A restore with a new id, for a copy
// meant to live beside the original, would write a new id into the meta
// key and StoreIDFile after the copy; there is none yet.)
func Restore(backupDir, dataDir string, o Options) error {
	fs := o.fs()
	if _, err := fs.Stat(dataDir); err == nil {
		entries, err := fs.List(dataDir)
		if err != nil {
			return err
		}
		if len(entries) > 0 {
			return fmt.Errorf("pebblestore: %s is not empty; restore into a new data directory", dataDir)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	m, err := readBackupManifest(fs, backupDir)
	if err != nil {
		return err
	}
	// The key is checked against the backup before anything is copied.
	bo := o
	bo.Dir = backupDir
	if _, _, err := encryptionFS(fs, &bo); err != nil {
		return fmt.Errorf("pebblestore: the backup %s: %w", backupDir, err)
	}
	for _, f := range m.Files {
		fi, err := fs.Stat(fs.PathJoin(backupDir, f.Name))
		if err != nil {
			return fmt.Errorf("pebblestore: the backup %s is not complete: %w", backupDir, err)
		}
		if fi.Size() != f.Size {
			return fmt.Errorf("pebblestore: the backup %s is not complete: %s has %d bytes, its manifest says %d", backupDir, f.Name, fi.Size(), f.Size)
		}
	}
	if err := makeDataDir(fs, dataDir); err != nil {
		return err
	}
	for i, f := range m.Files {
		if err := copyFile(fs, fs.PathJoin(backupDir, f.Name), fs.PathJoin(dataDir, f.Name), f.SHA256); err != nil {
			for _, done := range m.Files[:i+1] {
				_ = fs.Remove(fs.PathJoin(dataDir, done.Name))
			}
			return fmt.Errorf("pebblestore: restore %s: %w", f.Name, err)
		}
	}
	if err := syncDir(fs, dataDir); err != nil {
		return err
	}
	o.Dir = dataDir
	st, err := Open(o)
	if err != nil {
		return fmt.Errorf("pebblestore: the restored store does not open: %w", err)
	}
	id := st.ID()
	if err := st.Close(); err != nil {
		return err
	}
	if id != m.StoreID {
		return fmt.Errorf("pebblestore: the restored store has the id %s, its backup says %s", id, m.StoreID)
	}
	return nil
}

// copyFile copies src to dst, which must not exist, checks that what it
// copied has the SHA-256 sum (hex), and fsyncs it.
func copyFile(fs vfs.FS, src, dst, sum string) error {
	if _, err := fs.Stat(dst); err == nil {
		return fmt.Errorf("pebblestore: %s already exists", dst)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	in, err := fs.Open(src, vfs.SequentialReadsOption)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := fs.Create(dst, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	h := sha256.New()
	// The hash is fed first: a filesystem may reuse or scribble over a
	// buffer once written (Pebble's in-memory one does, in its invariant
	// builds, to catch callers that keep it).
	if _, err := io.Copy(io.MultiWriter(h, out), in); err != nil {
		out.Close()
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		out.Close()
		return fmt.Errorf("pebblestore: %s is damaged: its SHA-256 is %s, the backup's manifest says %s", src, got, sum)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// syncDir fsyncs directory dir of fs, so that the entries made in it last.
func syncDir(fs vfs.FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
