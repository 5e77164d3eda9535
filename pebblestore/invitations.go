package pebblestore

import (
	"github.com/cockroachdb/pebble/v2"
)

// Invitation codes (package auth pairs a phone with a user through them)
// are secrets like the others: stored under the SHA-256 of the code, which
// is never stored, with a JSON record that auth alone reads. A per-user
// index names each user's codes, so that a new code can revoke the user's
// earlier ones and DeleteUser can erase them, both without reading every
// code.
const (
	prefixInvitation     = 'c' // 'c' sha256(code):32 -> invitation record (JSON, package auth's)
	prefixUserInvitation = 'I' // 'I' user:u32 sha256(code):32 -> empty
)

func invitationKey(hash []byte) []byte { return key(prefixInvitation, hash) }

func userInvitationKey(iid uint32, hash [32]byte) []byte {
	return key(prefixUserInvitation, be32(iid), hash[:])
}

// Invitation returns the record of an invitation code hash, or ErrNotFound.
func (s *Store) Invitation(hash [32]byte) ([]byte, error) { return s.get(invitationKey(hash[:])) }

// ReplaceInvitations writes an invitation code of a user and deletes every
// earlier code of the user, in one synced write: the user never has two.
func (s *Store) ReplaceInvitations(iid uint32, hash [32]byte, record []byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.deleteInvitationsOf(b, iid); err != nil {
		return err
	}
	if err := b.Set(invitationKey(hash[:]), record, nil); err != nil {
		return err
	}
	if err := b.Set(userInvitationKey(iid, hash), nil, nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// RedeemInvitation deletes an invitation code of a user and writes the
// refresh token minted for it, in one synced write: the code is spent the
// moment the token exists, and not before.
func (s *Store) RedeemInvitation(iid uint32, hash, refresh [32]byte, record []byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := deleteInvitation(b, iid, hash); err != nil {
		return err
	}
	if err := b.Set(key(prefixRefresh, refresh[:]), record, nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// DeleteInvitation deletes an invitation code of a user, synced.
func (s *Store) DeleteInvitation(iid uint32, hash [32]byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := deleteInvitation(b, iid, hash); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

func deleteInvitation(b *pebble.Batch, iid uint32, hash [32]byte) error {
	if err := b.Delete(invitationKey(hash[:]), nil); err != nil {
		return err
	}
	return b.Delete(userInvitationKey(iid, hash), nil)
}

// deleteInvitationsOf adds to b the deletion of every invitation code of a
// user, found through the user's index, and of the index entries.
func (s *Store) deleteInvitationsOf(b *pebble.Batch, iid uint32) error {
	return s.eachInRange(prefixUserInvitation, iid, func(k, _ []byte) error {
		// 'I' user:u32 hash:32
		if err := b.Delete(invitationKey(k[5:]), nil); err != nil {
			return err
		}
		return b.Delete(k, nil)
	})
}
