package pebblestore

// Fault test: a crash soon after the first start. The data directory that
// Open creates must itself survive the crash: a synced batch is only
// durable if the directory entries that lead to it are synced too.

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestFaultNewDataDirectorySurvivesCrash opens a store in a directory that
// does not exist yet (two levels of it), commits synced batches and takes
// a crash clone that keeps only synced data: the batches must be there.
func TestFaultNewDataDirectorySurvivesCrash(t *testing.T) {
	mem := vfs.NewCrashableMem()
	if err := mem.MkdirAll("/srv", 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := mem.OpenDir("/")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(); err != nil { // /srv exists durably, as a mount point would
		t.Fatal(err)
	}
	d.Close()
	const dir = "/srv/wearhouse/data"
	s, err := Open(Options{Dir: dir, Logger: faultLogger(), FS: mem})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var acked []uint64
	for seq := uint64(1); seq <= 20; seq++ {
		commitFaultBatch(t, s, seq)
		acked = append(acked, seq)
	}
	st, err := Open(Options{Dir: dir, Logger: faultLogger(), FS: mem.CrashClone(vfs.CrashCloneCfg{})})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	requireFaultBatches(t, st, acked)
}
