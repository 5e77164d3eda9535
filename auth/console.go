package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// The console's front door: logins throttled per account and per address,
// password hashing bounded to a few at once, and the first admin made
// through a one-time setup token.

// Login throttling: past loginAccountFailures wrong passwords for one
// account, or loginAddrFailures from one address, within loginWindow
// (counted from the first), every login of that account or from that
// address is refused, right password or not, until the window ends. A
// right password clears its account's count. The account limit is what
// stops a slow guesser spread over many addresses; the address limit stops
// one address trying many accounts. The strike maps remember at most
// loginKeys keys each (about 100 bytes a key), so that a flood of invented
// addresses costs a bounded memory.
const (
	loginAccountFailures = 10
	loginAddrFailures    = 30
	loginWindow          = 15 * time.Minute
	loginKeys            = 16 << 10
)

// hashSlots bounds the argon2id hashes computed at once, for logins,
// password changes and new accounts: each holds 19 MiB for about 10 ms, so
// that a burst of logins, which no credential bounds, costs at most
// hashSlots times that. A login that waits longer than hashWait for a slot
// is refused as busy.
const (
	hashSlots = 2
	hashWait  = 3 * time.Second
)

// LoginThrottledError is a login refused because its account or its
// address had too many wrong passwords of late; RetryAfter is the time
// left.
type LoginThrottledError struct{ RetryAfter time.Duration }

func (e *LoginThrottledError) Error() string { return "auth: too many failed logins" }

// ErrBusy is a login that found every hashing slot taken for too long.
var ErrBusy = errors.New("auth: too many logins at once")

// ErrSetupDone is a setup attempt once an account exists.
var ErrSetupDone = errors.New("auth: the first account exists already")

// ErrBadSetupToken is a setup attempt with a wrong token.
var ErrBadSetupToken = errors.New("auth: wrong setup token")

// loginGuard is the state of the throttles and the hashing slots.
type loginGuard struct {
	once      sync.Once
	byAccount *strikeWindow[string]
	byAddr    *strikeWindow[netip.Prefix]
	slots     chan struct{}
}

func (s *AccountStore) guard() *loginGuard {
	g := &s.login
	g.once.Do(func() {
		g.byAccount = newStrikeWindow[string](loginAccountFailures, loginWindow, loginKeys, s.now)
		g.byAddr = newStrikeWindow[netip.Prefix](loginAddrFailures, loginWindow, loginKeys, s.now)
		g.slots = make(chan struct{}, hashSlots)
	})
	return g
}

// hashing runs fn in one of the hashing slots.
func (s *AccountStore) hashing(ctx context.Context, fn func()) error {
	g := s.guard()
	t := time.NewTimer(hashWait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ErrBusy
	}
	defer func() { <-g.slots }()
	fn()
	return nil
}

// LoginFrom is Login for a client at addr, throttled per account and per
// address (see loginAccountFailures), in a hashing slot.
func (s *AccountStore) LoginFrom(ctx context.Context, addr netip.Addr, email, password string) (*Account, error) {
	g := s.guard()
	acct := strings.ToLower(strings.TrimSpace(email))
	if len(acct) > 254 {
		acct = acct[:254]
	}
	ak := limiterKey(addr)
	retryA, limA := g.byAccount.limited(acct)
	retryB, limB := g.byAddr.limited(ak)
	if limA || limB {
		return nil, &LoginThrottledError{RetryAfter: max(retryA, retryB)}
	}
	var (
		a   *Account
		err error
	)
	if herr := s.hashing(ctx, func() { a, err = s.Login(email, password) }); herr != nil {
		return nil, herr
	}
	if errors.Is(err, ErrBadLogin) {
		g.byAccount.strike(acct)
		g.byAddr.strike(ak)
		return nil, err
	}
	if err == nil {
		g.byAccount.forget(acct)
	}
	return a, err
}

// HasAccounts reports whether any account exists.
func (s *AccountStore) HasAccounts() (bool, error) {
	found := false
	err := s.store.Accounts(func(string, []byte) bool { found = true; return false })
	return found, err
}

// createFirstAdmin makes the first account, an admin, unless an account
// exists.
func (s *AccountStore) createFirstAdmin(email, password string) (*Account, error) {
	return s.createAccount(email, password, RoleAdmin, true)
}

// Setup is the console's first start: while no account exists, a setup
// token (logged once, see SetupToken) or an admin API key makes the first
// admin account.
type Setup struct {
	token string
	mu    sync.Mutex
}

// SetupToken returns the one-time token of the setup link, made on the
// first call while no account exists; ok is false once one does.
func (s *Service) SetupToken() (token string, ok bool, err error) {
	has, err := s.Accounts.HasAccounts()
	if err != nil || has {
		return "", false, err
	}
	s.setup.mu.Lock()
	defer s.setup.mu.Unlock()
	if s.setup.token == "" {
		if s.setup.token, err = randomURLToken(24); err != nil {
			return "", false, err
		}
	}
	return s.setup.token, true, nil
}

// SetupNeeded reports whether the first account is still to be made.
func (s *Service) SetupNeeded() (bool, error) {
	has, err := s.Accounts.HasAccounts()
	return !has, err
}

// CompleteSetup makes the first admin account with the setup token or an
// admin API key; the token is spent.
func (s *Service) CompleteSetup(token, email, password string) (*Account, error) {
	if needed, err := s.SetupNeeded(); err != nil {
		return nil, err
	} else if !needed {
		return nil, ErrSetupDone
	}
	s.setup.mu.Lock()
	want := s.setup.token
	s.setup.mu.Unlock()
	good := want != "" && subtle.ConstantTimeCompare([]byte(token), []byte(want)) == 1
	if !good {
		if p, err := s.APIKey(token); err == nil && p.Scope == ScopeAdmin {
			good = true
		}
	}
	if !good {
		return nil, ErrBadSetupToken
	}
	a, err := s.Accounts.createFirstAdmin(email, password)
	if err != nil {
		return nil, err
	}
	s.setup.mu.Lock()
	s.setup.token = ""
	s.setup.mu.Unlock()
	s.log.Info().Str("event", "account.created").Str("role", string(a.Role)).Msg("the first admin account was made through the setup link")
	return a, nil
}
