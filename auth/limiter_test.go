package auth

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func refuseN(l *Limiter, addr string, n int) (time.Duration, bool) {
	var (
		left    time.Duration
		limited bool
	)
	for i := 0; i < n; i++ {
		left, limited = l.Refuse(netip.MustParseAddr(addr))
	}
	return left, limited
}

func TestLimiter(t *testing.T) {
	c := newClock()
	l := newLimiter(3, time.Minute, 1000, c.Now, zerolog.Nop())
	if _, limited := refuseN(l, "192.0.2.1", 2); limited {
		t.Fatal("limited below the threshold")
	}
	c.Add(10 * time.Second)
	if _, limited := refuseN(l, "192.0.2.1", 1); limited {
		t.Fatal("limited at the threshold: the limit is the refusals allowed")
	}
	left, limited := refuseN(l, "192.0.2.1", 1)
	if !limited || left != 50*time.Second {
		t.Fatalf("past the threshold: %v %v, want limited for 50s (the rest of the window)", left, limited)
	}
	if _, limited := refuseN(l, "192.0.2.2", 1); limited {
		t.Error("another address is limited")
	}
	c.Add(49 * time.Second)
	if left, limited := refuseN(l, "192.0.2.1", 1); !limited || left != time.Second {
		t.Errorf("1 s before the end: %v %v", left, limited)
	}
	// A new window starts from zero.
	c.Add(time.Second)
	if _, limited := refuseN(l, "192.0.2.1", 3); limited {
		t.Error("limited after three refusals in a new window")
	}
	// Refusals spread over more than a window never add up.
	for i := 0; i < 10; i++ {
		c.Add(31 * time.Second)
		if _, limited := refuseN(l, "192.0.2.3", 1); limited {
			t.Errorf("limited after refusals spread over windows (step %d)", i)
		}
	}
	// The map forgets old windows.
	c.Add(10 * time.Minute)
	refuseN(l, "192.0.2.4", 1)
	if n := l.strikes.len(); n != 1 {
		t.Errorf("%d addresses remembered, want 1", n)
	}
}

// TestLimiterKeys: an IPv4 address is itself, also when written as IPv6;
// IPv6 addresses count per /64.
func TestLimiterKeys(t *testing.T) {
	l := newLimiter(3, time.Minute, 1000, newClock().Now, zerolog.Nop())
	refuseN(l, "192.0.2.7", 2)
	refuseN(l, "::ffff:192.0.2.7", 1)
	if _, limited := refuseN(l, "192.0.2.7", 1); !limited {
		t.Error("an IPv4-mapped address is counted apart from the same IPv4 address")
	}
	if _, limited := refuseN(l, "192.0.2.8", 1); limited {
		t.Error("IPv4 addresses are grouped")
	}
	refuseN(l, "2001:db8:1:2::1", 2)
	refuseN(l, "2001:db8:1:2:ffff::9", 1)
	if _, limited := refuseN(l, "2001:db8:1:2:aaaa:bbbb:cccc:dddd", 1); !limited {
		t.Error("one /64 spread over its addresses is not limited")
	}
	if _, limited := refuseN(l, "2001:db8:1:3::1", 1); limited {
		t.Error("another /64 is limited")
	}
}

// TestLimiterBounded floods the limiter with distinct addresses: it
// remembers no more than its bound, and the addresses being limited stay
// limited.
func TestLimiterBounded(t *testing.T) {
	c := newClock()
	l := newLimiter(3, time.Minute, 100, c.Now, zerolog.Nop())
	if _, limited := refuseN(l, "198.51.100.1", 4); !limited {
		t.Fatal("not limited")
	}
	for i := 0; i < 10_000; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		l.Refuse(a)
		if n := l.strikes.len(); n > 100 {
			t.Fatalf("%d addresses remembered after %d, want at most 100", n, i+1)
		}
	}
	if _, limited := refuseN(l, "198.51.100.1", 1); !limited {
		t.Error("a flood of other addresses freed a limited one")
	}
	// Full of limited addresses, a new one goes uncounted and the bound
	// holds.
	for i := 0; i < 200; i++ {
		a := netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)})
		for j := 0; j < 4; j++ {
			l.Refuse(a)
		}
	}
	if n := l.strikes.len(); n > 100 {
		t.Errorf("%d addresses remembered, want at most 100", n)
	}
	// The next window makes room again.
	c.Add(time.Minute)
	if _, limited := refuseN(l, "203.0.113.9", 4); !limited {
		t.Error("a new address is not counted after the window")
	}
}

// TestLimiterLogs: one warning when an address starts being limited, with
// the address and the count, once per address and window, and a bounded
// number of lines per window whatever the number of addresses.
func TestLimiterLogs(t *testing.T) {
	c := newClock()
	logs := &syncBuffer{}
	l := newLimiter(3, time.Minute, 10_000, c.Now, zerolog.New(logs))
	type line struct {
		Level, Event, Addr, Message string
		Refused, Addresses          int
	}
	read := func() []line {
		var out []line
		for _, s := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			if s == "" {
				continue
			}
			var ln line
			if err := json.Unmarshal([]byte(s), &ln); err != nil {
				t.Fatalf("%v: %s", err, s)
			}
			out = append(out, ln)
		}
		return out
	}
	refuseN(l, "192.0.2.1", 3)
	if got := read(); len(got) != 0 {
		t.Fatalf("logged before the limit: %+v", got)
	}
	refuseN(l, "192.0.2.1", 100)
	got := read()
	if len(got) != 1 || got[0].Level != "warn" || got[0].Event != "credential.limited" || got[0].Addr != "192.0.2.1" ||
		got[0].Refused != 4 {
		t.Fatalf("logs %+v, want one warning for 192.0.2.1 with refused 4", got)
	}
	refuseN(l, "2001:db8:5:6::1", 4)
	if got := read(); len(got) != 2 || got[1].Addr != "2001:db8:5:6::/64" {
		t.Fatalf("logs %+v, want a second line for 2001:db8:5:6::/64", got)
	}
	// A flood of addresses writes at most limitedLogsPerWindow lines.
	for i := 0; i < 1000; i++ {
		refuseN(l, fmt.Sprintf("10.0.%d.%d", i/256, i%256), 5)
	}
	if got := read(); len(got) != limitedLogsPerWindow {
		t.Fatalf("%d lines after a flood, want %d", len(got), limitedLogsPerWindow)
	}
	// The next window tells how many were left out, and logs again.
	c.Add(time.Minute)
	refuseN(l, "192.0.2.1", 4)
	got = read()
	if len(got) != limitedLogsPerWindow+2 || got[limitedLogsPerWindow].Addresses != 1000-limitedLogsPerWindow+2 ||
		got[limitedLogsPerWindow+1].Addr != "192.0.2.1" {
		t.Fatalf("after the window: %+v", got[limitedLogsPerWindow:])
	}
}
