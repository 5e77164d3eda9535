package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"wearhouse/pebblestore"
)

// keygenCmd writes a new encryption key: 32 random bytes, mode 0600, into
// a file that must not exist yet.
func keygenCmd(args []string) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	pos, err := parseArgs(fs, "<file>", args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("keygen", "give the file to write the key to")
	}
	key := make([]byte, pebblestore.KeySize)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	f, err := os.OpenFile(pos[0], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists; wearhouse keygen never overwrites a key (a store encrypted with it would be lost)", pos[0])
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		os.Remove(pos[0])
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("wrote a new encryption key to %s (mode 0600). Keep it outside the data directory, and keep a copy "+
		"apart from the backups: without it the store and its backups cannot be read.\n", pos[0])
	return nil
}

// readKeyFile reads an encryption key file for the store in dataDir: 32
// bytes, outside the data directory. It returns a warning for a file that
// others than its owner may read.
func readKeyFile(path, dataDir string) (key []byte, warning string, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", err
	}
	dir, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, "", err
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		dir = r
	}
	if rel, err := filepath.Rel(dir, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, "", fmt.Errorf("--encryption-key-file %s is inside the data directory %s: a copy of the directory (a stolen disk, a backup) "+
			"would carry its key. Keep it elsewhere", path, dataDir)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", fmt.Errorf("--encryption-key-file: %w", err)
	}
	key, err = os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("--encryption-key-file: %w", err)
	}
	if len(key) != pebblestore.KeySize {
		return nil, "", fmt.Errorf("--encryption-key-file %s holds %d bytes, not %d: make one with wearhouse keygen", path, len(key), pebblestore.KeySize)
	}
	if st.Mode().Perm()&0o077 != 0 {
		warning = fmt.Sprintf("the encryption key file %s has mode %04o: make it 0600", path, st.Mode().Perm())
	}
	return key, warning, nil
}
