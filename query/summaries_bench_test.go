package query

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"wearhouse/pebblestore"
)

// storeYearOfMinutes stores a year (2025) of minute-level steps and heart
// rate for user u1 from one watch, 525,600 points each, as the compactor
// does: each point with its own UUID, in the zone +01:00.
func storeYearOfMinutes(b testing.TB) (*Service, time.Time) {
	s, q := openStore(b)
	year := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const minutes = 365 * 24 * 60
	var sid uint32
	var err error
	for day := 0; day < 365; day++ {
		ib := s.NewIndexBatch()
		if sid, err = ib.DataSource(pebblestore.SourceRecord{UserIID: 1, Provider: "apple", DeviceModel: "Watch7,1",
			SourceName: "Apple Watch", DeviceType: "watch"}); err != nil {
			b.Fatal(err)
		}
		for m := day * 1440; m < (day+1)*1440; m++ {
			t := year.Add(time.Duration(m) * time.Minute).UnixMicro()
			ib.AddPoint(1, serSteps, sid, pebblestore.Point{Start: t, End: t + minuteUsec, Value: float64(m % 97),
				Zone: "+01:00", ExtID: fmt.Sprintf("%08X-0000-4000-8000-%012X", m, m)})
			ib.AddPoint(1, serHeartRate, sid, pebblestore.Point{Start: t, End: t, Value: float64(55 + m%90),
				Zone: "+01:00", ExtID: fmt.Sprintf("%08X-0000-4000-8000-%012X", m, minutes+m)})
		}
		if err := ib.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		b.Fatal(err)
	}
	return q, year
}

// BenchmarkYearOfActivitySummaries answers a year of daily activity
// summaries in one page (limit 400) over a year of minute-level steps and
// heart rate.
func BenchmarkYearOfActivitySummaries(b *testing.B) {
	benchActivitySummaries(b, 400, func(page *Page[ActivitySummary]) bool { return len(page.Data) == 365 })
}

// benchActivitySummaries answers pages of limit days of the year of
// minutes, each of which must pass ok, and reports the CPU time of each.
func benchActivitySummaries(b *testing.B, limit int, ok func(*Page[ActivitySummary]) bool) {
	q, year := storeYearOfMinutes(b)
	p := ActivityParams{Start: year, End: year.AddDate(1, 0, 0), Limit: limit}
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		page, err := q.ActivitySummaries("u1", p)
		if err != nil {
			b.Fatal(err)
		}
		if !ok(page) {
			b.Fatalf("%d days, has_more %v", len(page.Data), page.Pagination.HasMore)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
}

// cpuTime is the CPU time the process has used, user and system, in ns: on
// a busy machine it shows the work done per operation where the wall time
// also counts the waits for a CPU.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkActivitySummariesFirstPage answers the first page of the default
// size (50 days) of the same year: the window is read in chunks from its
// start, so only the first two months are read.
func BenchmarkActivitySummariesFirstPage(b *testing.B) {
	benchActivitySummaries(b, 50, func(page *Page[ActivitySummary]) bool {
		return len(page.Data) == 50 && page.Pagination.HasMore
	})
}
