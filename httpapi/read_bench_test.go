package httpapi

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/ingest"
	"wearhouse/pebblestore"
	"wearhouse/query"
)

// BenchmarkRawDayOverHTTP answers GET /timeseries for one user-day of 1 Hz
// heart rate (86,400 samples in one page), encoding included, through the
// real handler on a loopback connection.
func BenchmarkRawDayOverHTTP(b *testing.B) {
	store, err := pebblestore.Open(pebblestore.Options{Dir: b.TempDir(), Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ib := store.NewIndexBatch()
	bt := store.NewBatch()
	u, err := bt.CreateUser("bench-user", day, nil)
	if err != nil || bt.Commit() != nil {
		b.Fatal(err)
	}
	sid, _ := ib.DataSource(pebblestore.SourceRecord{UserIID: u.IID, Provider: "apple", DeviceModel: "Watch7,1", SourceName: "Apple Watch"})
	hr := 70.0
	for i := 0; i < 86_400; i++ {
		t := day.Add(time.Duration(i) * time.Second).UnixMicro()
		hr += float64(i%5 - 2)
		ib.AddPoint(u.IID, 1, sid, pebblestore.Point{Start: t, End: t, Value: hr, Zone: "+01:00"})
	}
	if err := ib.Commit(); err != nil {
		b.Fatal(err)
	}
	creds, err := auth.Open(store, auth.Options{DataDir: b.TempDir(), AdminKey: "sk-bench-0000000000000000000000000", Announce: io.Discard, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	in, err := ingest.New(store, ingest.Options{AutoCreateUsers: true, BallastSize: -1, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	s, err := New(Options{Logger: zerolog.Nop()}, Deps{Auth: creds, Ingest: in, Query: query.New(store)})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve(ln, nil)
	defer s.Shutdown(b.Context())
	c := &fasthttp.HostClient{Addr: ln.Addr().String(), MaxResponseBodySize: 64 << 20}
	req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.SetRequestURI("http://" + ln.Addr().String() + "/api/v1/users/bench-user/timeseries?start_time=2026-03-01&end_time=2026-03-02&types=heart_rate&limit=100000")
	req.Header.Set("X-Open-Wearables-API-Key", "sk-bench-0000000000000000000000000")
	// plain is what a client that takes no compression gets; gzip what a
	// browser gets (compress.go), the compression's cost included.
	for _, enc := range []string{"plain", "gzip"} {
		b.Run(enc, func(b *testing.B) {
			if enc == "gzip" {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			for b.Loop() {
				if err := c.Do(req, res); err != nil || res.StatusCode() != 200 {
					b.Fatalf("%v %d", err, res.StatusCode())
				}
			}
			b.ReportMetric(float64(len(res.Body()))/86_400, "bytes/sample")
		})
	}
}
