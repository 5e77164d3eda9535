package auth

import (
	"errors"
	"strings"
	"testing"
)

// Changing WEARHOUSE_ADMIN_KEY retires the old key: it stops working with
// what it minted, the new key has an id of its own, and the list shows one
// environment key. Going back to the old value does not revive it.
func TestChangedEnvKeyRetiresTheOldOne(t *testing.T) {
	f := newFixture(t, nil)
	f.user("u1")
	old := f.mint("u1", AdminAppID(envKeyID), 0)

	const newKey = "a-new-admin-key-0123456789abcdef"
	f.opts.AdminKey = newKey
	s := f.open()
	if _, err := s.APIKey(testAdminKey); !errors.Is(err, ErrInvalidAPIKey) {
		t.Fatalf("the old environment key still works: %v", err)
	}
	p, err := s.APIKey(newKey)
	if err != nil || p.Scope != ScopeAdmin {
		t.Fatalf("the new environment key: %+v %v", p, err)
	}
	if p.KeyID == envKeyID || !strings.HasPrefix(p.KeyID, envKeyID+"_") {
		t.Fatalf("the new key's id %q is the old one's or not an environment key's", p.KeyID)
	}
	if _, err := s.SDKToken(old.AccessToken); err == nil {
		t.Error("an SDK token minted with the old key is accepted")
	}
	if _, _, err := s.Refresh(old.RefreshToken); err == nil {
		t.Error("a refresh token minted with the old key is accepted")
	}
	keys, err := s.Keys()
	if err != nil {
		t.Fatal(err)
	}
	envKeys := 0
	for _, k := range keys {
		if isEnvKeyID(k.ID) {
			envKeys++
		}
	}
	if envKeys != 1 {
		t.Errorf("%d environment keys listed, want 1: %+v", envKeys, keys)
	}
	// The old id is gone, so deleting it is 404 and nothing works under it.
	if _, err := s.DeleteKey(envKeyID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting the old key's id: %v", err)
	}
	// Tokens minted with the new key work.
	fresh := f.mint("u1", AdminAppID(p.KeyID), 0)
	if _, err := s.SDKToken(fresh.AccessToken); err != nil {
		t.Errorf("a token of the new key: %v", err)
	}

	f.opts.AdminKey = testAdminKey
	s = f.open()
	if _, err := s.APIKey(testAdminKey); !errors.Is(err, ErrInvalidAPIKey) {
		t.Errorf("the retired key came back: %v", err)
	}
	if _, err := s.APIKey(newKey); err != nil {
		t.Errorf("the key it replaced stays: %v", err)
	}
}

// A store of an earlier release could hold two environment keys under one
// id (the changed key added beside the old one): the next start keeps the
// current one, under an id of its own, and retires the other.
func TestTwoEnvKeysUnderOneIDAreSeparated(t *testing.T) {
	f := newFixture(t, nil)
	const current = "the-current-admin-key-0123456789"
	b := []byte(`{"id":"key_admin_env","name":"admin (WEARHOUSE_ADMIN_KEY)","scope":"admin","created_at":"2026-01-01T00:00:00Z"}`)
	if err := f.store.PutAPIKey(hashSecret(current), b); err != nil {
		t.Fatal(err)
	}
	f.opts.AdminKey = current
	s := f.open()
	if _, err := s.APIKey(testAdminKey); !errors.Is(err, ErrInvalidAPIKey) {
		t.Errorf("the older key under the shared id still works: %v", err)
	}
	p, err := s.APIKey(current)
	if err != nil || p.KeyID == envKeyID {
		t.Fatalf("the current key: %+v %v", p, err)
	}
	if _, err := f.store.Meta(retiredMeta(hashSecret(testAdminKey))); err != nil {
		t.Errorf("the older key is not marked retired: %v", err)
	}
}
