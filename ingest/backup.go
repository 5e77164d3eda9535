package ingest

import (
	"sync"
	"time"

	"wearhouse/pebblestore"
)

// backupRetryAfter is what a backup refused while another runs is told to
// wait: backups take minutes, not the second a batch waits.
const backupRetryAfter = time.Minute

// Backup is a consistent checkpoint of the running store, held while it is
// sent (pebblestore.Checkpoint: WriteArchive, Size, Dir, StoreID). It
// holds every write acknowledged before StartBackup. Close removes it and
// lets the next backup in.
type Backup struct {
	*pebblestore.Checkpoint
	s    *Service
	once sync.Once
	err  error
}

// StartBackup makes a checkpoint in a private temporary directory inside
// the data directory, for one backup at a time: a second one is refused
// (503 with Retry-After) while one is held. The checkpoint's disk use
// counts against the disk reserve: tables are hard links, so what it adds
// is the files it copies (the WAL, MANIFEST and OPTIONS, a few MiB), and
// without room for those above the reserve it is refused (507). add, when
// set, writes files of the caller's into the checkpoint's directory (the
// admin key). It takes no user's lock and has no deadline: Pebble links
// and copies while writes go on, and an operator waits for it.
func (s *Service) StartBackup(add func(dir string) error) (*Backup, error) {
	if !s.backingUp.CompareAndSwap(false, true) {
		return nil, refuse(KindOverloaded, backupRetryAfter, "A backup is already running; retry once it has finished.")
	}
	b, err := s.startBackup(add)
	if err != nil {
		s.backingUp.Store(false)
		return nil, err
	}
	return b, nil
}

func (s *Service) startBackup(add func(dir string) error) (*Backup, error) {
	cost, err := s.store.CheckpointCost()
	if err != nil {
		return nil, err
	}
	if avail := s.disk.available(); avail < s.opts.DiskReserve+uint64(cost) {
		return nil, refuse(KindDiskFull, 0, "No room for a checkpoint: it copies about %d bytes (the WAL and MANIFEST; tables are hard-linked), "+
			"and free disk space (%d bytes) would fall below the reserve (%d bytes).", cost, avail, s.opts.DiskReserve)
	}
	// Counted until the next sample of free space sees it.
	s.disk.since.Add(cost)
	c, err := s.store.NewCheckpoint()
	if err != nil {
		return nil, err
	}
	b := &Backup{Checkpoint: c, s: s}
	if add != nil {
		if err := add(c.Dir()); err != nil {
			_ = c.Remove()
			return nil, err
		}
	}
	return b, nil
}

// Close removes the checkpoint and ends the backup. It may be called more
// than once.
func (b *Backup) Close() error {
	b.once.Do(func() {
		b.err = b.Remove()
		b.s.backingUp.Store(false)
	})
	return b.err
}

// DataDir is the store's data directory.
func (s *Service) DataDir() string { return s.store.Dir() }

// StoreID is the store's id (pebblestore.Store.ID).
func (s *Service) StoreID() string { return s.store.ID() }

// Stalled reports whether the store is delaying writes (memtables or L0
// full); admission refuses new batches meanwhile.
func (s *Service) Stalled() bool { return s.store.Stalled() }
