package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"wearhouse/pebblestore"
)

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "store.key")
	if err := keygenCmd([]string{path}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != 32 || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %d bytes, mode %04o", st.Size(), st.Mode().Perm())
	}
	before, _ := os.ReadFile(path)
	if err := keygenCmd([]string{path}); err == nil || !strings.Contains(err.Error(), "never overwrites") {
		t.Fatalf("second keygen: %v", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("the key was overwritten")
	}
	data := filepath.Join(dir, "data")
	if key, warn, err := readKeyFile(path, data); err != nil || len(key) != 32 || warn != "" {
		t.Fatalf("readKeyFile: %d bytes, %q, %v", len(key), warn, err)
	}
	inside := filepath.Join(data, "k")
	_ = os.MkdirAll(data, 0o700)
	_ = os.WriteFile(inside, before, 0o600)
	if _, _, err := readKeyFile(inside, data); err == nil || !strings.Contains(err.Error(), "inside the data directory") {
		t.Fatalf("key inside the data directory: %v", err)
	}
	short := filepath.Join(dir, "short")
	_ = os.WriteFile(short, []byte("0123456789"), 0o644)
	if _, _, err := readKeyFile(short, data); err == nil || !strings.Contains(err.Error(), "holds 10 bytes") {
		t.Fatalf("short key: %v", err)
	}
	_ = os.Chmod(path, 0o644)
	if _, warn, _ := readKeyFile(path, data); !strings.Contains(warn, "0600") {
		t.Fatalf("no warning for mode 0644: %q", warn)
	}
}

// TestRotateKeyCmd: a store made under one key is rewritten under another,
// and then opens with the new key alone.
func TestRotateKeyCmd(t *testing.T) {
	dir := t.TempDir()
	oldFile, newFile := filepath.Join(dir, "old.key"), filepath.Join(dir, "new.key")
	for _, f := range []string{oldFile, newFile} {
		if err := keygenCmd([]string{f}); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	oldKey, _ := os.ReadFile(oldFile)
	newKey, _ := os.ReadFile(newFile)
	st, err := pebblestore.Open(pebblestore.Options{Dir: data, Logger: zerolog.Nop(), EncryptionKey: oldKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutMeta("x", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := rotateKeyCmd([]string{"--data-dir", data, "--encryption-key-file", newFile, "--old-key-file", oldFile}); err != nil {
		t.Fatal(err)
	}
	st, err = pebblestore.Open(pebblestore.Options{Dir: data, Logger: zerolog.Nop(), EncryptionKey: newKey})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v, err := st.Meta("x"); err != nil || string(v) != "kept" {
		t.Fatalf("after the rotation: %q %v", v, err)
	}
}
