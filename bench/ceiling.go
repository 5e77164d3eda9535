package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"wearhouse/codec"
)

// CeilingMaxItems is the item limit given to the decoder, the server's
// default.
const CeilingMaxItems = 200_000

// CeilingReport is the decode ceiling: the project's own decoder and
// validation alone, on the same bodies, in this process, on all cores.
type CeilingReport struct {
	Goroutines    int
	Duration      time.Duration
	Bodies        int64 // bodies decoded
	Records       int64 // items decoded (records, sleep stages, workouts)
	Bytes         int64
	RecordsPerSec float64
	PerCore       float64 // RecordsPerSec / Goroutines
	MBPerSec      float64
}

// Ceiling decodes the bodies with codec.DecodeSync on GOMAXPROCS goroutines
// for about d. A body that does not decode whole is an error: the ceiling
// must count the same work the server does.
func Ceiling(ctx context.Context, bodies []*Body, d time.Duration) (*CeilingReport, error) {
	if len(bodies) == 0 {
		return nil, fmt.Errorf("bench: no bodies to decode")
	}
	n := runtime.GOMAXPROCS(0)
	// Check every body once, and warm the decoder up, before the clock.
	for _, b := range bodies {
		if err := checkDecode(b); err != nil {
			return nil, err
		}
	}
	type count struct{ bodies, items, bytes int64 }
	counts := make([]count, n)
	errs := make([]error, n)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &counts[g]
			for i := g; ctx.Err() == nil; i++ {
				b := bodies[i%len(bodies)]
				batch, err := codec.DecodeSync(b.Data, CeilingMaxItems)
				if err != nil {
					errs[g] = err
					return
				}
				c.bodies++
				c.items += int64(batch.Items())
				c.bytes += int64(len(b.Data))
				if !time.Now().Before(deadline) {
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("bench: ceiling: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &CeilingReport{Goroutines: n, Duration: elapsed}
	for _, c := range counts {
		r.Bodies += c.bodies
		r.Records += c.items
		r.Bytes += c.bytes
	}
	secs := elapsed.Seconds()
	r.RecordsPerSec = float64(r.Records) / secs
	r.PerCore = r.RecordsPerSec / float64(n)
	r.MBPerSec = float64(r.Bytes) / secs / 1e6
	return r, nil
}

// checkDecode decodes one body and checks that every item is kept.
func checkDecode(b *Body) error {
	batch, err := codec.DecodeSync(b.Data, CeilingMaxItems)
	if err != nil {
		return fmt.Errorf("bench: body %d does not decode: %w", b.Index, err)
	}
	if batch.Dropped != 0 || len(batch.Records) != b.Records || len(batch.Sleep) != b.Sleep || len(batch.Workouts) != b.Workouts {
		return fmt.Errorf("bench: body %d decodes to %d records, %d sleep, %d workouts with %d dropped; generated %d, %d, %d",
			b.Index, len(batch.Records), len(batch.Sleep), len(batch.Workouts), batch.Dropped, b.Records, b.Sleep, b.Workouts)
	}
	return nil
}
