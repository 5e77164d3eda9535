package pebblestore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// User is an entry of the user dictionary.
type User struct {
	IID     uint32
	ID      string
	Created time.Time
	Profile []byte // JSON, may be empty
}

func userKey(id string) []byte { return key(prefixUser, []byte(id)) }

// User returns a user by external id, or ErrNotFound.
func (s *Store) User(id string) (*User, error) {
	v, err := s.get(userKey(id))
	if err != nil {
		return nil, err
	}
	if len(v) < 12 {
		return nil, fmt.Errorf("pebblestore: malformed user %q", id)
	}
	return &User{
		IID:     binary.BigEndian.Uint32(v),
		ID:      id,
		Created: time.Unix(0, int64(binary.BigEndian.Uint64(v[4:]))).UTC(),
		Profile: v[12:],
	}, nil
}

func (s *Store) loadUserCounter() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixUserIID}, UpperBound: []byte{prefixUserIID + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	s.nextIID = 1
	if it.Last() {
		s.nextIID = binary.BigEndian.Uint32(it.Key()[1:]) + 1
	}
	if err := it.Error(); err != nil {
		return err
	}
	// Internal ids are never reused, even those of deleted users.
	if v, err := s.Meta(metaNextUser); err == nil && len(v) == 4 {
		s.nextIID = max(s.nextIID, binary.BigEndian.Uint32(v))
	}
	return nil
}

const metaNextUser = "users.next_iid"

// ErrUserExists is returned by CreateUser for an id that is taken.
var ErrUserExists = errors.New("pebblestore: user already exists")

// CreateUser adds a new user to the batch with the next internal id. The
// caller must serialise creations of the same id and commit the batch; an id
// allocated for a batch that is never committed is simply skipped.
func (b *Batch) CreateUser(id string, created time.Time, profile []byte) (*User, error) {
	s := b.s
	s.mu.Lock()
	iid := s.nextIID
	s.nextIID++
	s.mu.Unlock()
	v := make([]byte, 12, 12+len(profile))
	binary.BigEndian.PutUint32(v, iid)
	binary.BigEndian.PutUint64(v[4:], uint64(created.UnixNano()))
	v = append(v, profile...)
	if err := b.b.Set(userKey(id), v, nil); err != nil {
		return nil, err
	}
	if err := b.b.Set(key(prefixUserIID, be32(iid)), []byte(id), nil); err != nil {
		return nil, err
	}
	if err := b.b.Set(key(prefixMeta, []byte(metaNextUser)), be32(iid+1), nil); err != nil {
		return nil, err
	}
	return &User{IID: iid, ID: id, Created: created, Profile: profile}, nil
}

// UserByIID returns the external id of an internal user id, or
// ErrNotFound for a deleted or unknown user.
func (s *Store) UserByIID(iid uint32) (string, error) {
	v, err := s.get(key(prefixUserIID, be32(iid)))
	if err != nil {
		return "", err
	}
	return string(v), nil
}

// PutUserProfile replaces the profile of an existing user, synced.
func (s *Store) PutUserProfile(u *User, profile []byte) error {
	v := make([]byte, 12, 12+len(profile))
	binary.BigEndian.PutUint32(v, u.IID)
	binary.BigEndian.PutUint64(v[4:], uint64(u.Created.UnixNano()))
	v = append(v, profile...)
	return s.db.Set(userKey(u.ID), v, pebble.Sync)
}

// Users calls fn for every user, in id order, until fn returns false. fn
// may keep the users.
func (s *Store) Users(fn func(*User) bool) error {
	return s.eachWhile([]byte{prefixUser}, []byte{prefixUser + 1}, func(k, v []byte) (bool, error) {
		if len(v) < 12 {
			return false, fmt.Errorf("pebblestore: malformed user %q", k[1:])
		}
		return fn(&User{
			IID: binary.BigEndian.Uint32(v), ID: string(k[1:]),
			Created: time.Unix(0, int64(binary.BigEndian.Uint64(v[4:]))).UTC(), Profile: bytes.Clone(v[12:]),
		}), nil
	})
}
