package ingest

import (
	"errors"
	"sync"
	"time"

	"wearhouse/pebblestore"
)

// Erasure and the writes of a user are ordered by one rule: every write of
// a user (a sync, SDK logs, a connection or profile change) holds the
// user's lock shared from the moment it looks the user up until its write
// has finished, and DeleteUser holds it exclusively. A write therefore
// either finishes before the erasure, which then erases it, or looks the
// user up after it and finds no user (or a new one, with a new internal
// id). The compactor is ordered with the erasure by the store (see
// pebblestore.Store.NewIndexBatch).
//
// The locks are striped by user id; a stripe is shared by few users, and
// only a deletion ever takes one exclusively.

// Grant is what an SDK token says about the user it was minted for. A
// write sent with one is accepted only for that user as it was then: not
// once the user is erased, nor for a user created again under the same id.
type Grant struct {
	// UserIID is the user's internal id when the token was minted; zero in
	// the tokens of earlier releases, which carry none.
	UserIID uint32
	// Issued is when the token was minted (whole seconds).
	Issued time.Time
}

func (s *Service) userLock(id string) *sync.RWMutex {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return &s.userLocks[h%uint32(len(s.userLocks))]
}

// lockUser takes a user's lock shared, waiting at most until deadline
// (503 past it), and returns its release.
func (s *Service) lockUser(id string, deadline time.Time) (func(), error) {
	mu := s.userLock(id)
	for wait := 50 * time.Microsecond; !mu.TryRLock(); wait = min(2*wait, 10*time.Millisecond) {
		if !time.Now().Before(deadline) {
			return nil, s.slow()
		}
		time.Sleep(wait)
	}
	return mu.RUnlock, nil
}

// checkGrant refuses a write made with an SDK token that no longer holds
// for the user: the user was erased, or created again since the token was
// minted. The caller holds the user's lock. For tokens that carry the
// user's internal id the check is a lookup in the user cache; tokens of
// earlier releases are compared, by their issue time, with the user's
// creation.
func (s *Service) checkGrant(id string, g *Grant) error {
	if g == nil {
		return nil
	}
	iid, known, err := s.lookupUser(id)
	if err != nil {
		return err
	}
	switch {
	case !known:
	case g.UserIID != 0:
		if g.UserIID == iid {
			return nil
		}
	default:
		u, err := s.store.User(id)
		if errors.Is(err, pebblestore.ErrNotFound) {
			break
		} else if err != nil {
			return err
		}
		if !g.Issued.Before(u.Created.Truncate(time.Second)) {
			return nil
		}
	}
	return refuse(KindRevokedToken, 0, "Invalid or revoked SDK token")
}

// DeleteUser erases a user and everything of theirs, queued batches
// included (pebblestore.Store.DeleteUser), once the user's writes in
// flight have finished and before any other starts. It returns
// pebblestore.ErrNotFound when the user is no longer u: deleted meanwhile,
// or created again under a new internal id.
func (s *Service) DeleteUser(u *pebblestore.User) error {
	mu := s.userLock(u.ID)
	mu.Lock()
	defer mu.Unlock()
	now, err := s.store.User(u.ID)
	if err != nil {
		return err
	}
	if now.IID != u.IID {
		return pebblestore.ErrNotFound
	}
	queued, err := s.store.DeleteUser(u)
	if err != nil {
		return err
	}
	s.Indexed(int64(queued)) // they will never be indexed
	s.ForgetUser(u.ID, u.IID)
	return nil
}

// lockIncarnation takes a user's lock for a write that concerns u, and
// refuses (pebblestore.ErrNotFound) when the user is no longer u: erased,
// perhaps created again under the same id.
func (s *Service) lockIncarnation(u *pebblestore.User) (func(), error) {
	unlock, err := s.lockUser(u.ID, time.Now().Add(s.opts.CommitTimeout))
	if err != nil {
		return nil, err
	}
	if iid, known, err := s.lookupUser(u.ID); err != nil || !known || iid != u.IID {
		unlock()
		if err == nil {
			err = pebblestore.ErrNotFound
		}
		return nil, err
	}
	return unlock, nil
}

// PutUserProfile replaces the profile of a user, unless the user is no
// longer u (pebblestore.ErrNotFound): a profile written as the user is
// erased would bring the user record back.
func (s *Service) PutUserProfile(u *pebblestore.User, profile []byte) error {
	unlock, err := s.lockIncarnation(u)
	if err != nil {
		return err
	}
	defer unlock()
	return s.store.PutUserProfile(u, profile)
}
