package ingest

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// BallastFile is the name of the ballast in the data directory.
const BallastFile = "ballast"

// diskWatch samples the free space of the data directory's volume, so that
// admission can refuse writes while there is still room: Pebble exits the
// process when its WAL meets ENOSPC.
//
// It also keeps a ballast file: space set aside while the disk has room,
// and given back when free space falls under half the reserve, so that the
// store can still compact, and users and data can still be deleted, on a
// disk that filled up. The ballast comes back once there is room again.
type diskWatch struct {
	dir     string
	reserve uint64
	ballast int64 // size; 0 for none
	log     zerolog.Logger
	free    atomic.Uint64
	total   atomic.Uint64
	// since counts bytes admitted after the last sample, so that a burst
	// between two samples is still counted.
	since atomic.Int64
	// full is set while admission refuses for lack of space, to log once.
	full atomic.Bool
}

func (d *diskWatch) sample() error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.dir, &st); err != nil {
		return err
	}
	d.free.Store(st.Bavail * uint64(st.Bsize))
	d.total.Store(st.Blocks * uint64(st.Bsize))
	d.since.Store(0)
	return nil
}

func (d *diskWatch) ballastPath() string { return filepath.Join(d.dir, BallastFile) }

// tend gives the ballast back when space runs out, puts it back when there
// is room, and logs the changes of state.
func (d *diskWatch) tend() {
	free := d.free.Load()
	low := free < d.reserve
	if low != d.full.Load() {
		d.full.Store(low)
		if low {
			d.log.Error().Uint64("free_bytes", free).Uint64("reserve_bytes", d.reserve).
				Msg("free disk space is under the reserve: syncs are refused with 507 until space returns")
		} else {
			d.log.Info().Uint64("free_bytes", free).Msg("free disk space is back over the reserve: syncs are accepted again")
		}
	}
	if d.ballast <= 0 {
		return
	}
	_, err := os.Stat(d.ballastPath())
	exists := err == nil
	switch {
	case exists && free < d.reserve/2:
		if err := os.Remove(d.ballastPath()); err == nil {
			d.log.Error().Int64("ballast_bytes", d.ballast).
				Msg("disk nearly full: removed the ballast file so that the store can keep working; free some space")
			_ = d.sample()
		}
	case !exists && free > d.reserve+2*uint64(d.ballast):
		if err := d.makeBallast(); err != nil {
			d.log.Warn().Err(err).Msg("could not create the ballast file")
		}
	}
}

// makeBallast writes the ballast file: real blocks (zeros), not a sparse
// file, written to a temporary name and renamed, so that a ballast is
// either whole or absent.
func (d *diskWatch) makeBallast() error {
	tmp := d.ballastPath() + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := allocate(f, d.ballast); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, d.ballastPath())
}

// allocate gives f size bytes of real blocks.
func allocate(f *os.File, size int64) error {
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, size); err == nil {
		return nil
	} else if !errors.Is(err, syscall.EOPNOTSUPP) && !errors.Is(err, syscall.ENOSYS) {
		return err
	}
	zeros := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(zeros)) {
		n := min(left, int64(len(zeros)))
		if _, err := f.Write(zeros[:n]); err != nil {
			return err
		}
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

func (d *diskWatch) run(every time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if d.sample() == nil {
				d.tend()
			}
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
