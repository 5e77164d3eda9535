package pebblestore

import (
	"errors"
	"testing"
	"time"
)

// TestDeleteUserRunsEraseHooksInItsWrite: the refresh tokens are erased by
// their owner's hook, which the store does not second-guess (their values
// are opaque here), in the erasure's one write: a hook that fails leaves
// the user and every token as they were.
func TestDeleteUserRunsEraseHooksInItsWrite(t *testing.T) {
	s := openStoreAt(t, t.TempDir(), Options{})
	defer s.Close()
	b := s.NewBatch()
	u, err := b.CreateUser("erased", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	mine, theirs := [32]byte{1}, [32]byte{2}
	for _, h := range [][32]byte{mine, theirs} {
		if err := s.PutRefreshToken(h, []byte{h[0]}); err != nil { // not JSON: only the hook knows whose it is
			t.Fatal(err)
		}
	}
	errHook := errors.New("hook failed")
	fail := true
	s.OnDeleteUser(func(got *User, e *Erasure) error {
		if got.IID != u.IID {
			t.Errorf("hook given user %d, want %d", got.IID, u.IID)
		}
		if err := e.DeleteRefreshToken(mine); err != nil {
			return err
		}
		if fail {
			return errHook
		}
		return nil
	})

	if _, err := s.DeleteUser(u); !errors.Is(err, errHook) {
		t.Fatalf("DeleteUser with a failing hook: %v", err)
	}
	if _, err := s.User(u.ID); err != nil {
		t.Errorf("the user is gone after a failed erasure: %v", err)
	}
	if _, err := s.RefreshToken(mine); err != nil {
		t.Errorf("a token is gone after a failed erasure: %v", err)
	}

	fail = false
	if _, err := s.DeleteUser(u); err != nil {
		t.Fatal(err)
	}
	if _, err := s.User(u.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the user is left: %v", err)
	}
	if _, err := s.RefreshToken(mine); !errors.Is(err, ErrNotFound) {
		t.Errorf("the hook's deletion was not committed: %v", err)
	}
	if _, err := s.RefreshToken(theirs); err != nil {
		t.Errorf("another's token was erased: %v", err)
	}
}
