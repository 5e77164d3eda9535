package audit

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/pebblestore"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func openStore(t testing.TB, dir string) *pebblestore.Store {
	t.Helper()
	s, err := pebblestore.Open(pebblestore.Options{Dir: dir, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func record(tr *Trail, n int, user string) {
	for i := range n {
		tr.Record(Event{Action: "read", Method: "GET", Route: "/api/v1/users/{user_id}/timeseries", Status: 200,
			Actor: Actor{Kind: "key", ID: "key_1"}, UserID: user, Target: map[string]string{"start_date": "2026-01-0" + string(rune('1'+i%9))}})
	}
}

func mustVerify(t *testing.T, s *pebblestore.Store) *Report {
	t.Helper()
	r, err := Verify(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestChain: records are chained across a restart, and Verify finds a
// record altered, one removed from the middle and one removed from the end.
func TestChain(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	tr, err := Open(s, Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	record(tr, 30, "u1")
	tr.Close()
	s.Close()

	s = openStore(t, dir)
	defer s.Close()
	tr, err = Open(s, Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	record(tr, 20, "u2")
	tr.Close()
	if r := mustVerify(t, s); r.Records != 50 || r.First != 1 || r.Last != 50 || len(r.Problems) != 0 {
		t.Fatalf("intact trail: %+v", r)
	}

	// Altered: a record's user changed.
	var rec []byte
	s.AuditFrom(10, func(_ uint64, v []byte) bool { rec = append([]byte(nil), v...); return false })
	if err := s.TamperAudit(10, []byte(strings.Replace(string(rec), `"u1"`, `"u9"`, 1))); err != nil {
		t.Fatal(err)
	}
	r := mustVerify(t, s)
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "record 10 was altered") {
		t.Fatalf("altered record: %+v", r.Problems)
	}
	s.TamperAudit(10, rec)
	// Removed from the middle, and from the end.
	s.TamperAudit(20, nil)
	s.TamperAudit(21, nil)
	s.TamperAudit(50, nil)
	r = mustVerify(t, s)
	want := []string{"records 20 to 21 are missing", "record 22 does not follow", "records 50 to 50, the last written, are missing"}
	if len(r.Problems) != len(want) {
		t.Fatalf("removed records: %q", r.Problems)
	}
	for i, w := range want {
		if !strings.Contains(r.Problems[i], w) {
			t.Errorf("problem %d: %q, want %q", i, r.Problems[i], w)
		}
	}
}

// TestRetention: records past the retention go, the oldest first, and the
// chain still verifies from the anchor; the trail goes on after it.
func TestRetention(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	c := &clock{t: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	tr, err := Open(s, Options{Retention: 24 * time.Hour, Now: c.Now, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	record(tr, 10, "old")
	c.Add(20 * time.Hour)
	record(tr, 5, "newer")
	tr.Flush()
	c.Add(10 * time.Hour)
	if err := tr.sweep(); err != nil {
		t.Fatal(err)
	}
	record(tr, 3, "newest")
	tr.Close()
	r := mustVerify(t, s)
	if !r.Anchored || r.First != 11 || r.Last != 18 || r.Records != 8 || len(r.Problems) != 0 {
		t.Fatalf("after the sweep: %+v", r)
	}
}

// TestListAndFHIR: filters, paging newest first, and the AuditEvent shape.
func TestListAndFHIR(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	tr, err := Open(s, Options{Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	record(tr, 7, "a")
	record(tr, 5, "b")
	tr.Record(Event{Action: "credential", Method: "POST", Route: "/api/v1/developer/api-keys", Status: 403,
		Actor: Actor{Kind: "account", ID: "viewer@example.com"}, Client: "192.0.2.7"})
	page, next, err := tr.List(Filter{UserID: "a", Limit: 4})
	if err != nil || len(page) != 4 || page[0].Seq != 7 || page[3].Seq != 4 || next != 4 {
		t.Fatalf("first page: %d items, next %d, %v", len(page), next, err)
	}
	page, next, _ = tr.List(Filter{UserID: "a", Limit: 4, Before: next})
	if len(page) != 3 || page[2].Seq != 1 || next != 0 {
		t.Fatalf("second page: %+v next %d", page, next)
	}
	page, _, _ = tr.List(Filter{Actor: "account:viewer@example.com"})
	if len(page) != 1 || page[0].Outcome != "denied" {
		t.Fatalf("by actor: %+v", page)
	}
	ev := AuditEvent(&page[0])
	b, _ := json.Marshal(ev)
	for _, want := range []string{`"resourceType":"AuditEvent"`, `"action":"C"`, `"outcome":"4"`, `"code":"110100"`, `"address":"192.0.2.7"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("AuditEvent %s lacks %s", b, want)
		}
	}
}

// BenchmarkRecord is what auditing costs a request: a record's encoding,
// hash and append, and its share of the synced batch writes.
func BenchmarkRecord(b *testing.B) {
	s := openStore(b, b.TempDir())
	defer s.Close()
	tr, err := Open(s, Options{Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	e := Event{Action: "sync", Method: "POST", Route: "/api/v1/sdk/users/{user_id}/sync", Status: 202,
		Actor: Actor{Kind: "key", ID: "key_0123456789abcdef"}, UserID: "5b0e1f3c-8d2a-4c71-9e4b-2f6a7d8c9e01",
		Client: "192.0.2.10", UserAgent: "OpenWearables-iOS/0.15 CFNetwork/1568", RequestID: "9f1c2b3a4d5e6f708192a3b4c5d6e7f8"}
	b.ReportAllocs()
	for b.Loop() {
		tr.Record(e)
	}
	tr.Close()
}
