// Package auth holds wearhouse's credentials: API keys with scopes (stored
// as SHA-256 hashes only), the admin key created on first start,
// applications (their secrets hashed), SDK tokens (HS256 JWTs signed with a
// secret kept in the store), refresh tokens (hashed, rotating, expiring when
// unused, revoked by a sign-out), invitation codes that pair a phone with a
// user (hashed, single-use, invitations.go), the console's human accounts
// (argon2id password hashes) and their sessions (hashed tokens with a CSRF
// token each: accounts.go, sessions.go; not served yet), and the slowing
// down of repeated bad credentials. It knows no HTTP: the caller hands it the raw
// credential and maps its errors. Its records are its own: the store keeps
// them without reading them, and the store's erasure of a user erases the
// user's refresh tokens through a hook that auth registers (and the user's
// invitation codes through their per-user index).
//
// Every credential event (created, rotated, revoked, refused) is logged
// with ids only, never with a secret.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/pebblestore"
)

// Scope is what an API key may do.
type Scope string

// Scopes of API keys: admin may do everything; read may read data back;
// write may send and change data but not read it.
const (
	ScopeAdmin Scope = "admin"
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
)

// ParseScope checks a scope name; empty means admin, as the anchor's keys.
func ParseScope(s string) (Scope, bool) {
	switch Scope(s) {
	case "", ScopeAdmin:
		return ScopeAdmin, true
	case ScopeRead, ScopeWrite:
		return Scope(s), true
	}
	return "", false
}

// Kind is the kind of credential a request carried.
type Kind int

// Credential kinds.
const (
	KindAPIKey Kind = iota + 1
	KindSDKToken
	// KindSession is a console account's session: its Scope is the
	// account's role (admin, or read for a viewer), its KeyID is
	// ConsoleKeyID and Account its address.
	KindSession
)

// ConsoleKeyID is the KeyID of sessions: what the invitation codes and the
// SDK tokens an account makes in the console are made by. They outlive
// the account, as phones paired by someone who leaves should go on
// syncing.
const ConsoleKeyID = "console"

// Principal is who a request acts for.
type Principal struct {
	Kind    Kind
	KeyID   string // API keys and sessions
	Scope   Scope  // API keys and sessions
	Account string // sessions: the account's e-mail address
	UserID  string // SDK tokens: the user the token writes for
	AppID   string // SDK tokens
	// UserIID and Issued are, for SDK tokens, the internal id of the user
	// when the token was minted (zero in tokens of earlier releases) and
	// when it was minted.
	UserIID uint32
	Issued  time.Time
	// Session is, for SDK tokens, the sign-in the token belongs to (see
	// SignOut); empty in tokens of earlier releases.
	Session string
}

// Namespace identifies the principal for per-credential records such as
// Idempotency-Keys: two credentials never share one.
func (p *Principal) Namespace() string {
	switch p.Kind {
	case KindSDKToken:
		return "t:" + strings.ToLower(p.UserID)
	case KindSession:
		return "a:" + p.Account
	}
	return "k:" + p.KeyID
}

// Errors the caller maps to a status.
var (
	ErrInvalidAPIKey       = errors.New("auth: invalid or missing API key")
	ErrInvalidToken        = errors.New("auth: invalid SDK token")
	ErrInvalidApp          = errors.New("auth: invalid app credentials")
	ErrInvalidRefreshToken = errors.New("auth: invalid or revoked refresh token")
	ErrNotFound            = errors.New("auth: not found")
	ErrLastAdminKey        = errors.New("auth: the last admin key cannot be deleted")
)

// ErrTokenExpired is an SDK token that is ours and valid in every way but
// its age: a client that should refresh it, not a guess, so no bad
// credential. It is also ErrInvalidToken.
var ErrTokenExpired = fmt.Errorf("%w: expired", ErrInvalidToken)

// Options configure the credential service.
type Options struct {
	// DataDir is where admin.key is written on first start.
	DataDir string
	// AdminKey, when set, is the admin key instead of a generated one.
	AdminKey string
	// TokenTTL is the lifetime of an SDK token.
	TokenTTL time.Duration
	// RefreshTTL is how long an unused refresh token stays valid.
	RefreshTTL time.Duration
	// BadCredentials bounds the refused credentials from one client
	// address in BadCredentialWindow (counted from the first); past it the
	// address's further refusals get 429 until the window has passed.
	// Valid credentials are never limited. Default 30 in 1 minute.
	BadCredentials      int
	BadCredentialWindow time.Duration
	// BadCredentialAddrs bounds the addresses the limiter remembers (about
	// 150 bytes each). Default 65,536.
	BadCredentialAddrs int
	// RedeemFailures bounds the wrong invitation codes of all addresses
	// together in a minute; past it wrong codes get 429 until the minute
	// ends (invitations.go has the arithmetic). Default 60.
	RedeemFailures int
	// SessionIdle ends a console session unused this long (default
	// DefaultSessionIdle).
	SessionIdle time.Duration
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
	if o.RefreshTTL == 0 {
		o.RefreshTTL = 90 * 24 * time.Hour
	}
	if o.BadCredentials == 0 {
		o.BadCredentials = 30
	}
	if o.BadCredentialWindow == 0 {
		o.BadCredentialWindow = time.Minute
	}
	if o.BadCredentialAddrs == 0 {
		o.BadCredentialAddrs = 1 << 16
	}
	if o.RedeemFailures == 0 {
		o.RedeemFailures = 60
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
	var errs []error
	if o.AdminKey != "" && len(o.AdminKey) < 16 {
		errs = append(errs, errors.New("auth: the admin key must be at least 16 characters"))
	}
	if o.TokenTTL < time.Minute {
		errs = append(errs, errors.New("auth: the token lifetime must be at least a minute"))
	}
	if o.RefreshTTL < time.Hour {
		errs = append(errs, errors.New("auth: the refresh token lifetime must be at least an hour"))
	}
	if o.BadCredentials < 1 || o.BadCredentialWindow < time.Second {
		errs = append(errs, errors.New("auth: the bad-credential limit must be positive and its window at least a second"))
	}
	if o.BadCredentialAddrs < 1 {
		errs = append(errs, errors.New("auth: the bad-credential limiter must remember at least one address"))
	}
	if o.RedeemFailures < 1 {
		errs = append(errs, errors.New("auth: the cap on wrong invitation codes must be positive"))
	}
	return errors.Join(errs...)
}

// Service checks and issues credentials.
type Service struct {
	store  *pebblestore.Store
	opts   Options
	secret []byte
	log    zerolog.Logger

	// Limiter slows down repeated bad credentials from one address.
	Limiter *Limiter
	// Accounts are the console's human accounts (accounts.go).
	Accounts *AccountStore
	// setup is the one-time token that makes the first account.
	setup Setup
	// redeemCap bounds the wrong invitation codes of all addresses.
	redeemCap *failureCap

	// mu guards the caches of what makes an SDK token valid: the
	// generation of each application's secret and the ids of live API
	// keys (a token minted with an admin key dies with the key).
	mu sync.RWMutex
	// writeMu serialises the changes that read before they write: key
	// deletion and rotation (the last admin key), refresh rotation (a
	// refresh token is exchanged once), invitation codes (one per user,
	// redeemed once).
	writeMu sync.Mutex
	appGen  map[string]int
	keyIDs  map[string]bool
	keyByID map[string][32]byte
}

const (
	metaSecret       = "auth.jwt_secret"
	metaAdminCreated = "auth.admin_created"
	// AdminKeyFile is the name of the file that holds the generated admin key.
	AdminKeyFile = "admin.key"
)

// Open loads the signing secret and makes sure an admin key exists,
// creating both on first start. From then on the store's erasure of a user
// erases the user's refresh tokens too (see eraseRefreshTokens).
func Open(store *pebblestore.Store, o Options) (*Service, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s := &Service{store: store, opts: o, log: o.Logger, appGen: map[string]int{}, keyIDs: map[string]bool{},
		Accounts: NewAccountStore(store, o.Now),
		keyByID:  map[string][32]byte{}}
	s.Accounts.SetSessionIdle(o.SessionIdle)
	s.Limiter = newLimiter(o.BadCredentials, o.BadCredentialWindow, o.BadCredentialAddrs, o.Now, o.Logger)
	s.redeemCap = s.newRedeemCap()
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
	if err := s.loadCaches(); err != nil {
		return nil, err
	}
	if err := s.ensureAdminKey(); err != nil {
		return nil, err
	}
	store.OnDeleteUser(s.eraseRefreshTokens)
	return s, nil
}

func (s *Service) loadCaches() error {
	if err := s.store.APIKeys(func(h [32]byte, v []byte) error {
		rec, err := decodeKey(v)
		if err != nil {
			return err
		}
		s.keyIDs[rec.ID] = true
		s.keyByID[rec.ID] = h
		return nil
	}); err != nil {
		return err
	}
	return s.store.Apps(func(v []byte) error {
		a, err := decodeApp(v)
		if err != nil {
			return err
		}
		s.appGen[a.AppID] = a.Generation
		return nil
	})
}

func hashSecret(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func randomToken(prefix string) (string, error) {
	h, err := randomHex(16)
	return prefix + h, err
}

// NewAPIKey returns a fresh key: "sk-" and 32 hex digits.
func NewAPIKey() (string, error) { return randomToken("sk-") }

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

// SameUser compares a token's subject with a path user id: UUIDs compare
// case-insensitively, other ids exactly. The comparison is constant-time.
func SameUser(sub, pathID string) bool {
	if IsUUID(sub) && IsUUID(pathID) {
		sub, pathID = strings.ToLower(sub), strings.ToLower(pathID)
	}
	return subtle.ConstantTimeCompare([]byte(sub), []byte(pathID)) == 1
}

// IsUUID reports whether s is a UUID in its canonical 8-4-4-4-12 hex form,
// in any case.
func IsUUID(s string) bool {
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

func (s *Service) event(event, kind string) *zerolog.Event {
	return s.log.Info().Str("event", "credential."+event).Str("kind", kind)
}

var errBadRecord = fmt.Errorf("auth: malformed credential record")
