package pebblestore

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// StoreIDFile is the file of the data directory (and of a backup) that
// holds the store id, so that it can be read while a server has the store
// open.
const StoreIDFile = "store.id"

// metaStoreID is the meta key of the store id.
const metaStoreID = "store_id"

// loadStoreID reads the store id, creating it when the store has none (a
// new store, or one of a release before store ids), and writes it to the
// data directory's StoreIDFile when the file is missing or says another
// id. The meta key is the truth; the file is its copy for readers that
// cannot open the store.
func (s *Store) loadStoreID() error {
	v, err := s.Meta(metaStoreID)
	switch {
	case errors.Is(err, ErrNotFound):
		var b [16]byte
		_, _ = rand.Read(b[:])
		b[6] = b[6]&0x0f | 0x40 // version 4
		b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
		v = []byte(FormatUUID(b[:], true))
		if err := s.PutMeta(metaStoreID, v); err != nil {
			return fmt.Errorf("pebblestore: store id: %w", err)
		}
	case err != nil:
		return fmt.Errorf("pebblestore: store id: %w", err)
	}
	s.id = string(v)
	fs := s.opts.fs()
	path := fs.PathJoin(s.opts.Dir, StoreIDFile)
	if b, err := readFile(fs, path); err == nil && strings.TrimSpace(string(b)) == s.id {
		return nil
	}
	if err := writeFileSynced(fs, path, []byte(s.id+"\n")); err != nil {
		return fmt.Errorf("pebblestore: write %s: %w", StoreIDFile, err)
	}
	return syncDir(fs, s.opts.Dir)
}

// ID is the store id: random, made with the store, and kept by its
// backups and by a store restored from one (a restored copy is the same
// store).
func (s *Store) ID() string { return s.id }

// ReadStoreID reads the store id from a data directory's StoreIDFile on the
// disk, without opening the store (a server may have it open).
func ReadStoreID(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, StoreIDFile))
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(b))
	if id == "" {
		return "", fmt.Errorf("pebblestore: %s is empty", filepath.Join(dataDir, StoreIDFile))
	}
	return id, nil
}

func readFile(fs vfs.FS, path string) ([]byte, error) {
	f, err := fs.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// writeFileSynced writes a small file whole, through a temporary name, and
// fsyncs it; the caller syncs the directory.
func writeFileSynced(fs vfs.FS, path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return fs.Rename(tmp, path)
}
