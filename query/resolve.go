package query

import (
	"errors"

	"wearhouse/pebblestore"
)

// lookup resolves a user by the id clients know it by. ok is false for a
// user that does not exist: the data routes then answer empty, as Open
// Wearables does, and the user routes answer ErrNotFound. Internal ids
// never leave query.
func (q *Service) lookup(id string) (u *pebblestore.User, ok bool, err error) {
	u, err = q.store.User(id)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return u, true, nil
}
