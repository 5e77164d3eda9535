package ingest

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"wearhouse/codec"
	"wearhouse/pebblestore"
)

func TestBroadcasterRoutesByUser(t *testing.T) {
	var b Broadcaster
	alice := b.Subscribe(1, 4)
	bob := b.Subscribe(2, 4)
	defer alice.Close()
	defer bob.Close()

	b.Publish(&pebblestore.Run{BatchID: "1", UserIID: 1, Status: "queued"})
	b.Publish(&pebblestore.Run{BatchID: "2", UserIID: 2, Status: "queued"})
	b.Publish(&pebblestore.Run{BatchID: "3", UserIID: 3, Status: "queued"})
	b.Publish(&pebblestore.Run{BatchID: "4", UserIID: 1, Status: "queued"})

	if got := drain(alice); len(got) != 2 || got[0].BatchID != "1" || got[1].BatchID != "4" {
		t.Errorf("alice got %v, want batches 1 and 4 in order", got)
	}
	if got := drain(bob); len(got) != 1 || got[0].BatchID != "2" {
		t.Errorf("bob got %v, want batch 2", got)
	}
	if b.Published() != 4 || b.Dropped() != 0 {
		t.Errorf("published %d dropped %d", b.Published(), b.Dropped())
	}
}

// A subscriber that does not read loses runs, counted, and never blocks
// the publisher.
func TestBroadcasterDropsForSlowSubscribers(t *testing.T) {
	var b Broadcaster
	slow := b.Subscribe(7, 2)
	defer slow.Close()
	done := make(chan struct{})
	go func() {
		for i := range 10 {
			b.Publish(&pebblestore.Run{BatchID: strconv.Itoa(i + 1), UserIID: 7})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a full subscriber")
	}
	if got := drain(slow); len(got) != 2 || got[0].BatchID != "1" || got[1].BatchID != "2" {
		t.Errorf("slow subscriber got %v, want the first two", got)
	}
	if slow.Dropped() != 8 || b.Dropped() != 8 {
		t.Errorf("dropped %d (broadcaster %d), want 8", slow.Dropped(), b.Dropped())
	}
}

func TestBroadcasterClose(t *testing.T) {
	var b Broadcaster
	s := b.Subscribe(1, 1)
	a := b.Subscribe(1, 1)
	if b.Subscribers() != 2 {
		t.Fatalf("subscribers = %d", b.Subscribers())
	}
	s.Close()
	s.Close()
	a.Close()
	if b.Subscribers() != 0 {
		t.Fatalf("subscribers after close = %d", b.Subscribers())
	}
	b.Publish(&pebblestore.Run{UserIID: 1})
	for _, sub := range []*Subscription{s, a} {
		if len(drain(sub)) != 0 || sub.Dropped() != 0 {
			t.Error("a closed subscription still receives runs")
		}
	}
}

// The published value is a copy: the publisher may change its run after.
func TestBroadcasterCopies(t *testing.T) {
	var b Broadcaster
	s := b.Subscribe(1, 1)
	defer s.Close()
	r := &pebblestore.Run{UserIID: 1, Status: "queued"}
	b.Publish(r)
	r.Status = "completed"
	if got := <-s.C; got.Status != "queued" {
		t.Errorf("received %q, want the value at publication", got.Status)
	}
}

func TestBroadcasterConcurrent(t *testing.T) {
	var b Broadcaster
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 100 {
				b.Publish(&pebblestore.Run{Seq: uint64(j), UserIID: uint32(i % 3)})
			}
		}()
		go func() {
			defer wg.Done()
			for range 50 {
				s := b.Subscribe(uint32(i%3), 8)
				drain(s)
				s.Close()
			}
		}()
	}
	wg.Wait()
	if b.Subscribers() != 0 {
		t.Errorf("subscribers = %d", b.Subscribers())
	}
}

// The write path publishes the queued run once it is durable, and the
// compactor publishes it again, completed, after its commit. A subscriber
// that came after the first publication gets the second.
func TestRunsArePublished(t *testing.T) {
	s, store := newService(t, Options{})
	id, err := s.CreateUser(&codec.UserCreate{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.SubscribeUser(id, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	res, err := s.Submit(&Request{UserID: id, Body: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	r := recv(t, first)
	if r.Status != "queued" || r.BatchID != res.BatchID || r.UserID != id || r.Items != 1 {
		t.Fatalf("first publication = %+v", r)
	}
	stored, err := store.RunBySeq(res.Seq)
	if err != nil || stored.Status != "queued" {
		t.Fatalf("published before the run was stored: %v %+v", err, stored)
	}
	late, err := s.SubscribeUser(id, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()

	indexAll(t, store, s, CompactorOptions{})
	for _, sub := range []*Subscription{first, late} {
		r := recv(t, sub)
		if r.Status != "completed" || r.BatchID != res.BatchID || r.RecordsSaved != 1 || r.CompletedAt == nil {
			t.Errorf("second publication = %+v", r)
		}
	}
}

func recv(t *testing.T, s *Subscription) codec.SyncRun {
	t.Helper()
	select {
	case r := <-s.C:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no run published")
		return codec.SyncRun{}
	}
}

func drain(s *Subscription) []codec.SyncRun {
	var out []codec.SyncRun
	for {
		select {
		case r := <-s.C:
			out = append(out, r)
		default:
			return out
		}
	}
}
