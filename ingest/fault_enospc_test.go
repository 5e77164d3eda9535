package ingest

// Fault tests: a full disk. Pebble cannot go on when its WAL meets ENOSPC
// (it stops the process), so a batch must never be acknowledged if it was
// not written, and admission must refuse batches with 507 while there is
// still room, before Pebble ever meets ENOSPC.

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// TestFaultENOSPCOnWALNeverAcknowledged makes the k-th WAL write from some
// point on fail with ENOSPC while a client keeps syncing: the store stops
// through Pebble's fatal path, no batch whose write failed is
// acknowledged, every batch acknowledged before is there after a crash,
// and the retries are stored once.
func TestFaultENOSPCOnWALNeverAcknowledged(t *testing.T) {
	for _, k := range faultSweep(1, 3, 10) {
		t.Run(fmt.Sprintf("write %d fails", k), func(t *testing.T) {
			faultRun(t, k, newWALFailure(faultIsWrite, syscall.ENOSPC), "no space left on device")
		})
	}
}

// faultVolume simulates a small volume under the store: its used space is
// the size of the files in the data directory, and any write once it is
// (almost) full fails with ENOSPC.
type faultVolume struct {
	fs       vfs.FS
	dir      string
	capacity atomic.Int64
	enospc   atomic.Int64 // writes refused
}

const faultVolumeSlack = 64 << 10 // ENOSPC comes this much before the last byte

func (v *faultVolume) String() string { return "faultVolume" }

func (v *faultVolume) used() int64 {
	names, err := v.fs.List(v.dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, name := range names {
		if fi, err := v.fs.Stat(v.fs.PathJoin(v.dir, name)); err == nil && !fi.IsDir() {
			n += fi.Size()
		}
	}
	return n
}

func (v *faultVolume) free() int64 { return max(v.capacity.Load()-v.used(), 0) }

func (v *faultVolume) MaybeError(op errorfs.Op) error {
	if (faultIsWrite(op) || op.Kind == errorfs.OpCreate) && v.free() < faultVolumeSlack {
		v.enospc.Add(1)
		return syscall.ENOSPC
	}
	return nil
}

// TestFaultDiskReserveAnswers507BeforeENOSPC runs the write path on a
// simulated 16 MiB volume with a 6 MiB reserve. The disk watch is fed the
// volume's free space as its sampler would feed it the real one. Clients
// post 60 KiB batches until they are refused: every refusal must be 507,
// Pebble must never meet ENOSPC, and every acknowledged batch must survive
// a crash. When space returns (the volume grows), the write path accepts
// batches again by itself.
func TestFaultDiskReserveAnswers507BeforeENOSPC(t *testing.T) {
	mem := vfs.NewCrashableMem()
	dir := t.TempDir()
	vol := &faultVolume{fs: mem, dir: dir}
	vol.capacity.Store(16 << 20)
	svc, _, fatal := openFaultService(t, errorfs.Wrap(mem, vol), dir, Options{DiskReserve: 6 << 20, CommitTimeout: 2 * time.Second})
	var closeOnce sync.Once
	defer closeOnce.Do(svc.Close)

	// The disk watch samples the volume of the temporary directory; it is
	// stopped and fed the simulated volume instead, as often as the test
	// writes.
	close(svc.stop)
	svc.wg.Wait()
	svc.stop = make(chan struct{})
	sample := func() {
		svc.disk.free.Store(uint64(vol.free()))
		svc.disk.since.Store(0)
	}
	sample()
	feederDone := make(chan struct{})
	var feeder sync.WaitGroup
	feeder.Add(1)
	go func() {
		defer feeder.Done()
		for {
			select {
			case <-feederDone:
				return
			case <-time.After(10 * time.Millisecond):
				sample()
			}
		}
	}()
	defer func() {
		close(feederDone)
		feeder.Wait()
	}()

	users := []string{"fault-a", "fault-b", "fault-c", "fault-d"}
	l := newFaultLedger()
	var n atomic.Int64
	var refused507 atomic.Int64
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 400 {
				fr := faultSubmit(svc, Request{UserID: u, Body: faultBody(int(n.Add(1)), 400)}, 10*time.Second)
				if fr.err != nil {
					if faultKind(fr.err) != KindDiskFull {
						t.Errorf("refused with %v, want 507 (disk full)", fr.err)
					}
					refused507.Add(1)
					return
				}
				l.note(t, fr)
			}
			t.Errorf("client %s was never refused on a full volume", u)
		}()
	}
	wg.Wait()
	if fatal.seen.Load() || vol.enospc.Load() > 0 {
		t.Fatalf("Pebble met ENOSPC (%d writes refused, store stopped: %v) before admission refused", vol.enospc.Load(), fatal.seen.Load())
	}
	t.Logf("%d batches acknowledged, then %d refusals with 507 at %d KiB free of 16 MiB (reserve 6 MiB)",
		len(l.acked), refused507.Load(), vol.free()>>10)

	// Space returns: accepted again without a restart.
	vol.capacity.Add(32 << 20)
	deadline := time.Now().Add(5 * time.Second)
	for {
		fr := faultSubmit(svc, Request{UserID: "fault-a", Body: faultBody(int(n.Add(1)), 400)}, 10*time.Second)
		if fr.err == nil {
			l.note(t, fr)
			break
		}
		if faultKind(fr.err) != KindDiskFull || time.Now().After(deadline) {
			t.Fatalf("after space returned: %v", fr.err)
		}
		time.Sleep(10 * time.Millisecond)
	}

	closeOnce.Do(svc.Close)
	crashed := mem.CrashClone(vfs.CrashCloneCfg{})
	svc2, store2, _ := openFaultService(t, crashed, dir, Options{})
	defer func() {
		svc2.Close()
		store2.Close()
	}()
	requireFaultAcked(t, faultQueue(t, store2), l)
}
