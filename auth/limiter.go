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
	limit   int
	window  time.Duration
	maxKeys int
	now     func() time.Time
	log     zerolog.Logger

	mu    sync.Mutex
	addrs map[netip.Prefix]*strikes
	swept time.Time
	// logStart is the start of the window of the log budget; logged lines
	// were written in it and suppressed were not.
	logStart   time.Time
	logged     int
	suppressed int
}

// limitedLogsPerWindow bounds the "address limited" lines in one window,
// whatever the number of addresses.
const limitedLogsPerWindow = 20

// evictProbes is how many remembered addresses a full Limiter looks at for
// one it may forget.
const evictProbes = 8

type strikes struct {
	start time.Time
	n     int
}

func newLimiter(limit int, window time.Duration, maxKeys int, now func() time.Time, log zerolog.Logger) *Limiter {
	return &Limiter{limit: limit, window: window, maxKeys: maxKeys, now: now, log: log,
		addrs: map[netip.Prefix]*strikes{}}
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
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	s := l.addrs[key]
	if s != nil && now.Sub(s.start) >= l.window {
		s.start, s.n = now, 0
	}
	if s == nil {
		if len(l.addrs) >= l.maxKeys && !l.evict(now) {
			// Every address looked at is being limited: this one goes
			// uncounted rather than freeing one that is.
			return 0, false
		}
		s = &strikes{start: now}
		l.addrs[key] = s
	}
	s.n++
	if s.n <= l.limit {
		return 0, false
	}
	if s.n == l.limit+1 {
		l.logLimited(now, key, s)
	}
	return s.start.Add(l.window).Sub(now), true
}

// sweep forgets the addresses whose window has ended, once per window, so
// that the map holds only the addresses of the last window or two.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < l.window {
		return
	}
	for k, s := range l.addrs {
		if now.Sub(s.start) >= l.window {
			delete(l.addrs, k)
		}
	}
	l.swept = now
}

// evict forgets one address to make room: among a few taken at random, the
// first whose window has ended or that is not being limited. It reports
// whether it found one.
func (l *Limiter) evict(now time.Time) bool {
	probes := 0
	for k, s := range l.addrs {
		if now.Sub(s.start) >= l.window || s.n <= l.limit {
			delete(l.addrs, k)
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
func (l *Limiter) logLimited(now time.Time, key netip.Prefix, s *strikes) {
	if now.Sub(l.logStart) >= l.window {
		if l.suppressed > 0 {
			l.log.Warn().Str("event", "credential.limited").Int("addresses", l.suppressed).
				Dur("window", l.window).Msg("more addresses were limited for bad credentials than were logged")
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
	l.log.Warn().Str("event", "credential.limited").Str("addr", addr).Int("refused", s.n).
		Dur("window", l.window).Time("until", s.start.Add(l.window)).
		Msg("too many bad credentials from one address: its refusals get 429 until the window ends")
}
