package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

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

// keyFileFlag adds --encryption-key-file to a command that opens a stopped
// server's store.
func keyFileFlag(fs *flag.FlagSet) *string {
	return fs.String("encryption-key-file", os.Getenv("WEARHOUSE_ENCRYPTION_KEY_FILE"), "file of the store's encryption key, when it is encrypted (as given to serve)")
}

// openStopped opens the store of a stopped server's data directory (the
// store's lock refuses a running one), with its key when it is encrypted.
func openStopped(dataDir, keyFile string) (*pebblestore.Store, error) {
	encKey, err := loadKeyFile(keyFile, dataDir)
	if err != nil {
		return nil, err
	}
	st, err := pebblestore.Open(pebblestore.Options{Dir: dataDir, Logger: zerolog.Nop(), MustExist: true, EncryptionKey: encKey})
	if err != nil {
		return nil, fmt.Errorf("the store of %s cannot be opened (is the server still running?): %w", dataDir, err)
	}
	return st, nil
}

// loadKeyFile reads the key of --encryption-key-file, nil when none is
// given; a loose mode is warned about on standard error.
func loadKeyFile(path, dataDir string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	key, warning, err := readKeyFile(path, dataDir)
	if warning != "" {
		fmt.Fprintln(os.Stderr, "warning:", warning)
	}
	return key, err
}

// rotateKeyCmd rewrites a stopped server's store under a new key:
// every file still under an old key is read with it and written again
// under the new one, after which the old key can be destroyed.
func rotateKeyCmd(args []string) error {
	fs := flag.NewFlagSet("rotate-key", flag.ContinueOnError)
	dataDir := fs.String("data-dir", envOr("WEARHOUSE_DATA_DIR", "./data"), "data directory of the stopped server")
	newFile := keyFileFlag(fs)
	oldFiles := fs.String("old-key-file", "", "comma-separated files of the keys the store's files are under now")
	pos, err := parseArgs(fs, "--encryption-key-file <new key> --old-key-file <old key> [flags]", args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("rotate-key", "unexpected argument %q", pos[0])
	}
	if *newFile == "" || *oldFiles == "" {
		return usagef("rotate-key", "give the new key (--encryption-key-file) and the old one (--old-key-file)")
	}
	newKey, err := loadKeyFile(*newFile, *dataDir)
	if err != nil {
		return err
	}
	var old [][]byte
	for _, p := range strings.Split(*oldFiles, ",") {
		k, err := loadKeyFile(strings.TrimSpace(p), *dataDir)
		if err != nil {
			return err
		}
		old = append(old, k)
	}
	n, err := pebblestore.RotateEncryptionKey(nil, *dataDir, newKey, old)
	if err != nil {
		return err
	}
	fmt.Printf("rewrote %d files of %s under the new key; start the server with --encryption-key-file %s\n", n, *dataDir, *newFile)
	return nil
}
