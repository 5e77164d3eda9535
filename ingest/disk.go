package ingest

import (
	"sync/atomic"
	"syscall"
	"time"
)

// diskWatch samples the free space of the data directory's volume, so that
// admission can refuse writes while there is still room: Pebble exits the
// process when its WAL meets ENOSPC.
type diskWatch struct {
	dir  string
	free atomic.Uint64
	// since counts bytes admitted after the last sample, so that a burst
	// between two samples is still counted.
	since atomic.Int64
}

func (d *diskWatch) sample() error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.dir, &st); err != nil {
		return err
	}
	d.free.Store(st.Bavail * uint64(st.Bsize))
	d.since.Store(0)
	return nil
}

func (d *diskWatch) run(every time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			_ = d.sample()
		}
	}
}

// available is the free space estimated now.
func (d *diskWatch) available() uint64 {
	free := d.free.Load()
	used := uint64(max(d.since.Load(), 0))
	if used >= free {
		return 0
	}
	return free - used
}
