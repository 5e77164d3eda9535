package auth

import (
	"net/netip"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Limiter counts refused credentials per client address, so that one
// address cannot guess credentials fast. Past limit refusals within a
// window (counted from the first refusal), the further refusals of that
// address are to be answered "too many" until the window ends.
//
// Only refusals are counted and only refusals are limited: a request with
// valid credentials never asks the Limiter, so that a fleet of phones
// behind one proxy, some of which send stale credentials, cannot lock out
// the rest.
//
// IPv4 addresses are counted one by one, IPv6 addresses per /64 (the block
// one host or one subscriber holds), so that one machine cannot spread its
// guesses over its own 2^64 addresses.
//
// The Limiter remembers at most a bounded number of addresses. It logs,
// once per address and window, that an address starts being limited, and
// at most limitedLogsPerWindow such lines in a window. Safe for concurrent
// use.
type Limiter struct {
	strikes *strikeWindow[netip.Prefix]
	log     zerolog.Logger

	mu sync.Mutex // guards the log budget
	// logStart is the start of the window of the log budget; logged lines
	// were written in it and suppressed were not.
	logStart   time.Time
	logged     int
	suppressed int
}

// limitedLogsPerWindow bounds the "address limited" lines in one window,
// whatever the number of addresses.
const limitedLogsPerWindow = 20

func newLimiter(limit int, window time.Duration, maxKeys int, now func() time.Time, log zerolog.Logger) *Limiter {
	return &Limiter{strikes: newStrikeWindow[netip.Prefix](limit, window, maxKeys, now), log: log}
}

// limiterKey is what the Limiter counts for an address: the address
// itself for IPv4, its /64 for IPv6.
func limiterKey(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p
	}
	p, _ := addr.Prefix(addr.BitLen())
	return p
}

// Refuse records a refused credential from addr. limited reports that the
// address has passed the limit in its current window: the refusal is then
// to be answered 429, retry being the time left in the window.
func (l *Limiter) Refuse(addr netip.Addr) (retry time.Duration, limited bool) {
	key := limiterKey(addr)
	retry, limited, first := l.strikes.strike(key)
	if first {
		l.logLimited(key, l.strikes.limit+1, retry)
	}
	return retry, limited
}

// strikeWindow counts strikes (refusals, failed logins) per key in a
// window counted from a key's first strike, for at most maxKeys keys.
// Safe for concurrent use.
type strikeWindow[K comparable] struct {
	limit   int
	window  time.Duration
	maxKeys int
	now     func() time.Time

	mu    sync.Mutex
	keys  map[K]*strikes
	swept time.Time
}

// evictProbes is how many remembered keys a full strikeWindow looks at for
// one it may forget.
const evictProbes = 8

type strikes struct {
	start time.Time
	n     int
}

func newStrikeWindow[K comparable](limit int, window time.Duration, maxKeys int, now func() time.Time) *strikeWindow[K] {
	return &strikeWindow[K]{limit: limit, window: window, maxKeys: maxKeys, now: now, keys: map[K]*strikes{}}
}

// strike counts one strike of key. limited reports that the key has passed
// the limit in its window, retry the time left in it; first that this
// strike is the one that passed it.
func (w *strikeWindow[K]) strike(key K) (retry time.Duration, limited, first bool) {
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sweep(now)
	s := w.keys[key]
	if s != nil && now.Sub(s.start) >= w.window {
		s.start, s.n = now, 0
	}
	if s == nil {
		if len(w.keys) >= w.maxKeys && !w.evict(now) {
			// Every key looked at is being limited: this one goes
			// uncounted rather than freeing one that is.
			return 0, false, false
		}
		s = &strikes{start: now}
		w.keys[key] = s
	}
	s.n++
	if s.n <= w.limit {
		return 0, false, false
	}
	return s.start.Add(w.window).Sub(now), true, s.n == w.limit+1
}

// limited reports, without counting a strike, whether key has had its
// limit of strikes in its window, and the time left in it.
func (w *strikeWindow[K]) limited(key K) (time.Duration, bool) {
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.keys[key]
	if s == nil || s.n < w.limit || now.Sub(s.start) >= w.window {
		return 0, false
	}
	return s.start.Add(w.window).Sub(now), true
}

// forget drops key's strikes.
func (w *strikeWindow[K]) forget(key K) {
	w.mu.Lock()
	delete(w.keys, key)
	w.mu.Unlock()
}

func (w *strikeWindow[K]) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.keys)
}

// sweep forgets the keys whose window has ended, once per window, so that
// the map holds only the keys of the last window or two.
func (w *strikeWindow[K]) sweep(now time.Time) {
	if now.Sub(w.swept) < w.window {
		return
	}
	for k, s := range w.keys {
		if now.Sub(s.start) >= w.window {
			delete(w.keys, k)
		}
	}
	w.swept = now
}

// evict forgets one key to make room: among a few taken at random, the
// first whose window has ended or that is not being limited. It reports
// whether it found one.
func (w *strikeWindow[K]) evict(now time.Time) bool {
	probes := 0
	for k, s := range w.keys {
		if now.Sub(s.start) >= w.window || s.n <= w.limit {
			delete(w.keys, k)
			return true
		}
		if probes++; probes == evictProbes {
			break
		}
	}
	return false
}

// logLimited writes that an address starts being limited, within the log
// budget of the window.
func (l *Limiter) logLimited(key netip.Prefix, refused int, left time.Duration) {
	now := l.strikes.now()
	window := l.strikes.window
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.logStart) >= window {
		if l.suppressed > 0 {
			l.log.Warn().Str("event", "credential.limited").Int("addresses", l.suppressed).
				Dur("window", window).Msg("more addresses were limited for bad credentials than were logged")
		}
		l.logStart, l.logged, l.suppressed = now, 0, 0
	}
	if l.logged >= limitedLogsPerWindow {
		l.suppressed++
		return
	}
	l.logged++
	addr := key.String()
	if key.Addr().Is4() {
		addr = key.Addr().String()
	}
	l.log.Warn().Str("event", "credential.limited").Str("addr", addr).Int("refused", refused).
		Dur("window", window).Time("until", now.Add(left)).
		Msg("too many bad credentials from one address: its refusals get 429 until the window ends")
}
