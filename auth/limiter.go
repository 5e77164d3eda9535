package auth

import (
	"sync"
	"time"
)

// Limiter counts refused credentials per client address. An address that
// passes the limit within the window is refused (429) until the window in
// which it passed has ended, whatever it sends.
type Limiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	addrs map[string]*strikes
	swept time.Time
}

type strikes struct {
	start time.Time
	n     int
}

func newLimiter(limit int, window time.Duration, now func() time.Time) *Limiter {
	return &Limiter{limit: limit, window: window, now: now, addrs: map[string]*strikes{}}
}

// Blocked reports whether an address is refused, and for how long.
func (l *Limiter) Blocked(addr string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.addrs[addr]
	if s == nil || s.n < l.limit {
		return 0, false
	}
	left := s.start.Add(l.window).Sub(l.now())
	if left <= 0 {
		delete(l.addrs, addr)
		return 0, false
	}
	return left, true
}

// Fail records a refused credential from an address.
func (l *Limiter) Fail(addr string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.addrs[addr]
	if s == nil || now.Sub(s.start) >= l.window {
		s = &strikes{start: now}
		l.addrs[addr] = s
	}
	s.n++
	// Forget old windows now and then, so that the map stays small.
	if now.Sub(l.swept) > l.window {
		for a, st := range l.addrs {
			if now.Sub(st.start) >= l.window {
				delete(l.addrs, a)
			}
		}
		l.swept = now
	}
}
