package pebblestore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// EncryptionMarkerFile is the file of an encrypted data directory (and of
// its backups) that says so: a short known text, encrypted like every
// other file, so that Open checks the key before Pebble reads or writes
// anything.
const EncryptionMarkerFile = "ENCRYPTED"

const encryptionMarkerText = "wearhouse encrypted store v1\n"

// ErrEncryptedStore is returned when an encrypted store is opened without
// its key.
var ErrEncryptedStore = errors.New("the store is encrypted; start with its key (--encryption-key-file)")

// encryptionFS returns the filesystem Pebble is to use in dir: base, or
// base wrapped by NewEncryptedFS under o's keys, after checking that the
// keys fit the store. It writes nothing; create reports a new encrypted
// store, whose marker writeEncryptionMarker then writes.
func encryptionFS(base vfs.FS, o *Options) (fs vfs.FS, create bool, err error) {
	dir := o.Dir
	names, err := base.List(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("pebblestore: %s: %w", dir, err)
	}
	hasMarker, manifest := false, ""
	for _, n := range names {
		switch {
		case n == EncryptionMarkerFile:
			hasMarker = true
		case strings.HasPrefix(n, "MANIFEST-") && manifest < n:
			manifest = n
		}
	}
	manifestEncrypted := false
	if manifest != "" {
		manifestEncrypted, err = hasCryptMagic(base, base.PathJoin(dir, manifest))
		if err != nil {
			return nil, false, fmt.Errorf("pebblestore: %s: %w", dir, err)
		}
	}
	if len(o.EncryptionKey) == 0 {
		if len(o.OldEncryptionKeys) > 0 {
			return nil, false, errors.New("pebblestore: old encryption keys were given without the current one")
		}
		if hasMarker || manifestEncrypted {
			return nil, false, fmt.Errorf("pebblestore: %s: %w. Nothing was changed", dir, ErrEncryptedStore)
		}
		return base, false, nil
	}
	suite := o.EncryptionSuite
	if suite == 0 {
		suite = DefaultSuite()
	}
	cfs, err := NewEncryptedFSSuite(base, suite, o.EncryptionKey, o.OldEncryptionKeys...)
	if err != nil {
		return nil, false, err
	}
	switch {
	case hasMarker:
		if err := checkMarker(cfs, base.PathJoin(dir, EncryptionMarkerFile)); err != nil {
			return nil, false, fmt.Errorf("pebblestore: the store in %s: %w. Nothing was changed", dir, err)
		}
		return cfs, false, nil
	case manifestEncrypted:
		// A marker lost: the MANIFEST's header names the key.
		f, err := cfs.Open(base.PathJoin(dir, manifest))
		if err != nil {
			return nil, false, fmt.Errorf("pebblestore: the store in %s: %w. Nothing was changed", dir, keyHint(err))
		}
		f.Close()
		return cfs, true, nil
	case manifest != "":
		return nil, false, fmt.Errorf("pebblestore: the store in %s is not encrypted, and an encryption key was given. "+
			"wearhouse does not encrypt an existing store in place: start without the key, or make a new encrypted "+
			"store and import into it. Nothing was changed", dir)
	}
	return cfs, true, nil
}

// keyHint words a key error for the operator.
func keyHint(err error) error {
	if errors.Is(err, ErrWrongKey) {
		return fmt.Errorf("the encryption key given is not the one it was encrypted with (%w)", err)
	}
	return err
}

func checkMarker(cfs vfs.FS, path string) error {
	f, err := cfs.Open(path)
	if err != nil {
		return keyHint(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	if string(b) != encryptionMarkerText {
		return fmt.Errorf("%w: %s does not hold the expected text", ErrCorrupt, EncryptionMarkerFile)
	}
	return nil
}

// writeEncryptionMarker writes the marker of a new encrypted store.
func writeEncryptionMarker(cfs vfs.FS, dir string) error {
	if err := writeFileSynced(cfs, cfs.PathJoin(dir, EncryptionMarkerFile), []byte(encryptionMarkerText)); err != nil {
		return fmt.Errorf("pebblestore: write %s: %w", EncryptionMarkerFile, err)
	}
	return syncDir(cfs, dir)
}

// hasCryptMagic reports whether the file at path starts as an encrypted
// file does.
func hasCryptMagic(fs vfs.FS, path string) (bool, error) {
	f, err := fs.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var b [len(cryptMagic)]byte
	n, err := f.ReadAt(b[:], 0)
	if n < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, err
	}
	return string(b[:]) == cryptMagic, nil
}

// RotateEncryptionKey rewrites every encrypted file of the closed store in
// dir that is not under newKey, reading it with oldKeys, so that the old
// keys can be destroyed. Each file is written whole under a temporary
// name, synced, and renamed over the original: a crash leaves every file
// under one key or the other, and the store opens with both given. It
// holds the store's lock meanwhile. It returns how many files it rewrote.
func RotateEncryptionKey(base vfs.FS, dir string, newKey []byte, oldKeys [][]byte) (int, error) {
	if base == nil {
		base = vfs.Default
	}
	cfs, err := NewEncryptedFS(base, newKey, oldKeys...)
	if err != nil {
		return 0, err
	}
	if _, _, err := encryptionFS(base, &Options{Dir: dir, EncryptionKey: newKey, OldEncryptionKeys: oldKeys}); err != nil {
		return 0, err
	}
	lock, err := base.Lock(base.PathJoin(dir, "LOCK"))
	if err != nil {
		return 0, fmt.Errorf("pebblestore: lock %s (is a server running on it?): %w", dir, err)
	}
	defer lock.Close()
	names, err := base.List(dir)
	if err != nil {
		return 0, err
	}
	cur := KeyID(newKey)
	n := 0
	for _, name := range names {
		path := base.PathJoin(dir, name)
		if st, err := base.Stat(path); err != nil || st.IsDir() || name == "LOCK" {
			continue
		}
		id, ok, err := headerKeyID(base, path)
		if err != nil {
			return n, err
		}
		if !ok || id == cur {
			continue
		}
		tmp := path + ".rekey"
		if err := vfs.CopyAcrossFS(cfs, path, cfs, tmp); err != nil {
			_ = base.Remove(tmp)
			return n, fmt.Errorf("pebblestore: rewrite %s: %w", name, keyHint(err))
		}
		if err := base.Rename(tmp, path); err != nil {
			return n, err
		}
		n++
	}
	return n, syncDir(base, dir)
}

// headerKeyID returns the key id of an encrypted file's header; ok is
// false for a file that is not encrypted.
func headerKeyID(fs vfs.FS, path string) (id [8]byte, ok bool, err error) {
	f, err := fs.Open(path)
	if err != nil {
		return id, false, err
	}
	defer f.Close()
	var b [24]byte
	if n, _ := f.ReadAt(b[:], 0); n < len(b) || string(b[:8]) != cryptMagic {
		return id, false, nil
	}
	copy(id[:], b[16:24])
	return id, true, nil
}

// File is a file of the data directory outside Pebble's own (a spooled
// upload): written and read through the store's filesystem, so that it is
// ciphertext when the store is encrypted.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.Closer
	Sync() error
	Stat() (os.FileInfo, error)
}

type storeFile struct{ vfs.File }

func (f storeFile) Stat() (os.FileInfo, error) { return f.File.Stat() }

// CreateFile creates the file at path (which must not exist) for writing,
// mode 0600.
func (s *Store) CreateFile(path string) (File, error) {
	if !s.encrypted {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	if _, err := s.pfs.Stat(path); err == nil {
		return nil, fmt.Errorf("pebblestore: %s: %w", path, os.ErrExist)
	}
	f, err := s.pfs.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return nil, err
	}
	_ = os.Chmod(path, 0o600) // on the disk; a test's filesystem may have no modes
	return storeFile{f}, nil
}

// OpenFile opens the file at path, written by CreateFile, for reading.
func (s *Store) OpenFile(path string) (File, error) {
	if !s.encrypted {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	f, err := s.pfs.Open(path)
	if err != nil {
		return nil, err
	}
	return storeFile{f}, nil
}

// Encrypted reports whether the store's files are ciphertext.
func (s *Store) Encrypted() bool { return s.encrypted }
