package auth

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"wearhouse/pebblestore"
)

// KeyInfo describes an API key; the key itself is known only when it is
// created or rotated.
type KeyInfo struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Scope     Scope     `json:"scope"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func decodeKey(v []byte) (*KeyInfo, error) {
	var k KeyInfo
	if err := json.Unmarshal(v, &k); err != nil || k.ID == "" {
		return nil, errBadRecord
	}
	return &k, nil
}

func (s *Service) putKey(key string, rec *KeyInfo) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	h := hashSecret(key)
	if err := s.store.PutAPIKey(h, b); err != nil {
		return err
	}
	s.mu.Lock()
	s.keyIDs[rec.ID], s.keyByID[rec.ID] = true, h
	s.mu.Unlock()
	return nil
}

func newKeyID() (string, error) {
	h, err := randomHex(8)
	return "key_" + h, err
}

func (s *Service) ensureAdminKey() error {
	now := s.opts.Now().UTC()
	if s.opts.AdminKey != "" {
		h := hashSecret(s.opts.AdminKey)
		// A key deleted or rotated through the API stays dead, even while the
		// environment still names it: what it minted must not come back.
		if _, err := s.store.Meta(retiredMeta(h)); err == nil {
			s.log.Warn().Msg("WEARHOUSE_ADMIN_KEY names a key that was deleted or rotated; it is not accepted")
			return nil
		}
		return s.changeEnvKey(h, now)
	}
	if _, err := s.store.Meta(metaAdminCreated); err == nil {
		return nil
	} else if !errors.Is(err, pebblestore.ErrNotFound) {
		return err
	}
	key, err := NewAPIKey()
	if err != nil {
		return err
	}
	path := filepath.Join(s.opts.DataDir, AdminKeyFile)
	if err := writeFileSynced(path, []byte(key+"\n"), 0o600); err != nil {
		return fmt.Errorf("auth: write %s: %w", path, err)
	}
	rec := &KeyInfo{ID: "key_admin", Name: "admin", Scope: ScopeAdmin, CreatedAt: now}
	if err := s.putKey(key, rec); err != nil {
		return err
	}
	if err := s.store.PutMeta(metaAdminCreated, []byte(now.Format(time.RFC3339))); err != nil {
		return err
	}
	fmt.Fprintf(s.opts.Announce, "wearhouse: created the admin API key (shown once; also in %s):\n%s\n", path, key)
	s.event("created", "api_key").Str("key_id", rec.ID).Str("scope", string(rec.Scope)).Msg("admin key created")
	return nil
}

// APIKey resolves the value of an X-Open-Wearables-API-Key header. The key
// is looked up by its SHA-256, so its bytes are never compared directly.
func (s *Service) APIKey(raw string) (*Principal, error) {
	if raw == "" || len(raw) > 256 {
		return nil, ErrInvalidAPIKey
	}
	v, err := s.store.APIKey(hashSecret(raw))
	if errors.Is(err, pebblestore.ErrNotFound) {
		return nil, ErrInvalidAPIKey
	}
	if err != nil {
		return nil, err
	}
	rec, err := decodeKey(v)
	if err != nil {
		return nil, err
	}
	return &Principal{Kind: KindAPIKey, KeyID: rec.ID, Scope: rec.Scope}, nil
}

// CreateKey makes a new API key and returns it with its record; the key is
// shown this once.
func (s *Service) CreateKey(name string, scope Scope, by string) (string, *KeyInfo, error) {
	key, err := NewAPIKey()
	if err != nil {
		return "", nil, err
	}
	id, err := newKeyID()
	if err != nil {
		return "", nil, err
	}
	if name == "" {
		name = "Default"
	}
	rec := &KeyInfo{ID: id, Name: name, Scope: scope, CreatedBy: by, CreatedAt: s.opts.Now().UTC()}
	if err := s.putKey(key, rec); err != nil {
		return "", nil, err
	}
	s.event("created", "api_key").Str("key_id", id).Str("scope", string(scope)).Str("by", by).Msg("API key created")
	return key, rec, nil
}

// Keys lists the API keys, newest first.
func (s *Service) Keys() ([]*KeyInfo, error) {
	var out []*KeyInfo
	err := s.store.APIKeys(func(_ [32]byte, v []byte) error {
		rec, err := decodeKey(v)
		if err == nil {
			out = append(out, rec)
		}
		return err
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, err
}

func (s *Service) keyByIDRecord(id string) ([32]byte, *KeyInfo, error) {
	s.mu.RLock()
	h, ok := s.keyByID[id]
	s.mu.RUnlock()
	if !ok {
		return h, nil, ErrNotFound
	}
	v, err := s.store.APIKey(h)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return h, nil, ErrNotFound
	}
	if err != nil {
		return h, nil, err
	}
	rec, err := decodeKey(v)
	return h, rec, err
}

// RenameKey changes an API key's name.
func (s *Service) RenameKey(id, name string) (*KeyInfo, error) {
	h, rec, err := s.keyByIDRecord(id)
	if err != nil {
		return nil, err
	}
	rec.Name = name
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if err := s.store.PutAPIKey(h, b); err != nil {
		return nil, err
	}
	s.event("renamed", "api_key").Str("key_id", id).Msg("API key renamed")
	return rec, nil
}

// envKeyID is the id of the key WEARHOUSE_ADMIN_KEY names. The first one a
// store knows is key_admin_env; one that replaces it gets an id of its own
// (from its hash), so that what the old key minted, which carries the old
// id, stays dead and the old id can no longer be deleted while it works.
const envKeyID = "key_admin_env"

// metaEnvKeyRetired marks that an environment key id was retired once:
// the next environment key then gets an id of its own.
const metaEnvKeyRetired = "auth.env_key_retired"

func isEnvKeyID(id string) bool { return id == envKeyID || strings.HasPrefix(id, envKeyID+"_") }

// changeEnvKey puts the key of WEARHOUSE_ADMIN_KEY (hash h) in place. A different environment key before it is retired in the
// same write, as a rotation retires a key: it stops working at once, and
// the tokens minted with it.
func (s *Service) changeEnvKey(h [32]byte, now time.Time) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	type prevKey struct {
		hash [32]byte
		id   string
	}
	var (
		prev  []prevKey
		known bool // the key is stored already
	)
	err := s.store.APIKeys(func(ph [32]byte, v []byte) error {
		if ph == h {
			known = true
		} else if rec, err := decodeKey(v); err == nil && isEnvKeyID(rec.ID) {
			prev = append(prev, prevKey{ph, rec.ID})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if known && len(prev) == 0 {
		return nil
	}
	// known with others: a store of an earlier release, where a changed
	// key was added beside the old one under the same id. The key gets
	// an id of its own, and the others are retired.
	id := envKeyID
	if _, err := s.store.Meta(metaEnvKeyRetired); len(prev) > 0 || err == nil {
		id = envKeyID + "_" + hex.EncodeToString(h[:4])
	} else if !errors.Is(err, pebblestore.ErrNotFound) {
		return err
	}
	rec := &KeyInfo{ID: id, Name: "admin (WEARHOUSE_ADMIN_KEY)", Scope: ScopeAdmin, CreatedAt: now}
	if len(prev) == 0 {
		return s.putKey(s.opts.AdminKey, rec)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := s.store.ReplaceAPIKey(prev[0].hash, h, b); err != nil {
		return err
	}
	s.mu.Lock()
	for _, p := range prev {
		delete(s.keyIDs, p.id)
		delete(s.keyByID, p.id)
	}
	s.keyIDs[id], s.keyByID[id] = true, h
	s.mu.Unlock()
	for i, p := range prev {
		if i > 0 { // more than one: only from a store that shared ids
			if err := s.store.DeleteAPIKey(p.hash); err != nil {
				return err
			}
		}
		if err := s.retire(p.id, p.hash); err != nil {
			return err
		}
	}
	s.log.Warn().Str("key_id", id).Str("retired_key_id", prev[0].id).
		Msg("WEARHOUSE_ADMIN_KEY changed: the previous environment admin key is retired, with the tokens minted with it")
	s.event("rotated", "api_key").Str("key_id", prev[0].id).Str("new_key_id", id).Msg("environment admin key replaced")
	return nil
}

func retiredMeta(h [32]byte) string { return "auth.retired_key." + hex.EncodeToString(h[:8]) }

// retire marks a key hash as gone for good and revokes the refresh tokens
// minted with the key.
func (s *Service) retire(id string, h [32]byte) error {
	if err := s.store.PutMeta(retiredMeta(h), []byte(id)); err != nil {
		return err
	}
	if isEnvKeyID(id) {
		if err := s.store.PutMeta(metaEnvKeyRetired, []byte(id)); err != nil {
			return err
		}
	}
	_, err := s.revokeRefreshTokens(func(r *refreshRecord) bool { return r.AppID == AdminAppID(id) })
	return err
}

// DeleteKey deletes an API key; SDK tokens and refresh tokens it minted stop
// working. The last admin key cannot be deleted: nobody could manage the
// server after.
func (s *Service) DeleteKey(id string) (*KeyInfo, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	h, rec, err := s.keyByIDRecord(id)
	if err != nil {
		return nil, err
	}
	if rec.Scope == ScopeAdmin {
		keys, err := s.Keys()
		if err != nil {
			return nil, err
		}
		admins := 0
		for _, k := range keys {
			if k.Scope == ScopeAdmin {
				admins++
			}
		}
		if admins <= 1 {
			return nil, ErrLastAdminKey
		}
	}
	if err := s.store.DeleteAPIKey(h); err != nil {
		return nil, err
	}
	s.mu.Lock()
	delete(s.keyIDs, id)
	delete(s.keyByID, id)
	s.mu.Unlock()
	if err := s.retire(id, h); err != nil {
		return nil, err
	}
	s.event("revoked", "api_key").Str("key_id", id).Msg("API key deleted")
	return rec, nil
}

// RotateKey replaces an API key by a new one with the same name and scope,
// in one write: the old key stops working at once, and SDK tokens it minted
// with it.
func (s *Service) RotateKey(id string) (string, *KeyInfo, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	h, rec, err := s.keyByIDRecord(id)
	if err != nil {
		return "", nil, err
	}
	key, err := NewAPIKey()
	if err != nil {
		return "", nil, err
	}
	newID, err := newKeyID()
	if err != nil {
		return "", nil, err
	}
	next := &KeyInfo{ID: newID, Name: rec.Name, Scope: rec.Scope, CreatedBy: rec.CreatedBy, CreatedAt: s.opts.Now().UTC()}
	b, err := json.Marshal(next)
	if err != nil {
		return "", nil, err
	}
	nh := hashSecret(key)
	if err := s.store.ReplaceAPIKey(h, nh, b); err != nil {
		return "", nil, err
	}
	s.mu.Lock()
	delete(s.keyIDs, id)
	delete(s.keyByID, id)
	s.keyIDs[newID], s.keyByID[newID] = true, nh
	s.mu.Unlock()
	if err := s.retire(id, h); err != nil {
		return "", nil, err
	}
	s.event("rotated", "api_key").Str("key_id", id).Str("new_key_id", newID).Msg("API key rotated")
	return key, next, nil
}

// CopyAdminKeyFile copies the admin key file of a data directory, when
// there is one, into another directory (a backup), keeping it private.
func CopyAdminKeyFile(dataDir, dstDir string) error {
	b, err := os.ReadFile(filepath.Join(dataDir, AdminKeyFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return writeFileSynced(filepath.Join(dstDir, AdminKeyFile), b, 0o600)
}
