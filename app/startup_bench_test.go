package app

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/auth"
	"wearhouse/ingest"
	"wearhouse/pebblestore"
)

// BenchmarkStartupWith10MillionPoints measures Start on a data directory
// holding ten million stored points (116 user-days of 1 Hz heart rate),
// from nothing open to serving.
func BenchmarkStartupWith10MillionPoints(b *testing.B) {
	dir := b.TempDir()
	st, err := pebblestore.Open(pebblestore.Options{Dir: dir, Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const total = 10_000_000
	for done := 0; done < total; {
		ib := st.NewIndexBatch()
		for i := 0; i < 500_000 && done < total; i++ {
			t := day.Add(time.Duration(done) * time.Second).UnixMicro()
			ib.AddPoint(1, 1, 1, pebblestore.Point{Start: t, End: t, Value: float64(60 + done%50), Zone: "+01:00"})
			done++
		}
		if err := ib.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.Flush(); err != nil {
		b.Fatal(err)
	}
	st.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		a, err := Start(Options{
			Store: pebblestore.Options{Dir: dir}, Auth: auth.Options{AdminKey: "sk-startup-000000000000000000000"},
			Ingest: ingest.Options{AutoCreateUsers: true, BallastSize: -1}, Logger: zerolog.Nop(), Announce: io.Discard,
		}, ln)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		a.Close(context.Background())
		b.StartTimer()
	}
}
