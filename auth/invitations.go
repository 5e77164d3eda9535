package auth

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"time"

	"wearhouse/pebblestore"
)

// Invitation codes pair a phone with a user, as Open Wearables' do: an API
// key of the admin or write scope creates a code for a user, the person
// types it into the app, and the app redeems it, with no other credential,
// for an SDK token and a refresh token of that user.
//
// A code is InvitationCodeLength characters of InvitationAlphabet (32
// letters and digits without look-alikes): 40 bits. It holds for
// InvitationTTL and once; a new code of a user revokes the user's earlier
// ones, and the erasure of the user erases them. It is stored only as its
// SHA-256, found by it, and never logged. Its record keeps the key that
// created it: the tokens redeemed from it are minted for
// InviteAppID(key id), and stop, as those the key mints itself, when the
// key is deleted or rotated.
//
// Guessing. A wrong code is a bad credential of its client address: past
// Options.BadCredentials (30) in a minute, the address's wrong codes get
// 429. One address may so try 43,200 codes a day, 302,400 in a code's 7
// days: it finds a given live code with a chance of 302,400 / 2^40, about
// 2.8e-7. Many addresses together are held to Options.RedeemFailures (60)
// wrong codes a minute, however many there are: 604,800 in 7 days, a
// chance of 5.5e-7 per live code. With 1,000 users holding a live code at
// once, a week of guessing at that cap pairs with one of them with a
// chance of about 1 in 1,800. Past either limit, wrong codes are answered
// 429 until the minute ends; a right code is always answered, so that
// guessing cannot lock out the people who pair.

// The shape of invitation codes, as Open Wearables makes them.
const (
	InvitationAlphabet   = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	InvitationCodeLength = 8
	InvitationTTL        = 7 * 24 * time.Hour
)

// ErrInvalidInvitation is a code that is not, or no longer, valid: never
// created, redeemed, revoked by a newer code, expired, or of a user or key
// since erased or deleted.
var ErrInvalidInvitation = errors.New("auth: invalid or expired invitation code")

// ThrottledError is a wrong invitation code refused as one too many: from
// its address, or (Everyone) from all addresses together. RetryAfter is
// the time left until the window ends.
type ThrottledError struct {
	RetryAfter time.Duration
	Everyone   bool
}

func (e *ThrottledError) Error() string {
	if e.Everyone {
		return "auth: too many wrong invitation codes from all addresses"
	}
	return "auth: too many bad credentials from one address"
}

// Invitation is a code as it is created; the code is shown this once.
type Invitation struct {
	ID        string    `json:"id"`
	Code      string    `json:"code"`
	UserID    string    `json:"user_id"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
}

// invitationRecord is what the store keeps of a code, under its hash.
type invitationRecord struct {
	ID      string `json:"id"`
	UserID  string `json:"user_id"`
	UserIID uint32 `json:"user_iid"`
	// CreatedBy is the id of the API key that created the code.
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ParseInvitationCode reads a code as a person types it: in any case, with
// spaces or dashes anywhere. It reports whether what is left can be a code.
func ParseInvitationCode(typed string) (string, bool) {
	if len(typed) > 64 {
		return "", false
	}
	code := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, strings.ToUpper(typed))
	if len(code) != InvitationCodeLength {
		return "", false
	}
	for i := 0; i < len(code); i++ {
		if strings.IndexByte(InvitationAlphabet, code[i]) < 0 {
			return "", false
		}
	}
	return code, true
}

func newInvitationCode() (string, error) {
	b := make([]byte, InvitationCodeLength)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = InvitationAlphabet[b[i]%byte(len(InvitationAlphabet))] // 256 is a multiple of 32: uniform
	}
	return string(b), nil
}

func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return pebblestore.FormatUUID(b[:], true), nil
}

// CreateInvitation makes a code for a user and revokes the user's earlier
// codes, in one write. by is the id of the API key that creates it. It
// returns ErrNotFound for a user that does not exist: the caller creates
// the user first, and keeps the user's erasure from running meanwhile.
func (s *Service) CreateInvitation(userID, by string) (*Invitation, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	u, err := s.user(userID)
	if err != nil {
		return nil, err
	}
	code, h, err := s.freeCode()
	if err != nil {
		return nil, err
	}
	id, err := newUUID()
	if err != nil {
		return nil, err
	}
	now := s.opts.Now().UTC()
	rec := invitationRecord{ID: id, UserID: userID, UserIID: u.IID, CreatedBy: by, CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if err := s.store.ReplaceInvitations(u.IID, h, b); err != nil {
		return nil, err
	}
	s.event("created", "invitation_code").Str("invitation_id", id).Str("user_id", userID).Str("by", by).
		Msg("invitation code created; the user's earlier codes are revoked")
	return &Invitation{ID: id, Code: code, UserID: userID, ExpiresAt: rec.ExpiresAt, CreatedAt: now}, nil
}

// freeCode draws a code that no other live code has (two codes of 40
// random bits meet about once in a million draws among a million codes).
// The caller holds writeMu.
func (s *Service) freeCode() (string, [32]byte, error) {
	for range 8 {
		code, err := newInvitationCode()
		if err != nil {
			return "", [32]byte{}, err
		}
		h := hashSecret(code)
		if _, err := s.store.Invitation(h); errors.Is(err, pebblestore.ErrNotFound) {
			return code, h, nil
		} else if err != nil {
			return "", [32]byte{}, err
		}
	}
	return "", [32]byte{}, errors.New("auth: no free invitation code drawn")
}

// RedeemInvitation exchanges a code (as ParseInvitationCode reads it) for
// an SDK token and a refresh token of its user, and returns them with the
// user's id. The code is spent in the write that stores the refresh token,
// under the lock that refresh rotation and minting take: two redemptions
// of one code, even at once, give one pair of tokens.
//
// A code that is not valid is ErrInvalidInvitation. One that never was (a
// guess) counts as a bad credential of from; past the limit of the
// address, or past the cap on all addresses together, it is a
// *ThrottledError instead. A code that was right but expired, or that a
// redemption racing this one spent, is not counted.
func (s *Service) RedeemInvitation(code string, from netip.Addr) (*TokenPair, string, error) {
	h := hashSecret(code)
	if _, err := s.store.Invitation(h); errors.Is(err, pebblestore.ErrNotFound) {
		return nil, "", s.wrongCode(from)
	} else if err != nil {
		return nil, "", err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	v, err := s.store.Invitation(h) // again, under the lock: redeemed just now?
	if errors.Is(err, pebblestore.ErrNotFound) {
		s.event("refused", "invitation_code").Msg("invitation code already redeemed")
		return nil, "", ErrInvalidInvitation
	} else if err != nil {
		return nil, "", err
	}
	var rec invitationRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, "", errBadRecord
	}
	appID := InviteAppID(rec.CreatedBy)
	refuse := func(why string) (*TokenPair, string, error) {
		if err := s.store.DeleteInvitation(rec.UserIID, h); err != nil {
			return nil, "", err
		}
		s.event("refused", "invitation_code").Str("invitation_id", rec.ID).Str("user_id", rec.UserID).Msg(why)
		return nil, "", ErrInvalidInvitation
	}
	if !s.opts.Now().Before(rec.ExpiresAt) {
		return refuse("invitation code expired")
	}
	if !s.minterAlive(appID, 0) {
		return refuse("invitation code of a deleted or rotated API key")
	}
	u, err := s.store.User(rec.UserID)
	if err != nil && !errors.Is(err, pebblestore.ErrNotFound) {
		return nil, "", err
	}
	if err != nil || u.IID != rec.UserIID {
		return refuse("invitation code of an erased user")
	}
	pair, rr, err := s.mint(rec.UserID, u.IID, appID, 0, "")
	if err != nil {
		return nil, "", err
	}
	b, err := json.Marshal(rr)
	if err != nil {
		return nil, "", err
	}
	if err := s.store.RedeemInvitation(u.IID, h, hashSecret(pair.RefreshToken), b); err != nil {
		return nil, "", err
	}
	s.event("redeemed", "invitation_code").Str("invitation_id", rec.ID).Str("user_id", rec.UserID).Str("app_id", appID).
		Msg("invitation code redeemed for an SDK token")
	return pair, rec.UserID, nil
}

// wrongCode counts a code that is no code against its address and then
// against the cap of all addresses, and returns the refusal. An address
// past its limit is refused before it is counted in the cap, so that one
// address cannot use the cap up for the others.
func (s *Service) wrongCode(from netip.Addr) error {
	if retry, limited := s.Limiter.Refuse(from); limited {
		return &ThrottledError{RetryAfter: retry}
	}
	if retry, limited := s.redeemCap.fail(); limited {
		return &ThrottledError{RetryAfter: retry, Everyone: true}
	}
	return ErrInvalidInvitation
}

// failureCap counts the wrong invitation codes of all addresses together
// in windows of a minute (counted from the first); past its limit it
// reports the time left in the window. Safe for concurrent use.
type failureCap struct {
	limit  int
	window time.Duration
	now    func() time.Time
	log    func(limit int)

	mu    sync.Mutex
	start time.Time
	n     int
}

func (c *failureCap) fail() (time.Duration, bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.start) >= c.window {
		c.start, c.n = now, 0
	}
	c.n++
	if c.n <= c.limit {
		return 0, false
	}
	if c.n == c.limit+1 {
		c.log(c.limit)
	}
	return c.start.Add(c.window).Sub(now), true
}

func (s *Service) newRedeemCap() *failureCap {
	return &failureCap{limit: s.opts.RedeemFailures, window: time.Minute, now: s.opts.Now, log: func(limit int) {
		s.log.Warn().Str("event", "credential.limited").Str("kind", "invitation_code").Int("limit", limit).
			Msg("too many wrong invitation codes in a minute from all addresses: wrong codes get 429 until the minute ends")
	}}
}
