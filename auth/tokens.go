package auth

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"wearhouse/pebblestore"
)

type sdkClaims struct {
	Scope string `json:"scope"`
	AppID string `json:"app_id"`
	// Gen is the generation of the application's secret the token was
	// minted with.
	Gen int `json:"gen,omitempty"`
	// UID is the internal id of the user when the token was minted: a
	// user erased and created again under the same id has another, and the
	// write path refuses the token (ingest.Grant). Tokens of earlier
	// releases carry none.
	UID uint32 `json:"uid,omitempty"`
	// Sid names the sign-in the token belongs to: the refresh token minted
	// with it and those it rotated into carry the same (see SignOut).
	// Tokens of earlier releases carry none.
	Sid string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

type refreshRecord struct {
	UserID string `json:"user_id"`
	// UserIID is the user's internal id at minting (see sdkClaims.UID);
	// zero in the records of earlier releases.
	UserIID    uint32    `json:"user_iid,omitempty"`
	AppID      string    `json:"app_id"`
	Gen        int       `json:"gen,omitempty"`
	Session    string    `json:"session,omitempty"` // see sdkClaims.Sid
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
}

// TokenPair is a freshly minted SDK token and its refresh token.
type TokenPair struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    int // seconds
}

// AdminAppID is the app_id of tokens minted with an admin API key.
func AdminAppID(keyID string) string { return "admin:" + keyID }

// InviteAppID is the app_id of tokens redeemed from an invitation code
// that an API key created, as Open Wearables names them.
func InviteAppID(keyID string) string { return "invite:" + keyID }

// SDKToken resolves a Bearer token. Only a valid, unexpired token with
// scope "sdk", whose application (or minting API key) still exists with
// the same secret, resolves. A token that would resolve but for its expiry
// is ErrTokenExpired (a client that should refresh it, not a guess);
// anything else is ErrInvalidToken.
func (s *Service) SDKToken(raw string) (*Principal, error) {
	if raw == "" || len(raw) > 4096 {
		return nil, ErrInvalidToken
	}
	key := func(*jwt.Token) (any, error) { return s.secret, nil }
	var c sdkClaims
	_, err := jwt.ParseWithClaims(raw, &c, key,
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.opts.Now))
	expired := false
	if errors.Is(err, jwt.ErrTokenExpired) {
		// Whether the signature holds is checked again on its own, so that
		// the verdict does not rest on the order of the parser's checks.
		c = sdkClaims{}
		_, serr := jwt.ParseWithClaims(raw, &c, key, jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation())
		expired = serr == nil && c.ExpiresAt != nil
	}
	if err != nil && !expired || c.Scope != "sdk" || c.Subject == "" || !s.minterAlive(c.AppID, c.Gen) {
		return nil, ErrInvalidToken
	}
	if expired {
		return nil, ErrTokenExpired
	}
	p := &Principal{Kind: KindSDKToken, UserID: c.Subject, AppID: c.AppID, UserIID: c.UID, Session: c.Sid}
	if c.IssuedAt != nil {
		p.Issued = c.IssuedAt.Time
	}
	return p, nil
}

// minterAlive reports whether what minted a token still exists: the API
// key for "admin:<key id>" and for "invite:<key id>" (the key that created
// the invitation code; the console, for ConsoleKeyID, is always there),
// else the application with the same secret.
func (s *Service) minterAlive(appID string, gen int) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if kid, ok := strings.CutPrefix(appID, "admin:"); ok {
		return kid == ConsoleKeyID || s.keyIDs[kid]
	}
	if kid, ok := strings.CutPrefix(appID, "invite:"); ok {
		return kid == ConsoleKeyID || s.keyIDs[kid]
	}
	g, ok := s.appGen[appID]
	return ok && g == gen
}

// user is the stored user with this id, or ErrNotFound when there is none.
func (s *Service) user(id string) (*pebblestore.User, error) {
	u, err := s.store.User(id)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return nil, ErrNotFound
	}
	return u, err
}

// MintSDKToken issues an SDK token for a user, and a refresh token for it.
// appID is the application it is minted for (AdminAppID when an admin key
// minted it) and gen the generation of that application's secret. It
// returns ErrNotFound for a user that does not exist. The token holds for
// the user as it is now: it dies when the user is erased.
//
// Minting is serialised with RevokeUser: a refresh token minted as its user
// is being erased is revoked with the others.
func (s *Service) MintSDKToken(userID, appID string, gen int) (*TokenPair, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	u, err := s.user(userID)
	if err != nil {
		return nil, err
	}
	pair, rec, err := s.mint(userID, u.IID, appID, gen, "")
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if err := s.store.PutRefreshToken(hashSecret(pair.RefreshToken), b); err != nil {
		return nil, err
	}
	s.event("created", "sdk_token").Str("user_id", userID).Str("app_id", appID).Msg("SDK token minted")
	return pair, nil
}

// mint makes a token pair of a sign-in: session names it, and a new one
// is started when it is empty.
func (s *Service) mint(userID string, iid uint32, appID string, gen int, session string) (*TokenPair, *refreshRecord, error) {
	now := s.opts.Now()
	if session == "" {
		var err error
		if session, err = randomHex(12); err != nil {
			return nil, nil, err
		}
	}
	c := sdkClaims{
		Scope: "sdk", AppID: appID, Gen: gen, UID: iid, Sid: session,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.opts.TokenTTL)),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.secret)
	if err != nil {
		return nil, nil, err
	}
	rt, err := randomToken("rt-")
	if err != nil {
		return nil, nil, err
	}
	rec := &refreshRecord{UserID: userID, UserIID: iid, AppID: appID, Gen: gen, Session: session,
		CreatedAt: now.UTC(), LastUsedAt: now.UTC()}
	return &TokenPair{AccessToken: tok, RefreshToken: rt, ExpiresIn: int(s.opts.TokenTTL / time.Second)}, rec, nil
}

func (s *Service) refreshRecord(raw string) ([32]byte, *refreshRecord, error) {
	h := hashSecret(raw)
	if !strings.HasPrefix(raw, "rt-") || len(raw) > 64 {
		return h, nil, ErrInvalidRefreshToken
	}
	v, err := s.store.RefreshToken(h)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return h, nil, ErrInvalidRefreshToken
	}
	if err != nil {
		return h, nil, err
	}
	var r refreshRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return h, nil, errBadRecord
	}
	return h, &r, nil
}

// Refresh exchanges a refresh token for a new SDK token and a new refresh
// token; the old refresh token stops working at once. A token unused for
// longer than RefreshTTL, whose application was deleted or rotated, or
// whose user was erased (even if created again since), is refused (and
// removed).
func (s *Service) Refresh(raw string) (*TokenPair, string, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	h, r, err := s.refreshRecord(raw)
	if err != nil {
		if errors.Is(err, ErrInvalidRefreshToken) {
			s.event("refused", "refresh_token").Msg("unknown refresh token")
		}
		return nil, "", err
	}
	now := s.opts.Now()
	if now.Sub(r.LastUsedAt) > s.opts.RefreshTTL || !s.minterAlive(r.AppID, r.Gen) {
		_ = s.store.DeleteRefreshTokens(h)
		s.event("refused", "refresh_token").Str("user_id", r.UserID).Str("app_id", r.AppID).Msg("expired or orphaned refresh token")
		return nil, "", ErrInvalidRefreshToken
	}
	u, err := s.store.User(r.UserID)
	if err != nil && !errors.Is(err, pebblestore.ErrNotFound) {
		return nil, "", err
	}
	if err != nil || !r.mintedFor(u) {
		_ = s.store.DeleteRefreshTokens(h)
		s.event("refused", "refresh_token").Str("user_id", r.UserID).Str("app_id", r.AppID).Msg("refresh token of an erased user")
		return nil, "", ErrInvalidRefreshToken
	}
	pair, rec, err := s.mint(r.UserID, u.IID, r.AppID, r.Gen, r.Session)
	if err != nil {
		return nil, "", err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, "", err
	}
	if err := s.store.RotateRefreshToken(h, hashSecret(pair.RefreshToken), b); err != nil {
		return nil, "", err
	}
	s.event("rotated", "refresh_token").Str("user_id", r.UserID).Str("app_id", r.AppID).Msg("refresh token rotated")
	return pair, r.UserID, nil
}

// Revoke deletes a refresh token; ErrNotFound when there is none.
func (s *Service) Revoke(raw string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	h, r, err := s.refreshRecord(raw)
	if errors.Is(err, ErrInvalidRefreshToken) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := s.store.DeleteRefreshTokens(h); err != nil {
		return err
	}
	s.event("revoked", "refresh_token").Str("user_id", r.UserID).Str("app_id", r.AppID).Msg("refresh token revoked")
	return nil
}

// SignOut revokes the refresh tokens of the sign-in an SDK token belongs
// to: the one minted with it and the one it rotated into, which the app
// throws away as it signs out. Other sign-ins of the user (another phone)
// keep theirs. The SDK token itself holds until it expires, as a JWT
// does; the app has thrown it away too. Tokens of earlier releases name no
// sign-in, and API keys none: nothing is revoked. It returns how many
// refresh tokens were.
func (s *Service) SignOut(p *Principal) (int, error) {
	if p.Kind != KindSDKToken || p.Session == "" {
		return 0, nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	n, err := s.revokeRefreshTokens(func(r *refreshRecord) bool {
		return r.Session == p.Session && r.UserID == p.UserID
	})
	if err == nil {
		s.event("revoked", "refresh_token").Str("user_id", p.UserID).Str("app_id", p.AppID).Int("count", n).
			Msg("refresh tokens of a sign-in revoked at sign-out")
	}
	return n, err
}

// mintedFor reports whether a refresh token was minted for the user as it
// is, not for an erased user of the same id. Records of earlier releases
// carry no internal id and are compared by time with the user's creation.
func (r *refreshRecord) mintedFor(u *pebblestore.User) bool {
	if r.UserIID != 0 {
		return r.UserIID == u.IID
	}
	return !r.CreatedAt.Before(u.Created)
}

// RevokeUser deletes the refresh tokens of an erased user (u as it was),
// and those minted while it was being erased, and returns how many. The
// SDK tokens of the user are refused by the write path already: they name
// an internal id that no user has any more.
func (s *Service) RevokeUser(u *pebblestore.User) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	n, err := s.revokeRefreshTokens(func(r *refreshRecord) bool {
		return r.UserIID == u.IID || (r.UserIID == 0 && r.UserID == u.ID)
	})
	if err == nil && n > 0 {
		s.event("revoked", "refresh_token").Str("user_id", u.ID).Int("count", n).Msg("refresh tokens of an erased user revoked")
	}
	return n, err
}

// eraseRefreshTokens is the hook by which the store's erasure of a user
// (pebblestore.Store.DeleteUser) deletes, in its own write, every refresh
// token minted for the user's id. Those minted while the erasure is under
// way are left to RevokeUser.
func (s *Service) eraseRefreshTokens(u *pebblestore.User, e *pebblestore.Erasure) error {
	return s.store.RefreshTokens(func(h [32]byte, v []byte) error {
		var r refreshRecord
		if json.Unmarshal(v, &r) == nil && r.UserID == u.ID {
			return e.DeleteRefreshToken(h)
		}
		return nil
	})
}

// revokeRefreshTokens deletes the refresh tokens a predicate selects.
func (s *Service) revokeRefreshTokens(match func(*refreshRecord) bool) (int, error) {
	var hs [][32]byte
	err := s.store.RefreshTokens(func(h [32]byte, v []byte) error {
		var r refreshRecord
		if json.Unmarshal(v, &r) == nil && match(&r) {
			hs = append(hs, h)
		}
		return nil
	})
	if err != nil || len(hs) == 0 {
		return 0, err
	}
	return len(hs), s.store.DeleteRefreshTokens(hs...)
}
