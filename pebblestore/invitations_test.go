package pebblestore

import (
	"errors"
	"testing"
	"time"
)

// TestInvitations: a user's new code replaces the earlier ones, a redeemed
// code is gone in the write that stores its refresh token, and the erasure
// of a user erases the user's codes and index entries, nobody else's.
func TestInvitations(t *testing.T) {
	s := openStoreAt(t, t.TempDir(), Options{})
	defer s.Close()
	b := s.NewBatch()
	gone, err := b.CreateUser("gone", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := b.CreateUser("kept", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	has := func(h [32]byte) bool {
		t.Helper()
		_, err := s.Invitation(h)
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	put := func(iid uint32, h [32]byte) {
		t.Helper()
		if err := s.ReplaceInvitations(iid, h, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	first, second, theirs, spent := [32]byte{1}, [32]byte{2}, [32]byte{3}, [32]byte{4}
	put(gone.IID, first)
	put(kept.IID, theirs)
	put(gone.IID, second)
	if has(first) || !has(second) || !has(theirs) {
		t.Fatalf("after a second code: first %v, second %v, another user's %v; want false, true, true", has(first), has(second), has(theirs))
	}

	put(kept.IID, spent)
	if err := s.RedeemInvitation(kept.IID, spent, [32]byte{9}, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RefreshToken([32]byte{9}); err != nil || has(spent) {
		t.Fatalf("redeemed: refresh token %v, code left %v", err, has(spent))
	}
	put(kept.IID, theirs)

	if _, err := s.DeleteUser(gone); err != nil {
		t.Fatal(err)
	}
	if has(second) || !has(theirs) {
		t.Errorf("after the erasure: the erased user's code %v, another user's %v; want false, true", has(second), has(theirs))
	}
	left, err := s.UserKeys(gone.IID)
	if err != nil || len(left) > 0 {
		t.Errorf("keys of the erased user left: %v (%v)", left, err)
	}
	n := 0
	if err := s.eachPrefix(prefixUserInvitation, func(k, _ []byte) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("%d index entries left, want the other user's one (%v)", n, err)
	}
}
