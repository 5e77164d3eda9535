package httpapi_test

// Fault test: overload. Three times as many clients as the write path
// admits at once, with bodies that also press on the in-flight byte limit,
// on a disk whose WAL fsync takes 20 ms (an SD card): the excess must get
// 503 with Retry-After, never a hang; the memory must stay bounded; every
// batch answered 202 must be in the store afterwards, once.
//
// Nothing here asserts a speed: the clients' timeout only turns a hang into
// a failure, and the load runs until both answers were seen. The heap bound
// stays: it is the bound the in-flight limits promise (256 times the byte
// limit, the test's own clients and bodies included), sampling can only
// miss a peak, never invent one, so a slow machine cannot fail it.

import (
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"

	"wearhouse/app"
)

func TestFaultOverloadSheds503KeepsAccepted(t *testing.T) {
	const (
		maxConcurrent    = 4
		maxInflightBytes = 1 << 20
		clients          = 3 * maxConcurrent
		clientTimeout    = 30 * time.Second
		// heapBound is the generous bound on the heap in use, the test's
		// clients and their bodies included.
		heapBound = 256 << 20
	)
	duration := 2 * time.Second
	if longFaultTests() {
		duration = 30 * time.Second
	}
	lat := &walLatency{}
	lat.delay.Store(int64(20 * time.Millisecond))
	lat.on.Store(true)
	ts := startServer(t, func(o *app.Options) {
		o.Store.FS = errorfs.Wrap(vfs.Default, lat)
		o.Ingest.MaxConcurrent = maxConcurrent
		o.Ingest.MaxInflightBytes = maxInflightBytes
		o.Ingest.CommitTimeout = 2 * time.Second
		o.Compactor.Paused = false // accepted batches are indexed meanwhile
	})

	// The heap in use, sampled until the end.
	var peakHeap atomic.Uint64
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapInuse
	sampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-sampling:
				return
			case <-tick.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peakHeap.Load() {
					peakHeap.Store(ms.HeapInuse)
				}
			}
		}
	}()

	var (
		mu       sync.Mutex
		acked    = map[string]bool{}
		problems []string
		n        atomic.Int64
		refused  atomic.Int64
		slowest  atomic.Int64
		wg       sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	// The load runs for duration, and on until at least one batch was
	// accepted and one refused (a slow machine may need longer to fill
	// the limits), up to a deadline only a server that never does reaches.
	var accepted atomic.Int64
	start := time.Now()
	end, giveUp := start.Add(duration), start.Add(duration+30*time.Second)
	more := func() bool {
		now := time.Now()
		return now.Before(end) || (accepted.Load() == 0 || refused.Load() == 0) && now.Before(giveUp)
	}
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := faultClient(clientTimeout, 1)
			user := fmt.Sprintf("overload-%d", i%6)
			for more() {
				k := int(n.Add(1))
				// 30 KiB to 330 KiB: a few of the larger ones fill the
				// in-flight byte limit.
				a, err := faultPost(c, ts.base, user, faultSyncBody(k, 200+k%11*200))
				if d := int64(a.elapsed); d > slowest.Load() {
					slowest.Store(d)
				}
				switch {
				case err != nil:
					fail("request %d: no answer within the client's %v: %v", k, clientTimeout, err)
					return
				case a.status == http.StatusAccepted:
					mu.Lock()
					acked[a.batchID] = true
					mu.Unlock()
					accepted.Add(1)
				case a.status == http.StatusServiceUnavailable:
					if msg := checkRefusal(a); msg != "" {
						fail("request %d: %s", k, msg)
					}
					refused.Add(1)
					time.Sleep(10 * time.Millisecond) // an impatient client: load stays at 3x
				default:
					fail("request %d: %d %s", k, a.status, a.body)
				}
			}
		}()
	}
	wg.Wait()
	ran := time.Since(start)
	close(sampling)
	<-sampled
	for _, p := range problems {
		t.Error(p)
	}
	if len(acked) == 0 || refused.Load() == 0 {
		t.Fatalf("%d accepted and %d refused: the load did not exceed the capacity", len(acked), refused.Load())
	}
	if peak := peakHeap.Load(); peak > heapBound {
		t.Errorf("heap in use reached %d MiB (from %d MiB), over the bound of %d MiB", peak>>20, baseHeap>>20, heapBound>>20)
	}

	// Every 202 is durable: after a clean stop, each batch is in the queue
	// or indexed, once.
	ts.stop()
	stored := storedBatches(t, ts.dir)
	missing, indexed := 0, 0
	for id := range acked {
		switch st, ok := stored[id]; {
		case !ok:
			missing++
			if missing <= 10 {
				t.Errorf("accepted batch %s is not in the store", id)
			}
		case st == "completed":
			indexed++
		case st != "queued":
			t.Errorf("accepted batch %s: status %q", id, st)
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d accepted batches missing", missing, len(acked))
	}
	t.Logf("%v at %d clients (limits: %d batches, %d KiB in flight; WAL fsync 20 ms): %d accepted (%d already indexed), %d refused with 503 and Retry-After; slowest answer %v; heap in use peaked at %d MiB (from %d MiB)",
		ran.Round(time.Millisecond), clients, maxConcurrent, maxInflightBytes>>10, len(acked), indexed, refused.Load(),
		time.Duration(slowest.Load()).Round(time.Millisecond), peakHeap.Load()>>20, baseHeap>>20)
}
