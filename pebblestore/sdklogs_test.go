package pebblestore

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(Options{Dir: t.TempDir(), Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func appendLogs(t *testing.T, s *Store, user uint32, keep int, logs ...SDKLog) {
	t.Helper()
	b := s.NewBatch()
	release, err := b.AppendSDKLogs(user, logs, keep)
	if err != nil {
		b.Close()
		t.Fatal(err)
	}
	defer release()
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
}

func listLogs(t *testing.T, s *Store, user uint32) []*SDKLog {
	t.Helper()
	var out []*SDKLog
	if err := s.SDKLogs(user, func(l *SDKLog) bool { out = append(out, l); return true }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSDKLogRoundTrip(t *testing.T) {
	s := openStore(t)
	recv := time.Date(2026, 4, 9, 10, 0, 1, 5, time.UTC)
	ts := time.Date(2026, 4, 9, 10, 0, 0, 0, time.UTC)
	in := SDKLog{Received: recv, SDKVersion: "1.2.0", Provider: "apple", SessionID: "s-1", Type: "device_state",
		Timestamp: ts, Event: []byte(`{"eventType":"device_state","batteryLevel":0.5}`)}
	appendLogs(t, s, 3, SDKLogsKept, in, SDKLog{Type: "x", Event: []byte(`{}`)})
	got := listLogs(t, s, 3)
	if len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 1 {
		t.Fatalf("listed %d events, want seqs 2, 1", len(got))
	}
	g := got[1]
	if !g.Received.Equal(recv) || !g.Timestamp.Equal(ts) || g.SDKVersion != "1.2.0" || g.Provider != "apple" ||
		g.SessionID != "s-1" || g.Type != "device_state" || string(g.Event) != string(in.Event) {
		t.Errorf("round trip: %+v", g)
	}
	if other := listLogs(t, s, 2); len(other) != 0 {
		t.Errorf("user 2 sees %d events of user 3", len(other))
	}
	if other := listLogs(t, s, 4); len(other) != 0 {
		t.Errorf("user 4 sees %d events of user 3", len(other))
	}
}

// Appending past the limit keeps the newest, in order, with no gap.
func TestSDKLogKeepsTheLast(t *testing.T) {
	s := openStore(t)
	for round := range 11 {
		logs := make([]SDKLog, 0, 92)
		for i := range 92 {
			logs = append(logs, SDKLog{Type: "device_state", Event: []byte(fmt.Sprintf(`{"n":%d}`, round*92+i))})
		}
		appendLogs(t, s, 1, SDKLogsKept, logs...)
	}
	got := listLogs(t, s, 1)
	if len(got) != SDKLogsKept {
		t.Fatalf("kept %d events, want %d", len(got), SDKLogsKept)
	}
	for i, l := range got {
		n := 11*92 - 1 - i
		if l.Seq != uint64(n+1) || string(l.Event) != fmt.Sprintf(`{"n":%d}`, n) {
			t.Fatalf("event %d: seq %d %s, want seq %d n %d", i, l.Seq, l.Event, n+1, n)
		}
	}
	// A smaller limit removes a large range at once.
	appendLogs(t, s, 1, 10, SDKLog{Event: []byte(`{"n":"last"}`)})
	got = listLogs(t, s, 1)
	if len(got) != 10 || string(got[0].Event) != `{"n":"last"}` || got[9].Seq != got[0].Seq-9 {
		t.Fatalf("after a limit of 10: %d events", len(got))
	}
	b := s.NewBatch()
	if err := b.DeleteSDKLogs(1); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := listLogs(t, s, 1); len(got) != 0 {
		t.Errorf("%d events left after deletion", len(got))
	}
}

// Concurrent appends for one user get distinct, contiguous numbers.
func TestSDKLogConcurrentAppends(t *testing.T) {
	s := openStore(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				b := s.NewBatch()
				release, err := b.AppendSDKLogs(9, []SDKLog{{Event: []byte(`{}`)}, {Event: []byte(`{}`)}}, 30)
				if err != nil {
					b.Close()
					t.Error(err)
					return
				}
				if err := b.Commit(); err != nil {
					t.Error(err)
				}
				release()
			}
		}()
	}
	wg.Wait()
	got := listLogs(t, s, 9)
	if len(got) != 30 || got[0].Seq != 80 || got[29].Seq != 51 {
		t.Fatalf("%d events, newest %d, oldest %d; want 30 from 80 to 51", len(got), got[0].Seq, got[len(got)-1].Seq)
	}
}

// Every keyspace has its own prefix.
func TestKeyPrefixesAreDistinct(t *testing.T) {
	prefixes := map[string]byte{
		"meta": prefixMeta, "queue": prefixQueue, "dedup": prefixDedup, "idem": prefixIdem, "user": prefixUser,
		"user iid": prefixUserIID, "api key": prefixAPIKey, "refresh": prefixRefresh, "source": prefixSource,
		"source id": prefixSourceByID, "series type": prefixSeriesType, "type id": prefixTypeByID,
		"user type": prefixUserType, "user type id": prefixUserTypeID, "connection": prefixConnection, "app": prefixApp,
		"points": prefixPoints, "workout": prefixWorkout, "sleep": prefixSleep, "run": prefixRun,
		"user run": prefixUserRun, "dead letter": prefixDeadLetter, "sdk log": prefixSDKLog,
		"invitation": prefixInvitation, "user invitation": prefixUserInvitation,
	}
	seen := map[byte]string{}
	for name, p := range prefixes {
		if other, ok := seen[p]; ok {
			t.Errorf("prefix %q is used by %s and %s", p, name, other)
		}
		seen[p] = name
	}
}
