package pebblestore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Checkpoint writes a consistent copy of the store to dir, which must not
// exist, while the store keeps serving: table files are hard-linked where
// the file system allows and the WAL is flushed and copied, so the copy
// holds every write acknowledged before the call. It returns the bytes of
// the copy. dir is on the store's filesystem (Options.FS).
func (s *Store) Checkpoint(dir string) (int64, error) {
	fs := s.opts.fs()
	if _, err := fs.Stat(dir); err == nil {
		return 0, fmt.Errorf("pebblestore: backup directory %s already exists", dir)
	}
	if err := s.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return 0, fmt.Errorf("pebblestore: checkpoint to %s: %w", dir, err)
	}
	return dirSize(fs, dir)
}

func dirSize(fs vfs.FS, dir string) (int64, error) {
	names, err := fs.List(dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, name := range names {
		p := fs.PathJoin(dir, name)
		fi, err := fs.Stat(p)
		if err != nil {
			return 0, err
		}
		if fi.IsDir() {
			sub, err := dirSize(fs, p)
			if err != nil {
				return 0, err
			}
			n += sub
			continue
		}
		n += fi.Size()
	}
	return n, nil
}

// Restore copies a checkpoint into dataDir, which must not exist or be
// empty, and opens the result once to prove it is a readable store. Both
// are on the filesystem of o (Options.FS). Every file is fsynced, and the
// directory after it. Nothing is ever deleted or overwritten.
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
	names, err := fs.List(backupDir)
	if err != nil {
		return err
	}
	if !hasManifest(names) {
		return fmt.Errorf("pebblestore: %s holds no store (no MANIFEST file)", backupDir)
	}
	if err := makeDataDir(fs, dataDir); err != nil {
		return err
	}
	for _, name := range names {
		src := fs.PathJoin(backupDir, name)
		fi, err := fs.Stat(src)
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		if err := copyFile(fs, src, fs.PathJoin(dataDir, name)); err != nil {
			return err
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
	return st.Close()
}

func hasManifest(names []string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, "MANIFEST-") {
			return true
		}
	}
	return false
}

// copyFile copies src to dst, which must not exist, and fsyncs it.
func copyFile(fs vfs.FS, src, dst string) error {
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
