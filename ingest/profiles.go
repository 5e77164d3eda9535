package ingest

import (
	"errors"
	"strings"
	"time"

	"wearhouse/codec"
	"wearhouse/pebblestore"
)

// E-mail addresses are unique among users, compared without regard to
// case, as Open Wearables' unique index. The two writes that set one (a
// user created with a profile, a profile changed) hold usersMu from the
// check to the end of their write, so that two of them cannot both find
// an address free; the users a sync creates have no profile.

// CreateUser adds a user with a new random (version 4 UUID) id and the
// profile given (POST /users), and returns the id. An e-mail address that
// another user has is refused with KindExists.
func (s *Service) CreateUser(p *codec.UserCreate) (string, error) {
	if err := s.profileRefusal(); err != nil {
		return "", err
	}
	profile, err := codec.Marshal(p)
	if err != nil {
		return "", err
	}
	id := NewUUID()
	deadline := time.Now().Add(s.opts.CommitTimeout)
	unlockUser, err := s.lockUser(id, deadline)
	if err != nil {
		return "", err
	}
	if !lockBy(&s.usersMu, deadline) {
		unlockUser()
		return "", s.slow()
	}
	release := func() {
		s.usersMu.Unlock()
		unlockUser()
	}
	if err := s.checkEmail(p.Email, ""); err != nil {
		release()
		return "", err
	}
	if _, err := s.store.User(id); err == nil {
		release()
		return "", refuse(KindExists, 0, "User already exists.")
	} else if !errors.Is(err, pebblestore.ErrNotFound) {
		release()
		return "", err
	}
	b := s.store.NewBatch()
	u, err := b.CreateUser(id, s.opts.Now().UTC(), profile)
	if err != nil {
		b.Close()
		release()
		return "", err
	}
	return id, s.bounded(deadline, release, "user creation", func() error {
		if err := b.Commit(); err != nil {
			return err
		}
		s.users.Store(id, u.IID)
		return nil
	})
}

// UpdateProfile changes the profile fields that patch sets (those not nil)
// of the user id (PATCH /users/{id}), and leaves the others as they are.
// It returns ErrNotFound for a user that does not exist, and KindExists
// for an e-mail address that another user has.
func (s *Service) UpdateProfile(id string, patch *codec.UserCreate) error {
	if err := s.profileRefusal(); err != nil {
		return err
	}
	deadline := time.Now().Add(s.opts.CommitTimeout)
	u, unlockUser, err := s.lockExisting(id, deadline)
	if err != nil {
		return err
	}
	release := unlockUser
	if patch.Email != nil {
		if !lockBy(&s.usersMu, deadline) {
			unlockUser()
			return s.slow()
		}
		release = func() {
			s.usersMu.Unlock()
			unlockUser()
		}
		if err := s.checkEmail(patch.Email, id); err != nil {
			release()
			return err
		}
	}
	p := parseProfile(u.Profile)
	for _, f := range []struct{ dst, src **string }{
		{&p.FirstName, &patch.FirstName}, {&p.LastName, &patch.LastName}, {&p.Email, &patch.Email}, {&p.ExternalUserID, &patch.ExternalUserID},
	} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
	profile, err := codec.Marshal(p)
	if err != nil {
		release()
		return err
	}
	return s.bounded(deadline, release, "profile change", func() error { return s.store.PutUserProfile(u, profile) })
}

// checkEmail refuses an e-mail address that a user other than except has;
// the caller holds usersMu. It reads every user: there are few, and POST
// and PATCH of users are rare.
func (s *Service) checkEmail(email *string, except string) error {
	if email == nil {
		return nil
	}
	taken := false
	err := s.store.Users(func(u *pebblestore.User) bool {
		if u.ID != except {
			if e := parseProfile(u.Profile).Email; e != nil && strings.EqualFold(*e, *email) {
				taken = true
			}
		}
		return !taken
	})
	if err != nil {
		return err
	}
	if taken {
		return refuse(KindExists, 0, "User with this email already exists.")
	}
	return nil
}

// parseProfile reads a stored profile; an empty (or unreadable) one has no
// fields.
func parseProfile(b []byte) codec.UserCreate {
	var p codec.UserCreate
	if len(b) > 0 && codec.Unmarshal(b, &p) != nil {
		return codec.UserCreate{}
	}
	return p
}

// profileRefusal is the admission of a profile write: refused below the
// disk reserve (507), as a sync is, since a write that meets a full disk
// makes Pebble stop the process.
func (s *Service) profileRefusal() error {
	if !s.DiskOK() {
		return refuse(KindDiskFull, 0, "Free disk space is below the reserve; nothing was changed.")
	}
	return nil
}
