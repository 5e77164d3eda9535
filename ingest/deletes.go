package ingest

import (
	"errors"
	"time"

	"wearhouse/pebblestore"
)

// The deletions of part of a user's data (a connection and its provider's
// data, a workout, a sleep session) are writes of the user like a sync:
// they hold the user's lock shared, so that an erasure of the user comes
// wholly before or after them, and they end CommitTimeout after the call
// with 503, the deletion going on. They are not refused below the disk
// reserve: a deletion is what an operator may need to free space, and its
// tombstones are small.

// RevokeConnection marks the user's connection to a provider revoked and,
// with data, erases that provider's data; the next sync from the provider
// makes the connection active again. It returns ErrNotFound when there is
// no such user, or the user never synced from that provider. g is the
// grant of the SDK token it is sent with (nil for an API key), refused as
// a sync refuses it when it no longer holds for the user.
func (s *Service) RevokeConnection(userID, provider string, data bool, g *Grant) error {
	deadline := time.Now().Add(s.opts.CommitTimeout)
	u, unlock, err := s.lockExisting(userID, deadline)
	if err != nil {
		return err
	}
	if err := s.checkGrant(userID, g); err != nil {
		unlock()
		return err
	}
	if !lockBy(&s.connMu, deadline) {
		unlock()
		return s.slow()
	}
	c, err := s.store.Connection(u.IID, provider)
	if errors.Is(err, pebblestore.ErrNotFound) {
		err = ErrNotFound
	}
	if err != nil {
		s.connMu.Unlock()
		unlock()
		return err
	}
	c.Status, c.UpdatedAt = "revoked", s.opts.Now().UTC()
	return s.bounded(deadline, unlock, "revocation", func() error {
		// connMu orders the connection's record with the syncs' updates
		// of it; the provider's data is erased after, under the user's
		// lock alone.
		err := s.store.PutConnection(u.IID, c)
		if err == nil {
			s.conns.Store(connKey{u.IID, provider}, *c)
		}
		s.connMu.Unlock()
		if err == nil && data {
			err = s.store.DeleteProviderData(u.IID, provider)
		}
		return err
	})
}

// DeleteWorkout erases a workout of the user, named by its id as the read
// routes list it; ErrNotFound when there is no such user or workout.
func (s *Service) DeleteWorkout(userID, workoutID string) error {
	ref, ok := pebblestore.ParseWorkoutID(workoutID)
	if !ok {
		return ErrNotFound
	}
	return s.deleteOf(userID, func(u *pebblestore.User) error {
		err := s.store.DeleteWorkout(u.IID, ref)
		if errors.Is(err, pebblestore.ErrNotFound) {
			return ErrNotFound
		}
		return err
	})
}

// DeleteSleep erases the stages of a sleep session of the user, named by
// its id as the read routes list it: the provider and the session's window.
// A session that grew since it was listed is erased for the part of it in
// that window. ErrNotFound when there is no such user or no stage in it.
func (s *Service) DeleteSleep(userID, sessionID string) error {
	provider, start, end, ok := pebblestore.ParseSleepID(sessionID)
	if !ok {
		return ErrNotFound
	}
	return s.deleteOf(userID, func(u *pebblestore.User) error {
		n, err := s.store.DeleteSleepStages(u.IID, provider, start, end)
		if err == nil && n == 0 {
			err = ErrNotFound
		}
		return err
	})
}

// deleteOf runs a deletion of part of a user's data under the user's lock,
// bounded by CommitTimeout; ErrNotFound when there is no such user.
func (s *Service) deleteOf(userID string, del func(u *pebblestore.User) error) error {
	deadline := time.Now().Add(s.opts.CommitTimeout)
	u, unlock, err := s.lockExisting(userID, deadline)
	if err != nil {
		return err
	}
	return s.bounded(deadline, unlock, "deletion", func() error { return del(u) })
}
