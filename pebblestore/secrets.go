package pebblestore

import (
	"bytes"

	"github.com/cockroachdb/pebble/v2"
)

// Secret records (API keys, refresh tokens, application secrets, and the
// invitation codes of invitations.go) are stored under or with the SHA-256
// of the secret; the secret itself is never stored. Their values are JSON
// records owned by package auth, which alone reads them: it also erases an
// erased user's refresh tokens, through a hook of DeleteUser
// (OnDeleteUser).

const prefixApp = 'a' // 'a' app_id -> application record (JSON, secret hashed)

// APIKey returns the record of an API key hash, or ErrNotFound.
func (s *Store) APIKey(hash [32]byte) ([]byte, error) { return s.get(key(prefixAPIKey, hash[:])) }

// PutAPIKey writes an API key record, synced.
func (s *Store) PutAPIKey(hash [32]byte, record []byte) error {
	return s.db.Set(key(prefixAPIKey, hash[:]), record, pebble.Sync)
}

// ReplaceAPIKey deletes one key and writes another in one synced write:
// a rotation never leaves both or neither.
func (s *Store) ReplaceAPIKey(old [32]byte, hash [32]byte, record []byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Delete(key(prefixAPIKey, old[:]), nil); err != nil {
		return err
	}
	if err := b.Set(key(prefixAPIKey, hash[:]), record, nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// DeleteAPIKey deletes an API key, synced.
func (s *Store) DeleteAPIKey(hash [32]byte) error {
	return s.db.Delete(key(prefixAPIKey, hash[:]), pebble.Sync)
}

// APIKeys calls fn with every API key hash and record; fn may keep the
// record.
func (s *Store) APIKeys(fn func(hash [32]byte, record []byte) error) error {
	return s.eachPrefix(prefixAPIKey, func(k, v []byte) error {
		var h [32]byte
		copy(h[:], k[1:])
		return fn(h, bytes.Clone(v))
	})
}

// RefreshToken returns the record of a refresh token hash, or ErrNotFound.
func (s *Store) RefreshToken(hash [32]byte) ([]byte, error) {
	return s.get(key(prefixRefresh, hash[:]))
}

// PutRefreshToken writes a refresh token record, synced.
func (s *Store) PutRefreshToken(hash [32]byte, record []byte) error {
	return s.db.Set(key(prefixRefresh, hash[:]), record, pebble.Sync)
}

// RotateRefreshToken deletes a refresh token and writes its successor in
// one synced write, so that the old one stops working the moment the new
// one exists.
func (s *Store) RotateRefreshToken(old, hash [32]byte, record []byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Delete(key(prefixRefresh, old[:]), nil); err != nil {
		return err
	}
	if err := b.Set(key(prefixRefresh, hash[:]), record, nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// DeleteRefreshTokens deletes refresh tokens by hash, synced.
func (s *Store) DeleteRefreshTokens(hashes ...[32]byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, h := range hashes {
		if err := b.Delete(key(prefixRefresh, h[:]), nil); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

// RefreshTokens calls fn with every refresh token hash and record; fn may
// keep the record.
func (s *Store) RefreshTokens(fn func(hash [32]byte, record []byte) error) error {
	return s.eachPrefix(prefixRefresh, func(k, v []byte) error {
		var h [32]byte
		copy(h[:], k[1:])
		return fn(h, bytes.Clone(v))
	})
}

// App returns an application record, or ErrNotFound.
func (s *Store) App(appID string) ([]byte, error) { return s.get(key(prefixApp, []byte(appID))) }

// PutApp writes an application record, synced.
func (s *Store) PutApp(appID string, record []byte) error {
	return s.db.Set(key(prefixApp, []byte(appID)), record, pebble.Sync)
}

// DeleteApp deletes an application, synced.
func (s *Store) DeleteApp(appID string) error {
	return s.db.Delete(key(prefixApp, []byte(appID)), pebble.Sync)
}

// Apps calls fn with every application record; fn may keep it.
func (s *Store) Apps(fn func(record []byte) error) error {
	return s.eachPrefix(prefixApp, func(_, v []byte) error { return fn(bytes.Clone(v)) })
}
