package auth

import (
	"encoding/json"
	"testing"
)

// TestStoreErasureDeletesTheUsersRefreshTokens: the store's erasure of a
// user deletes, in its own write, the user's refresh tokens (those this
// release writes and those of an earlier release, without the internal
// id) and nobody else's.
func TestStoreErasureDeletesTheUsersRefreshTokens(t *testing.T) {
	f := newFixture(t, nil)
	u1 := f.user("u1")
	app, _ := f.app("app")
	f.mint("u1", app.AppID, app.Generation)
	f.mint("u1", app.AppID, app.Generation)
	other := f.mint("u2", app.AppID, app.Generation)
	// As an earlier release wrote it: no user_iid.
	old := []byte(`{"user_id":"u1","app_id":"` + app.AppID + `","created_at":"2026-02-01T00:00:00Z","last_used_at":"2026-02-01T00:00:00Z"}`)
	if err := f.store.PutRefreshToken(hashSecret("rt-0123456789abcdef0123456789abcdef"), old); err != nil {
		t.Fatal(err)
	}

	if _, err := f.store.DeleteUser(u1); err != nil {
		t.Fatal(err)
	}
	var left []string
	if err := f.store.RefreshTokens(func(h [32]byte, v []byte) error {
		var r refreshRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		left = append(left, r.UserID)
		if h != hashSecret(other.RefreshToken) {
			t.Errorf("refresh token of %s left after the erasure of u1", r.UserID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 {
		t.Errorf("refresh tokens left of %v, want u2's only", left)
	}
	if _, _, err := f.svc.Refresh(other.RefreshToken); err != nil {
		t.Errorf("another user's refresh token: %v", err)
	}
}
