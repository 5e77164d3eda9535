//go:build !wearhouse_unsafe

package main

import "github.com/rs/zerolog"

// unsafeNoSync is false: a release build ignores WEARHOUSE_UNSAFE_NO_SYNC
// and always fsyncs acknowledged writes (see nosync_unsafe.go for the test
// build that honours it).
func unsafeNoSync(zerolog.Logger) bool { return false }
