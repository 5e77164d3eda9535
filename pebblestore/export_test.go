package pebblestore

import "github.com/cockroachdb/pebble/v2"

// CommitNoSync writes the batch without waiting for an fsync: the fault
// tests use it to leave an unsynced tail in the WAL. The write path's
// batches are always synced (Batch.Commit); the store's own unsynced
// writes (index rounds, sweeps) can be redone after a crash.
func (b *Batch) CommitNoSync() error {
	err := b.b.Commit(pebble.NoSync)
	b.b.Close()
	return err
}
