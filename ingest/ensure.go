package ingest

import (
	"errors"
	"time"

	"wearhouse/pebblestore"
)

// EnsureUser makes sure the user id exists, creating it as its first sync
// would (no profile; KindUnknownUser when AutoCreateUsers is off), and
// then runs then under the user's lock: what then writes for the user (an
// invitation code) comes wholly before or after an erasure of the user,
// as a sync does. It is refused below the disk reserve, and its waits end
// CommitTimeout after the call with 503, the write going on.
func (s *Service) EnsureUser(id string, then func() error) error {
	if err := s.profileRefusal(); err != nil {
		return err
	}
	deadline := time.Now().Add(s.opts.CommitTimeout)
	unlock, err := s.lockUser(id, deadline)
	if err != nil {
		return err
	}
	_, known, err := s.lookupUser(id)
	if err != nil {
		unlock()
		return err
	}
	if known {
		return s.bounded(deadline, unlock, "write", then)
	}
	if !s.opts.AutoCreateUsers {
		unlock()
		return refuse(KindUnknownUser, 0, "User with ID: %s not found.", id)
	}
	// usersMu is held until the user is committed, so that a user is
	// created once (see user).
	if !lockBy(&s.usersMu, deadline) {
		unlock()
		return s.slow()
	}
	return s.bounded(deadline, unlock, "user creation", func() error {
		err := s.createBare(id)
		s.usersMu.Unlock()
		if err != nil {
			return err
		}
		return then()
	})
}

// createBare creates a user without a profile unless a sync created it
// first. The caller holds usersMu.
func (s *Service) createBare(id string) error {
	if u, err := s.store.User(id); err == nil {
		s.users.Store(id, u.IID)
		return nil
	} else if !errors.Is(err, pebblestore.ErrNotFound) {
		return err
	}
	b := s.store.NewBatch()
	u, err := b.CreateUser(id, s.opts.Now().UTC(), nil)
	if err != nil {
		b.Close()
		return err
	}
	if err := b.Commit(); err != nil {
		return err
	}
	s.users.Store(id, u.IID)
	return nil
}
