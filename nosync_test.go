package main

import (
	"strings"
	"testing"
)

// TestReleaseBuildIgnoresUnsafeNoSync: the server as it ships keeps the
// fsync of acknowledged writes with WEARHOUSE_UNSAFE_NO_SYNC=1 set; only
// the build with the wearhouse_unsafe tag turns it off, and says so.
func TestReleaseBuildIgnoresUnsafeNoSync(t *testing.T) {
	const warning = "WEARHOUSE_UNSAFE_NO_SYNC=1: acknowledged writes are not fsynced"
	for _, c := range []struct {
		build string
		bin   string
		off   bool
	}{
		{"release", wearhouseBinary(t), false},
		{"wearhouse_unsafe", wearhouseUnsafeBinary(t), true},
	} {
		p := startServer(t, c.bin, t.TempDir(), "WEARHOUSE_UNSAFE_NO_SYNC=1")
		p.kill()
		if off := strings.Contains(p.output.String(), warning); off != c.off {
			t.Errorf("%s build with WEARHOUSE_UNSAFE_NO_SYNC=1: fsync off %v, want %v; output:\n%s",
				c.build, off, c.off, p.output.String())
		}
	}
}
