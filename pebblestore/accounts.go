package pebblestore

import "github.com/cockroachdb/pebble/v2"

// Human accounts (the console's people, package auth's) are JSON records
// that auth alone reads, keyed by the account's e-mail address as auth
// normalises it; the password is in them only as its argon2id hash.
const prefixAccount = 'h' // 'h' email -> account record (JSON, package auth's)

func accountKey(email string) []byte { return key(prefixAccount, []byte(email)) }

// Account returns the record of an account, or ErrNotFound.
func (s *Store) Account(email string) ([]byte, error) { return s.get(accountKey(email)) }

// PutAccount writes an account's record, synced.
func (s *Store) PutAccount(email string, record []byte) error {
	return s.db.Set(accountKey(email), record, pebble.Sync)
}

// DeleteAccount deletes an account, synced.
func (s *Store) DeleteAccount(email string) error {
	return s.db.Delete(accountKey(email), pebble.Sync)
}

// Accounts calls fn for every account, by e-mail address, until fn returns
// false. The record is valid only during the call.
func (s *Store) Accounts(fn func(email string, record []byte) bool) error {
	return s.eachWhile([]byte{prefixAccount}, []byte{prefixAccount + 1}, func(k, v []byte) (bool, error) {
		return fn(string(k[1:]), v), nil
	})
}

// Sessions of the console's accounts are stored under the SHA-256 of their
// token, which is never stored, with a JSON record that auth alone reads.
const prefixSession = 'S' // 'S' sha256(token):32 -> session record (JSON, package auth's)

func sessionKey(hash [32]byte) []byte { return key(prefixSession, hash[:]) }

// Session returns the record of a session's token hash, or ErrNotFound.
func (s *Store) Session(hash [32]byte) ([]byte, error) { return s.get(sessionKey(hash)) }

// PutSession writes a session's record; synced when sync is set (a new
// session), not for a refresh of its last use, which a crash may lose.
func (s *Store) PutSession(hash [32]byte, record []byte, sync bool) error {
	wo := pebble.NoSync
	if sync {
		wo = pebble.Sync
	}
	return s.db.Set(sessionKey(hash), record, wo)
}

// DeleteSession deletes a session, synced.
func (s *Store) DeleteSession(hash [32]byte) error { return s.db.Delete(sessionKey(hash), pebble.Sync) }

// Sessions calls fn for every session until fn returns false. The record
// is valid only during the call.
func (s *Store) Sessions(fn func(hash [32]byte, record []byte) bool) error {
	return s.eachWhile([]byte{prefixSession}, []byte{prefixSession + 1}, func(k, v []byte) (bool, error) {
		var h [32]byte
		copy(h[:], k[1:])
		return fn(h, v), nil
	})
}
