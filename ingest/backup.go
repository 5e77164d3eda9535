package ingest

// Backup writes a consistent checkpoint of the running store into dir,
// which must not exist, and returns its size in bytes: it holds every
// write acknowledged before the call (pebblestore.Store.Checkpoint). It
// takes no user's lock and has no deadline: a checkpoint links the table
// files and copies the WAL while writes go on, and an operator waits for
// it.
func (s *Service) Backup(dir string) (int64, error) { return s.store.Checkpoint(dir) }

// DataDir is the store's data directory.
func (s *Service) DataDir() string { return s.store.Dir() }

// Stalled reports whether the store is delaying writes (memtables or L0
// full); admission refuses new batches meanwhile.
func (s *Service) Stalled() bool { return s.store.Stalled() }
