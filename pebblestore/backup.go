package pebblestore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
)

// Checkpoint writes a consistent copy of the store to dir, which must not
// exist, while the store keeps serving: table files are hard-linked where
// the file system allows and the WAL is flushed and copied, so the copy
// holds every write acknowledged before the call. It returns the bytes of
// the copy.
func (s *Store) Checkpoint(dir string) (int64, error) {
	if _, err := os.Stat(dir); err == nil {
		return 0, fmt.Errorf("pebblestore: backup directory %s already exists", dir)
	}
	if err := s.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return 0, fmt.Errorf("pebblestore: checkpoint to %s: %w", dir, err)
	}
	return dirSize(dir)
}

func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		fi, err := e.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	return n, err
}

// Restore copies a checkpoint into dataDir, which must not exist or be
// empty, and opens the result once to prove it is a readable store. Every
// file is fsynced, and the directory after it. Nothing is ever deleted.
func Restore(backupDir, dataDir string, o Options) error {
	if entries, err := os.ReadDir(dataDir); err == nil && len(entries) > 0 {
		return fmt.Errorf("pebblestore: %s is not empty; restore into a new data directory", dataDir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if m, _ := filepath.Glob(filepath.Join(backupDir, "MANIFEST-*")); len(m) == 0 {
		return fmt.Errorf("pebblestore: %s holds no store (no MANIFEST file)", backupDir)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(backupDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(backupDir, e.Name()), filepath.Join(dataDir, e.Name())); err != nil {
			return err
		}
	}
	if err := syncDir(dataDir); err != nil {
		return err
	}
	o.Dir = dataDir
	st, err := Open(o)
	if err != nil {
		return fmt.Errorf("pebblestore: the restored store does not open: %w", err)
	}
	return st.Close()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm()|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
