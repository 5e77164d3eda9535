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
