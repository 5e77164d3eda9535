package pebblestore

import (
	"encoding/json"
	"errors"
	"time"
)

const prefixConnection = 'C' // 'C' user:u32 provider -> Connection (JSON)

// Connection is a user's link to one SDK provider: created by the first
// sync from it, refreshed by every sync, revoked by the API and made active
// again by the next sync.
type Connection struct {
	Provider     string     `json:"provider"`
	Status       string     `json:"status"` // active or revoked
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	LastSyncedAt *time.Time `json:"last_synced_at,omitempty"`
}

func connectionKey(iid uint32, provider string) []byte {
	return key(prefixConnection, be32(iid), []byte(provider))
}

// Connection returns a user's connection to a provider, or ErrNotFound.
func (s *Store) Connection(iid uint32, provider string) (*Connection, error) {
	v, err := s.get(connectionKey(iid, provider))
	if err != nil {
		return nil, err
	}
	var c Connection
	if err := json.Unmarshal(v, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// PutConnection adds a connection record to a queue batch.
func (b *Batch) PutConnection(iid uint32, c *Connection) error {
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return b.b.Set(connectionKey(iid, c.Provider), v, nil)
}

// PutConnection writes a connection record, synced.
func (s *Store) PutConnection(iid uint32, c *Connection) error {
	b := s.NewBatch()
	if err := b.PutConnection(iid, c); err != nil {
		b.Close()
		return err
	}
	return b.Commit()
}

// Connections lists a user's connections in provider order.
func (s *Store) Connections(iid uint32) ([]*Connection, error) {
	var out []*Connection
	err := s.eachInRange(prefixConnection, iid, func(_, v []byte) error {
		var c Connection
		if err := json.Unmarshal(v, &c); err != nil {
			return errors.New("pebblestore: malformed connection")
		}
		out = append(out, &c)
		return nil
	})
	return out, err
}
