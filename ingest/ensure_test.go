package ingest

import (
	"errors"
	"sync"
	"testing"
)

// TestEnsureUser: a user that does not exist is created as a first sync
// creates one, once however many race for it (syncs included), and then
// runs with the user there; with AutoCreateUsers off an unknown user is
// KindUnknownUser and then does not run.
func TestEnsureUser(t *testing.T) {
	s, store := newService(t, Options{})
	var wg sync.WaitGroup
	iids := make(chan uint32, 16)
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			err := s.EnsureUser("paired", func() error {
				u, err := store.User("paired")
				if err == nil {
					iids <- u.IID
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := s.Submit(&Request{UserID: "paired", Body: appleBody(i, 3)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(iids)
	u, err := store.User("paired")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for iid := range iids {
		n++
		if iid != u.IID {
			t.Errorf("then saw user %d, want %d: the user was created twice", iid, u.IID)
		}
	}
	if n != 8 {
		t.Errorf("then ran %d times, want 8", n)
	}
	errThen := errors.New("then failed")
	if err := s.EnsureUser("paired", func() error { return errThen }); !errors.Is(err, errThen) {
		t.Errorf("the error of then: %v", err)
	}

	s.opts.AutoCreateUsers = false
	ran := false
	var ierr *Error
	if err := s.EnsureUser("stranger", func() error { ran = true; return nil }); !errors.As(err, &ierr) || ierr.Kind != KindUnknownUser || ran {
		t.Errorf("an unknown user without auto-creation: %v (then ran: %v)", err, ran)
	}
	if err := s.EnsureUser("paired", func() error { ran = true; return nil }); err != nil || !ran {
		t.Errorf("a known user without auto-creation: %v (then ran: %v)", err, ran)
	}
}
