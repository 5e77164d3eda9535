package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/auth"
	"wearhouse/pebblestore"
)

// storeIDHeader names the store in the backup route's answer.
const storeIDHeader = "X-Wearhouse-Store-Id"

// backupCmd writes a consistent copy of the store into a new directory
// where the command runs. It downloads the running server's archive (GET
// /api/v1/admin/backup with the admin key); when no server answers, it
// copies the store of the stopped server's data directory itself. Both
// ways write through pebblestore.ReadArchive: files 0600, directories
// 0700, fsynced, renamed from <dir>.partial once the archive is whole.
func backupCmd(args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	target := fs.String("target", envOr("WEARHOUSE_TARGET", "http://127.0.0.1:8080"), "address of the running server")
	dataDir := fs.String("data-dir", envOr("WEARHOUSE_DATA_DIR", "./data"), "data directory: of the admin key, of the store id the server must have, or to back up a stopped server")
	apiKey := fs.String("api-key", os.Getenv("WEARHOUSE_ADMIN_KEY"), "admin API key (default: the data directory's admin.key)")
	keyFile := keyFileFlag(fs)
	pos, err := parseArgs(fs, "[flags] <new directory>", args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("backup", "backup needs one argument, the directory to write, which must not exist yet or be empty")
	}
	dir, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	// The data directory was given (not the default): the server must
	// be the one of that store.
	_, dataDirGiven := os.LookupEnv("WEARHOUSE_DATA_DIR")
	fs.Visit(func(f *flag.Flag) { dataDirGiven = dataDirGiven || f.Name == "data-dir" })
	key := *apiKey
	if key == "" {
		if b, err := os.ReadFile(filepath.Join(*dataDir, auth.AdminKeyFile)); err == nil {
			key = strings.TrimSpace(string(b))
		}
	}
	if err := pebblestore.CheckBackupDir(dir); err != nil {
		return err
	}
	url := strings.TrimRight(*target, "/") + "/api/v1/admin/backup"
	// No overall timeout: a large store takes what it takes. The server
	// makes its checkpoint before it answers, and bounds a stalled
	// transfer with its write timeout.
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: 10 * time.Minute}}
	// HEAD first: it names the server's store before the server makes a
	// checkpoint, and tells whether a server answers at all.
	res, err := request(c, "HEAD", url, key)
	if err != nil {
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("backup through %s: %w", *target, err)
		}
		encKey, err := loadKeyFile(*keyFile, *dataDir)
		if err != nil {
			return err
		}
		return offlineBackup(*dataDir, dir, *target, encKey)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return refusedBy("backup", res)
	}
	if dataDirGiven {
		if err := sameStore(*dataDir, *target, res.Header.Get(storeIDHeader)); err != nil {
			return err
		}
	}
	res, err = request(c, "GET", url, key)
	if err != nil {
		return fmt.Errorf("backup through %s: %w", *target, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return refusedBy("backup", res)
	}
	m, err := pebblestore.ReadArchive(res.Body, dir)
	if err != nil {
		return fmt.Errorf("backup through %s: %w", *target, err)
	}
	printBackup(dir, m, "")
	return nil
}

func request(c *http.Client, method, url, key string) (*http.Response, error) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Open-Wearables-API-Key", key)
	return c.Do(req)
}

// refusedBy is the error of a server's refusal of a command, with its
// detail.
func refusedBy(what string, res *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	msg := strings.TrimSpace(string(b))
	if after := res.Header.Get("Retry-After"); after != "" {
		msg += " (retry after " + after + " s)"
	}
	if msg == "" {
		msg = http.StatusText(res.StatusCode)
	}
	return fmt.Errorf("%s refused by the server (%d): %s", what, res.StatusCode, msg)
}

// sameStore refuses a server whose store is not the data directory's, when
// the data directory's store id can be read.
func sameStore(dataDir, target, serverID string) error {
	local, err := pebblestore.ReadStoreID(dataDir)
	if err != nil {
		return nil // unreadable (another user's, or a release before store ids): nothing to compare
	}
	if serverID != local {
		return fmt.Errorf("the server at %s serves the store %s, but %s holds the store %s: "+
			"point --target at the server of that data directory, or leave --data-dir out", target, orNone(serverID), dataDir, local)
	}
	return nil
}

func orNone(id string) string {
	if id == "" {
		return "(no id)"
	}
	return id
}

// offlineBackup backs up the store of a stopped server: the same archive
// as the server's, through a pipe. It never creates a store.
func offlineBackup(dataDir, dir, target string, encKey []byte) error {
	st, err := pebblestore.Open(pebblestore.Options{Dir: dataDir, Logger: zerolog.Nop(), MustExist: true, EncryptionKey: encKey})
	if err != nil {
		return fmt.Errorf("no server answered at %s, and the store could not be opened: %w", target, err)
	}
	defer st.Close()
	cp, err := st.NewCheckpoint()
	if err != nil {
		return err
	}
	defer cp.Remove()
	if err := auth.CopyAdminKeyFile(dataDir, cp.Dir()); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	written := make(chan struct{})
	go func() {
		defer close(written)
		pw.CloseWithError(cp.WriteArchive(pw))
	}()
	m, err := pebblestore.ReadArchive(pr, dir)
	pr.Close() // ends the writer, if the reader stopped first
	<-written
	if err != nil {
		return err
	}
	printBackup(dir, m, fmt.Sprintf(" (no server answered at %s: copied the stopped server's %s)", target, dataDir))
	return nil
}

func printBackup(dir string, m *pebblestore.BackupManifest, how string) {
	fmt.Printf("backup written to %s%s\nstore %s, %d files, %d bytes (%s)\n", dir, how, m.StoreID, len(m.Files), m.Bytes(), human(m.Bytes()))
}

// human is a size in binary units.
func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// restoreCmd puts a backup in place as a new data directory. The server
// must be stopped; an existing data directory is never overwritten, and a
// backup that is not complete is refused. The restored store keeps the
// backup's store id.
func restoreCmd(args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	dataDir := fs.String("data-dir", envOr("WEARHOUSE_DATA_DIR", "./data"), "data directory to create from the backup")
	keyFile := keyFileFlag(fs)
	pos, err := parseArgs(fs, "[flags] <backup directory>", args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("restore", "restore needs one argument, the backup directory")
	}
	encKey, err := loadKeyFile(*keyFile, *dataDir)
	if err != nil {
		return err
	}
	if err := pebblestore.Restore(pos[0], *dataDir, pebblestore.Options{Logger: zerolog.Nop(), EncryptionKey: encKey}); err != nil {
		return err
	}
	id, _ := pebblestore.ReadStoreID(*dataDir)
	fmt.Printf("restored %s into %s\nstore %s\n", pos[0], *dataDir, id)
	return nil
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
