package pebblestore

import "github.com/cockroachdb/pebble/v2"

// Secret records (API keys, refresh tokens) are stored under the SHA-256 of
// the secret; the secret itself is never stored.

// APIKey returns the record of an API key hash, or ErrNotFound.
func (s *Store) APIKey(hash [32]byte) ([]byte, error) { return s.get(key(prefixAPIKey, hash[:])) }

// PutAPIKey writes an API key record, synced.
func (s *Store) PutAPIKey(hash [32]byte, record []byte) error {
	return s.db.Set(key(prefixAPIKey, hash[:]), record, pebble.Sync)
}

// RefreshToken returns the record of a refresh token hash, or ErrNotFound.
func (s *Store) RefreshToken(hash [32]byte) ([]byte, error) {
	return s.get(key(prefixRefresh, hash[:]))
}

// PutRefreshToken writes a refresh token record, synced.
func (s *Store) PutRefreshToken(hash [32]byte, record []byte) error {
	return s.db.Set(key(prefixRefresh, hash[:]), record, pebble.Sync)
}
