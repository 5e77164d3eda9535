package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"wearhouse/pebblestore"
)

// Human accounts are the people who use the console: an e-mail address, a
// role, and a password kept only as its argon2id hash (RFC 9106), in the
// PHC string form so that the parameters can change without invalidating
// stored hashes. A password change bumps the account's generation, which
// ends its sessions (the sessions carry the generation they began under).

// AccountStore keeps the accounts. It needs the store alone, so that the
// command line can change accounts in a stopped server's data directory
// without the rest of the credentials (Service.Accounts is the server's).
type AccountStore struct {
	store *pebblestore.Store
	now   func() time.Time
	idle  time.Duration // sessions.go
	login loginGuard    // console.go
	mu    sync.Mutex
	swept time.Time // sessions.go, under mu
}

// NewAccountStore returns the accounts of a store.
func NewAccountStore(store *pebblestore.Store, now func() time.Time) *AccountStore {
	if now == nil {
		now = time.Now
	}
	return &AccountStore{store: store, now: now}
}

// Role is what an account may do.
type Role string

// The roles: an admin manages everything, accounts included; a viewer reads.
const (
	RoleAdmin  Role = "admin"
	RoleViewer Role = "viewer"
)

// Password bounds: long enough to resist guessing, short enough that
// hashing a hostile one costs no more than a real one.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 256
)

// The argon2id parameters: OWASP's minimum (19 MiB, two passes, one lane),
// about 50 ms on a Raspberry Pi 4 and a tenth of that here, and memory that
// a few concurrent logins on a Pi can afford.
const (
	argonMemoryKiB = 19 << 10
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// Errors of the account operations.
var (
	// ErrBadLogin is a wrong e-mail address or password; which is not said.
	ErrBadLogin = errors.New("auth: wrong e-mail address or password")
	// ErrAccountExists is a second account for an e-mail address.
	ErrAccountExists = errors.New("auth: an account with this e-mail address exists")
	// ErrNoAccount is an account that does not exist.
	ErrNoAccount = errors.New("auth: no such account")
)

// InvalidAccountError is an account that cannot be made as asked: a bad
// e-mail address, role or password.
type InvalidAccountError struct{ Detail string }

func (e *InvalidAccountError) Error() string { return "auth: " + e.Detail }

// Account is a human account, as it may be shown.
type Account struct {
	Email      string    `json:"email"`
	Role       Role      `json:"role"`
	Created    time.Time `json:"created_at"`
	Changed    time.Time `json:"password_changed_at"`
	Generation int       `json:"-"`
}

type accountRecord struct {
	Account
	Generation int    `json:"generation"`
	Hash       string `json:"hash"`
}

// NormalizeEmail is the form an address is stored and looked up under:
// trimmed and lower-cased. It must parse as one bare address.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" || len(e) > 254 {
		return "", &InvalidAccountError{Detail: "the e-mail address is not a valid address"}
	}
	return e, nil
}

func checkPassword(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case n < MinPasswordLen:
		return &InvalidAccountError{Detail: "the password must have at least " + strconv.Itoa(MinPasswordLen) + " characters"}
	case len(pw) > MaxPasswordLen:
		return &InvalidAccountError{Detail: "the password must have at most " + strconv.Itoa(MaxPasswordLen) + " bytes"}
	}
	return nil
}

// CreateAccount makes an account. The address must be new.
func (s *AccountStore) CreateAccount(email, password string, role Role) (*Account, error) {
	return s.createAccount(email, password, role, false)
}

// createAccount makes an account; with first, only while there is none.
func (s *AccountStore) createAccount(email, password string, role Role, first bool) (*Account, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if role != RoleAdmin && role != RoleViewer {
		return nil, &InvalidAccountError{Detail: "the role must be admin or viewer"}
	}
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return nil, err
	}
	s.mu.Lock() // the changes that read before they write
	defer s.mu.Unlock()
	if first {
		if has, err := s.HasAccounts(); err != nil {
			return nil, err
		} else if has {
			return nil, ErrSetupDone
		}
	}
	if _, err := s.store.Account(e); err == nil {
		return nil, ErrAccountExists
	} else if !errors.Is(err, pebblestore.ErrNotFound) {
		return nil, err
	}
	now := s.now().UTC()
	r := &accountRecord{Account: Account{Email: e, Role: role, Created: now, Changed: now}, Generation: 1, Hash: hash}
	if err := s.putAccount(r); err != nil {
		return nil, err
	}
	return r.public(), nil
}

// Login checks an address and password and returns the account. A wrong
// address costs the same hashing as a wrong password, so that the time of
// the answer does not tell which accounts exist.
func (s *AccountStore) Login(email, password string) (*Account, error) {
	e, err := NormalizeEmail(email)
	if err != nil || len(password) > MaxPasswordLen {
		verifyPassword(dummyHash(), password)
		return nil, ErrBadLogin
	}
	r, err := s.account(e)
	if errors.Is(err, ErrNoAccount) {
		verifyPassword(dummyHash(), password)
		return nil, ErrBadLogin
	}
	if err != nil {
		return nil, err
	}
	if !verifyPassword(r.Hash, password) {
		return nil, ErrBadLogin
	}
	return r.public(), nil
}

// SetPassword changes an account's password; its generation moves on, so
// that its sessions end.
func (s *AccountStore) SetPassword(email, password string) (*Account, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return nil, err
	}
	s.mu.Lock() // the changes that read before they write
	defer s.mu.Unlock()
	r, err := s.account(e)
	if err != nil {
		return nil, err
	}
	r.Hash, r.Generation, r.Changed = hash, r.Generation+1, s.now().UTC()
	if err := s.putAccount(r); err != nil {
		return nil, err
	}
	return r.public(), nil
}

// DeleteAccount deletes an account; the last admin cannot be deleted.
func (s *AccountStore) DeleteAccount(email string) error {
	e, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	s.mu.Lock() // the changes that read before they write
	defer s.mu.Unlock()
	r, err := s.account(e)
	if err != nil {
		return err
	}
	if r.Role == RoleAdmin {
		admins := 0
		if err := s.eachAccount(func(a *accountRecord) { admins += map[bool]int{true: 1}[a.Role == RoleAdmin] }); err != nil {
			return err
		}
		if admins <= 1 {
			return &InvalidAccountError{Detail: "the last admin account cannot be deleted"}
		}
	}
	return s.store.DeleteAccount(e)
}

// List lists the accounts, by address.
func (s *AccountStore) List() ([]Account, error) {
	var out []Account
	err := s.eachAccount(func(r *accountRecord) { out = append(out, *r.public()) })
	return out, err
}

func (s *AccountStore) eachAccount(fn func(*accountRecord)) error {
	var derr error
	err := s.store.Accounts(func(_ string, v []byte) bool {
		var r accountRecord
		if derr = json.Unmarshal(v, &r); derr != nil {
			return false
		}
		fn(&r)
		return true
	})
	return errors.Join(err, derr)
}

func (s *AccountStore) account(email string) (*accountRecord, error) {
	v, err := s.store.Account(email)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return nil, ErrNoAccount
	}
	if err != nil {
		return nil, err
	}
	var r accountRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("auth: account record: %w", err)
	}
	return &r, nil
}

func (s *AccountStore) putAccount(r *accountRecord) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return s.store.PutAccount(r.Email, v)
}

func (r *accountRecord) public() *Account {
	a := r.Account
	a.Generation = r.Generation
	return &a
}

// hashPassword hashes a password in one of the hashing slots.
func (s *AccountStore) hashPassword(pw string) (hash string, err error) {
	if herr := s.hashing(context.Background(), func() { hash, err = hashPassword(pw) }); herr != nil {
		return "", herr
	}
	return hash, err
}

// hashPassword hashes a password with argon2id and a random salt, in the
// PHC string form: $argon2id$v=19$m=...,t=...,p=...$salt$hash.
func hashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	sum := argon2.IDKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(sum)), nil
}

// verifyPassword checks a password against a PHC argon2id hash, with the
// hash's own parameters, in constant time. A malformed hash never matches.
func verifyPassword(phc, pw string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is a hash no password matches, for the logins of addresses
// that have no account.
var dummyHash = sync.OnceValue(func() string {
	h, err := hashPassword(string(make([]byte, MinPasswordLen)) + "\x00no account")
	if err != nil {
		panic(err)
	}
	return h
})
