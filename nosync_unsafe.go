//go:build wearhouse_unsafe

package main

import (
	"os"

	"github.com/rs/zerolog"
)

// unsafeNoSync reports whether WEARHOUSE_UNSAFE_NO_SYNC=1 turns the fsync
// of acknowledged writes off, and says so in the log when it does. Only a
// build with the wearhouse_unsafe tag honours the variable: the crash tests
// build one to prove that they detect the writes lost without fsync.
func unsafeNoSync(log zerolog.Logger) bool {
	if os.Getenv("WEARHOUSE_UNSAFE_NO_SYNC") != "1" {
		return false
	}
	log.Warn().Msg("WEARHOUSE_UNSAFE_NO_SYNC=1: acknowledged writes are not fsynced, and a crash loses them; " +
		"this build (tag wearhouse_unsafe) is for tests only")
	return true
}
