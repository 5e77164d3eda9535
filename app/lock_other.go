//go:build !unix

package app

// dirLock is a no-op where flock does not exist; Pebble's own LOCK still
// keeps a second instance out.
type dirLock struct{}

func lockDir(string) (*dirLock, error) { return &dirLock{}, nil }

func (*dirLock) release() {}
