//go:build unix

package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFile is the data directory's owner: the process that holds an
// exclusive flock on it, with its pid written inside so that a second
// instance can say whom the directory belongs to. Pebble keeps its own LOCK
// as well; this one exists to give the message.
const lockFile = "wearhouse.pid"

// dirLock is a held lock on a data directory.
type dirLock struct{ f *os.File }

// lockDir takes the data directory, creating it (0700) when it does not
// exist yet.
func lockDir(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			b, _ := os.ReadFile(path)
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil && pid > 0 {
				return nil, fmt.Errorf("the data directory %s is in use by another wearhouse (pid %d)", dir, pid)
			}
			return nil, fmt.Errorf("the data directory %s is in use by another wearhouse", dir)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		f.Close()
		return nil, err
	}
	return &dirLock{f: f}, nil
}

// release gives the directory up. The file stays: removing it would race
// with a next owner that has just opened it.
func (l *dirLock) release() {
	if l != nil && l.f != nil {
		l.f.Truncate(0)
		l.f.Close()
		l.f = nil
	}
}
