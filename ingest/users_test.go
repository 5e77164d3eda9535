package ingest

import (
	"errors"
	"testing"
	"time"

	"wearhouse/codec"
	"wearhouse/pebblestore"
)

// TestDeleteUserDiscardsQueuedBatches: the batches of a user still queued
// when the user is erased leave the queue, the index backlog and the
// compactor's way: it reaches the watermark over them, and a user created
// again under the same id gets a new internal id and starts empty.
func TestDeleteUserDiscardsQueuedBatches(t *testing.T) {
	s, store := newService(t, Options{})
	for i := 0; i < 3; i++ {
		if _, err := s.Submit(&Request{UserID: "gone", Body: appleBody(i, 10)}); err != nil {
			t.Fatal(err)
		}
	}
	kept, err := s.Submit(&Request{UserID: "kept", Body: appleBody(9, 10)})
	if err != nil {
		t.Fatal(err)
	}
	for i := 3; i < 5; i++ {
		if _, err := s.Submit(&Request{UserID: "gone", Body: appleBody(i, 10)}); err != nil {
			t.Fatal(err)
		}
	}
	u, err := store.User("gone")
	if err != nil {
		t.Fatal(err)
	}
	keptSize := int64(len(appleBody(9, 10)))
	if err := s.DeleteUser(u.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got := s.Backlog(); got != keptSize {
		t.Errorf("backlog %d after the erasure, want the other user's %d", got, keptSize)
	}
	if n := queueLen(t, store); n != 1 {
		t.Errorf("%d queue entries left, want the other user's one", n)
	}
	if err := s.DeleteUser(u.ID, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	c := indexAll(t, store, s, CompactorOptions{})
	if behind, _ := c.Lag(); behind != 0 || s.Watermark() <= kept.Seq {
		t.Errorf("compactor %d batches behind the watermark %d", behind, s.Watermark())
	}
	if s.Backlog() != 0 {
		t.Errorf("backlog %d once everything is indexed", s.Backlog())
	}
	if left, err := store.UserKeys(u.IID); err != nil || len(left) > 0 {
		t.Errorf("left of the erased user: %v %v", left, err)
	}
	if _, err := s.Submit(&Request{UserID: "gone", Body: appleBody(0, 10)}); err != nil {
		t.Fatal(err)
	}
	again, err := store.User("gone")
	if err != nil || again.IID == u.IID {
		t.Fatalf("created again as %+v (%v); the erased one was %d", again, err, u.IID)
	}
}

// TestGrantHoldsForOneIncarnation: a write with an SDK token is refused,
// and creates no user, once the token's user is erased; a user created
// again under the same id does not revive it. Tokens without the internal
// id (earlier releases) are judged by their issue time.
var oneSDKLog = &codec.SDKLogBatch{Events: []codec.SDKLogEvent{{Type: "x", Raw: []byte(`{}`)}}}

func TestGrantHoldsForOneIncarnation(t *testing.T) {
	s, store := newService(t, Options{})
	if _, err := s.Submit(&Request{UserID: "u", Body: appleBody(0, 1)}); err != nil {
		t.Fatal(err)
	}
	u, err := store.User("u")
	if err != nil {
		t.Fatal(err)
	}
	issued := u.Created.Truncate(time.Second)
	current := &Grant{UserIID: u.IID, Issued: issued}
	legacy := &Grant{Issued: issued}
	for name, g := range map[string]*Grant{"current": current, "earlier release": legacy} {
		if _, err := s.Submit(&Request{UserID: "u", Body: appleBody(1, 1), Grant: g}); err != nil {
			t.Errorf("%s token of a live user: %v", name, err)
		}
	}
	if err := s.AppendSDKLogs("u", current, nil, oneSDKLog); err != nil {
		t.Errorf("SDK logs with a live token: %v", err)
	}
	if err := s.DeleteUser(u.ID, nil); err != nil {
		t.Fatal(err)
	}
	revoked := func(what string, err error) {
		t.Helper()
		var ie *Error
		if !errors.As(err, &ie) || ie.Kind != KindRevokedToken {
			t.Errorf("%s: %v, want a revoked token", what, err)
		}
	}
	_, err = s.Submit(&Request{UserID: "u", Body: appleBody(2, 1), Grant: current})
	revoked("sync with the token of an erased user", err)
	revoked("SDK logs with the token of an erased user", s.AppendSDKLogs("u", legacy, nil, oneSDKLog))
	if _, err := store.User("u"); !errors.Is(err, pebblestore.ErrNotFound) {
		t.Fatalf("a refused token created the user again: %v", err)
	}
	// Created again a second later than the tokens were minted.
	s.opts.Now = func() time.Time { return issued.Add(time.Second) }
	if _, err := s.Submit(&Request{UserID: "u", Body: appleBody(3, 1)}); err != nil {
		t.Fatal(err)
	}
	for name, g := range map[string]*Grant{"current": current, "earlier release": legacy} {
		_, err := s.Submit(&Request{UserID: "u", Body: appleBody(4, 1), Grant: g})
		revoked(name+" token of the erased user, for the user created again", err)
	}
	u2, err := store.User("u")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(&Request{UserID: "u", Body: appleBody(5, 1), Grant: &Grant{UserIID: u2.IID, Issued: issued.Add(time.Second)}}); err != nil {
		t.Errorf("a token of the user created again: %v", err)
	}
}
