// Package auth holds wearhouse's credentials: API keys (stored as SHA-256
// hashes only), the admin key created on first start, SDK tokens (HS256 JWTs
// signed with a secret kept in the store) and refresh tokens. It knows no
// HTTP: the caller hands it the raw credential and maps its errors.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"

	"wearhouse/pebblestore"
)

// Scope is what an API key may do.
type Scope string

// Scopes of API keys.
const (
	ScopeAdmin Scope = "admin"
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
)

// Kind is the kind of credential a request carried.
type Kind int

// Credential kinds.
const (
	KindAPIKey Kind = iota + 1
	KindSDKToken
)

// Principal is who a request acts for.
type Principal struct {
	Kind   Kind
	KeyID  string // API keys
	Scope  Scope  // API keys
	UserID string // SDK tokens: the user the token writes for
	AppID  string // SDK tokens
}

// Namespace identifies the principal for per-credential records such as
// Idempotency-Keys: two credentials never share one.
func (p *Principal) Namespace() string {
	if p.Kind == KindSDKToken {
		return "t:" + strings.ToLower(p.UserID)
	}
	return "k:" + p.KeyID
}

// Errors the caller maps to 401.
var (
	ErrInvalidAPIKey = errors.New("Invalid or missing API key")
	ErrInvalidToken  = errors.New("invalid SDK token")
)

// Options configure the credential service.
type Options struct {
	// DataDir is where admin.key is written on first start.
	DataDir string
	// AdminKey, when set, is the admin key instead of a generated one.
	AdminKey string
	// TokenTTL is the lifetime of an SDK token.
	TokenTTL time.Duration
	// Announce receives the new admin key, once, on first start.
	Announce io.Writer
	Logger   zerolog.Logger
	// Now is the clock; tests set it.
	Now func() time.Time
}

// EnsureDefaults fills in zero fields.
func (o *Options) EnsureDefaults() {
	if o.TokenTTL == 0 {
		o.TokenTTL = 60 * time.Minute
	}
	if o.Announce == nil {
		o.Announce = os.Stderr
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Validate reports a configuration that cannot work.
func (o *Options) Validate() error {
	if o.AdminKey != "" && len(o.AdminKey) < 16 {
		return errors.New("auth: the admin key must be at least 16 characters")
	}
	if o.TokenTTL < time.Minute {
		return errors.New("auth: the token lifetime must be at least a minute")
	}
	return nil
}

// Service checks and issues credentials.
type Service struct {
	store  *pebblestore.Store
	opts   Options
	secret []byte
	log    zerolog.Logger
}

type keyRecord struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Scope     Scope     `json:"scope"`
	CreatedAt time.Time `json:"created_at"`
}

type refreshRecord struct {
	UserID    string    `json:"user_id"`
	AppID     string    `json:"app_id"`
	CreatedAt time.Time `json:"created_at"`
}

const (
	metaSecret       = "auth.jwt_secret"
	metaAdminCreated = "auth.admin_created"
	adminKeyID       = "admin"
	// AdminKeyFile is the name of the file that holds the generated admin key.
	AdminKeyFile = "admin.key"
)

// Open loads the signing secret and makes sure an admin key exists,
// creating both on first start.
func Open(store *pebblestore.Store, o Options) (*Service, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s := &Service{store: store, opts: o, log: o.Logger}
	secret, err := store.Meta(metaSecret)
	if errors.Is(err, pebblestore.ErrNotFound) {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, err
		}
		if err := store.PutMeta(metaSecret, secret); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	s.secret = secret
	if err := s.ensureAdminKey(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) ensureAdminKey() error {
	rec := keyRecord{ID: adminKeyID, Name: "admin", Scope: ScopeAdmin, CreatedAt: s.opts.Now().UTC()}
	if s.opts.AdminKey != "" {
		if _, err := s.store.APIKey(hashSecret(s.opts.AdminKey)); err == nil {
			return nil
		}
		rec.ID = "admin-env"
		return s.putKey(s.opts.AdminKey, rec)
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
	if err := s.putKey(key, rec); err != nil {
		return err
	}
	if err := s.store.PutMeta(metaAdminCreated, []byte(rec.CreatedAt.Format(time.RFC3339))); err != nil {
		return err
	}
	fmt.Fprintf(s.opts.Announce, "wearhouse: created the admin API key (shown once; also in %s):\n%s\n", path, key)
	s.log.Info().Str("event", "credential.created").Str("kind", "api_key").Str("key_id", rec.ID).Str("scope", string(rec.Scope)).Msg("admin key created")
	return nil
}

func writeFileSynced(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (s *Service) putKey(key string, rec keyRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return s.store.PutAPIKey(hashSecret(key), b)
}

func hashSecret(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// NewAPIKey returns a fresh key: "sk-" and 32 hex digits.
func NewAPIKey() (string, error) { return randomToken("sk-") }

func randomToken(prefix string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return prefix + hex.EncodeToString(b[:]), nil
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
	var rec keyRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("auth: malformed key record: %w", err)
	}
	return &Principal{Kind: KindAPIKey, KeyID: rec.ID, Scope: rec.Scope}, nil
}

type sdkClaims struct {
	Scope string `json:"scope"`
	AppID string `json:"app_id"`
	jwt.RegisteredClaims
}

// SDKToken resolves a Bearer token. Only a valid, unexpired token with
// scope "sdk" resolves; anything else is ErrInvalidToken.
func (s *Service) SDKToken(raw string) (*Principal, error) {
	if raw == "" || len(raw) > 4096 {
		return nil, ErrInvalidToken
	}
	var c sdkClaims
	_, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return s.secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.opts.Now))
	if err != nil || c.Scope != "sdk" || c.Subject == "" {
		return nil, ErrInvalidToken
	}
	return &Principal{Kind: KindSDKToken, UserID: c.Subject, AppID: c.AppID}, nil
}

// TokenPair is a freshly minted SDK token and its refresh token.
type TokenPair struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    int // seconds
}

// MintSDKToken issues an SDK token for a user, and a refresh token for it.
// appID is the application it is minted for ("admin:<key id>" when an admin
// key minted it).
func (s *Service) MintSDKToken(userID, appID string) (*TokenPair, error) {
	now := s.opts.Now()
	c := sdkClaims{
		Scope: "sdk",
		AppID: appID,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.opts.TokenTTL)),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.secret)
	if err != nil {
		return nil, err
	}
	rt, err := randomToken("rt-")
	if err != nil {
		return nil, err
	}
	rec, err := json.Marshal(refreshRecord{UserID: userID, AppID: appID, CreatedAt: now.UTC()})
	if err != nil {
		return nil, err
	}
	if err := s.store.PutRefreshToken(hashSecret(rt), rec); err != nil {
		return nil, err
	}
	s.log.Info().Str("event", "credential.created").Str("kind", "sdk_token").Str("user_id", userID).Str("app_id", appID).Msg("SDK token minted")
	return &TokenPair{AccessToken: tok, RefreshToken: rt, ExpiresIn: int(s.opts.TokenTTL / time.Second)}, nil
}

// SameUser compares a token's subject with a path user id: UUIDs compare
// case-insensitively, other ids exactly. The comparison is constant-time.
func SameUser(sub, pathID string) bool {
	if isUUID(sub) && isUUID(pathID) {
		sub, pathID = strings.ToLower(sub), strings.ToLower(pathID)
	}
	return subtle.ConstantTimeCompare([]byte(sub), []byte(pathID)) == 1
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
