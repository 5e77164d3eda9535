package main

import (
	"bytes"
	"encoding/json"
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

// backupCmd writes a consistent copy of the store into a new directory. It
// asks the running server (POST /api/v1/admin/backup with the admin key);
// when no server answers, it opens the store itself.
func backupCmd(args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	target := fs.String("target", envOr("WEARHOUSE_TARGET", "http://127.0.0.1:8080"), "address of the running server")
	dataDir := fs.String("data-dir", envOr("WEARHOUSE_DATA_DIR", "./data"), "data directory (for the admin key, or to back up a stopped server)")
	apiKey := fs.String("api-key", os.Getenv("WEARHOUSE_ADMIN_KEY"), "admin API key (default: the data directory's admin.key)")
	pos, err := parseArgs(fs, "[flags] <new directory>", args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("backup", "backup needs one argument, the directory to write, which must not exist yet")
	}
	dir, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	key := *apiKey
	if key == "" {
		if b, err := os.ReadFile(filepath.Join(*dataDir, auth.AdminKeyFile)); err == nil {
			key = strings.TrimSpace(string(b))
		}
	}
	body, _ := json.Marshal(map[string]string{"dir": dir})
	req, err := http.NewRequest("POST", strings.TrimRight(*target, "/")+"/api/v1/admin/backup", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("X-Open-Wearables-API-Key", key)
	req.Header.Set("Content-Type", "application/json")
	res, err := (&http.Client{Timeout: 30 * time.Minute}).Do(req)
	if err != nil {
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("backup through %s: %w", *target, err)
		}
		return offlineBackup(*dataDir, dir)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("backup refused by the server (%d): %s", res.StatusCode, out)
	}
	fmt.Printf("backup written: %s\n", out)
	return nil
}

// offlineBackup backs up the store of a stopped server.
func offlineBackup(dataDir, dir string) error {
	st, err := pebblestore.Open(pebblestore.Options{Dir: dataDir, Logger: zerolog.Nop()})
	if err != nil {
		return fmt.Errorf("no server answered, and the store could not be opened: %w", err)
	}
	defer st.Close()
	n, err := st.Checkpoint(dir)
	if err != nil {
		return err
	}
	if err := auth.CopyAdminKeyFile(dataDir, dir); err != nil {
		return err
	}
	fmt.Printf("backup written (server not running): %s, %d bytes\n", dir, n)
	return nil
}

// restoreCmd puts a backup in place as a new data directory. The server
// must be stopped; an existing data directory is never overwritten.
func restoreCmd(args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	dataDir := fs.String("data-dir", envOr("WEARHOUSE_DATA_DIR", "./data"), "data directory to create from the backup")
	pos, err := parseArgs(fs, "[flags] <backup directory>", args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("restore", "restore needs one argument, the backup directory")
	}
	if err := pebblestore.Restore(pos[0], *dataDir, pebblestore.Options{Logger: zerolog.Nop()}); err != nil {
		return err
	}
	fmt.Printf("restored %s into %s\n", pos[0], *dataDir)
	return nil
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
