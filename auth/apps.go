package auth

import (
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"wearhouse/pebblestore"
)

// App is an application: a backend that mints SDK tokens for its users
// with its app_id and app_secret. The secret is stored as its SHA-256 (it
// is 256 random bits, so a slow hash would add nothing).
type App struct {
	ID         string    `json:"id"`
	AppID      string    `json:"app_id"`
	Name       string    `json:"name"`
	CreatedAt  time.Time `json:"created_at"`
	SecretHash string    `json:"secret_sha256"`
	// Generation counts secret rotations: a token minted before the last
	// rotation carries an older generation and is refused.
	Generation int `json:"generation"`
}

func decodeApp(v []byte) (*App, error) {
	var a App
	if err := json.Unmarshal(v, &a); err != nil || a.AppID == "" {
		return nil, errBadRecord
	}
	return &a, nil
}

func (s *Service) putApp(a *App) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if err := s.store.PutApp(a.AppID, b); err != nil {
		return err
	}
	s.mu.Lock()
	s.appGen[a.AppID] = a.Generation
	s.mu.Unlock()
	return nil
}

func newSecret() (string, [32]byte, error) {
	h, err := randomHex(32)
	if err != nil {
		return "", [32]byte{}, err
	}
	secret := "secret_" + h
	return secret, hashSecret(secret), nil
}

// CreateApp makes an application and returns it with its secret, shown
// this once.
func (s *Service) CreateApp(name string) (*App, string, error) {
	id, err := randomHex(16)
	if err != nil {
		return nil, "", err
	}
	secret, h, err := newSecret()
	if err != nil {
		return nil, "", err
	}
	a := &App{ID: id, AppID: "app_" + id, Name: name, CreatedAt: s.opts.Now().UTC(), SecretHash: hex.EncodeToString(h[:]), Generation: 1}
	if err := s.putApp(a); err != nil {
		return nil, "", err
	}
	s.event("created", "application").Str("app_id", a.AppID).Msg("application created")
	return a, secret, nil
}

// Apps lists the applications, newest first.
func (s *Service) Apps() ([]*App, error) {
	var out []*App
	err := s.store.Apps(func(v []byte) error {
		a, err := decodeApp(v)
		if err == nil {
			out = append(out, a)
		}
		return err
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, err
}

func (s *Service) app(appID string) (*App, error) {
	v, err := s.store.App(appID)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return decodeApp(v)
}

// DeleteApp deletes an application. The SDK tokens and refresh tokens
// minted from it stop working at once (Open Wearables keeps them alive).
func (s *Service) DeleteApp(appID string) error {
	if _, err := s.app(appID); err != nil {
		return err
	}
	if err := s.store.DeleteApp(appID); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.appGen, appID)
	s.mu.Unlock()
	n, err := s.revokeRefreshTokens(func(r *refreshRecord) bool { return r.AppID == appID })
	s.event("revoked", "application").Str("app_id", appID).Int("refresh_tokens_revoked", n).Msg("application deleted")
	return err
}

// RotateSecret gives an application a new secret. Tokens minted with the
// old one stop working at once, refresh tokens included.
func (s *Service) RotateSecret(appID string) (*App, string, error) {
	a, err := s.app(appID)
	if err != nil {
		return nil, "", err
	}
	secret, h, err := newSecret()
	if err != nil {
		return nil, "", err
	}
	a.SecretHash = hex.EncodeToString(h[:])
	a.Generation++
	if err := s.putApp(a); err != nil {
		return nil, "", err
	}
	n, err := s.revokeRefreshTokens(func(r *refreshRecord) bool { return r.AppID == appID })
	s.event("rotated", "application").Str("app_id", appID).Int("refresh_tokens_revoked", n).Msg("application secret rotated")
	return a, secret, err
}

// CheckApp verifies application credentials in constant time and returns
// the application.
func (s *Service) CheckApp(appID, secret string) (*App, error) {
	a, err := s.app(appID)
	if errors.Is(err, ErrNotFound) {
		// Spend the same work as a known application.
		h := hashSecret(secret)
		subtle.ConstantTimeCompare(h[:], h[:])
		s.event("refused", "application").Str("app_id", appID).Msg("unknown application")
		return nil, ErrInvalidApp
	}
	if err != nil {
		return nil, err
	}
	want, err := hex.DecodeString(a.SecretHash)
	h := hashSecret(secret)
	if err != nil || subtle.ConstantTimeCompare(h[:], want) != 1 {
		s.event("refused", "application").Str("app_id", appID).Msg("wrong application secret")
		return nil, ErrInvalidApp
	}
	return a, nil
}
