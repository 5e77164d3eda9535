package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"wearhouse/pebblestore"
)

// Sessions: a login gives a random token (the cookie's value), stored only
// as its SHA-256, with the account it belongs to, the account's generation
// when it began, its last use and a CSRF token that state-changing requests
// must echo. A session ends at logout, after SessionIdle without use, when
// the account's password changes (its generation moves on) and when the
// account is deleted; an ended session is deleted where it is found.

// DefaultSessionIdle is how long a session lasts unused.
const DefaultSessionIdle = 15 * time.Minute

// touchEvery is how often a session's last use is written (or an eighth of
// the idle time, when that is shorter): a request in a session does not
// cost a write each time.
const touchEvery = time.Minute

// ErrNoSession is a session token that is unknown, or whose session ended.
var ErrNoSession = errors.New("auth: no such session, or it ended")

// Session is a live session.
type Session struct {
	Account *Account
	// CSRF is the token state-changing requests of the session carry.
	CSRF    string
	Expires time.Time
}

type sessionRecord struct {
	Email      string    `json:"email"`
	Generation int       `json:"generation"`
	Created    time.Time `json:"created_at"`
	LastUsed   time.Time `json:"last_used_at"`
	CSRF       string    `json:"csrf"`
}

// SetSessionIdle sets how long a session lasts unused (DefaultSessionIdle
// when not set).
func (s *AccountStore) SetSessionIdle(d time.Duration) { s.idle = d }

func (s *AccountStore) SessionIdle() time.Duration {
	if s.idle > 0 {
		return s.idle
	}
	return DefaultSessionIdle
}

func randomURLToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// StartSession begins a session of an account that logged in, and returns
// its token, shown to the browser once (as its cookie).
func (s *AccountStore) StartSession(a *Account) (string, *Session, error) {
	token, err := randomURLToken(32)
	if err != nil {
		return "", nil, err
	}
	csrf, err := randomURLToken(24)
	if err != nil {
		return "", nil, err
	}
	now := s.now().UTC()
	r := &sessionRecord{Email: a.Email, Generation: a.Generation, Created: now, LastUsed: now, CSRF: csrf}
	v, err := json.Marshal(r)
	if err != nil {
		return "", nil, err
	}
	if err := s.store.PutSession(hashSecret(token), v, true); err != nil {
		return "", nil, err
	}
	s.sweepNow(now)
	return token, &Session{Account: a, CSRF: csrf, Expires: now.Add(s.SessionIdle())}, nil
}

// Session returns the live session of a token, and counts this use of it.
func (s *AccountStore) Session(token string) (*Session, error) { return s.session(token, true) }

// PeekSession returns the live session of a token without counting a use:
// for the console's background polls, which must not keep an unattended
// tab's session alive.
func (s *AccountStore) PeekSession(token string) (*Session, error) { return s.session(token, false) }

func (s *AccountStore) session(token string, use bool) (*Session, error) {
	h := hashSecret(token)
	v, err := s.store.Session(h)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	var r sessionRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	a, err := s.account(r.Email)
	ended := errors.Is(err, ErrNoAccount) || err == nil && a.Generation != r.Generation || now.Sub(r.LastUsed) >= s.SessionIdle()
	if ended {
		if err := s.store.DeleteSession(h); err != nil {
			return nil, err
		}
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	if use && now.Sub(r.LastUsed) >= min(touchEvery, s.SessionIdle()/8) {
		r.LastUsed = now
		if v, err = json.Marshal(&r); err != nil {
			return nil, err
		}
		if err := s.store.PutSession(h, v, false); err != nil {
			return nil, err
		}
	}
	return &Session{Account: a.public(), CSRF: r.CSRF, Expires: r.LastUsed.Add(s.SessionIdle())}, nil
}

// CheckCSRF reports, in constant time, whether csrf is the session's.
func (sess *Session) CheckCSRF(csrf string) bool {
	return csrf != "" && subtle.ConstantTimeCompare([]byte(csrf), []byte(sess.CSRF)) == 1
}

// EndSession ends a session (logout). An unknown token is not an error.
func (s *AccountStore) EndSession(token string) error {
	return s.store.DeleteSession(hashSecret(token))
}

// sweepEvery is how often a login also sweeps the sessions that ended
// unseen, so that they do not pile up.
const sweepEvery = 10 * time.Minute

func (s *AccountStore) sweepNow(now time.Time) {
	s.mu.Lock()
	due := now.Sub(s.swept) >= sweepEvery
	if due {
		s.swept = now
	}
	s.mu.Unlock()
	if due {
		_, _ = s.SweepSessions()
	}
}

// SweepSessions deletes the sessions that ended without being found again,
// and returns how many.
func (s *AccountStore) SweepSessions() (int, error) {
	now := s.now().UTC()
	var dead [][32]byte
	err := s.store.Sessions(func(h [32]byte, v []byte) bool {
		var r sessionRecord
		if json.Unmarshal(v, &r) != nil || now.Sub(r.LastUsed) >= s.SessionIdle() {
			dead = append(dead, h)
			return true
		}
		if a, err := s.account(r.Email); errors.Is(err, ErrNoAccount) || err == nil && a.Generation != r.Generation {
			dead = append(dead, h)
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	for _, h := range dead {
		if err := s.store.DeleteSession(h); err != nil {
			return 0, err
		}
	}
	return len(dead), nil
}
