package httpapi

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

var testProxies = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("fd00::/8"),
}

// headerOf builds request headers from "Name: value" lines.
func headerOf(t testing.TB, lines ...string) *fasthttp.RequestHeader {
	var h fasthttp.RequestHeader
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ": ")
		if !ok {
			t.Fatalf("header line %q", l)
		}
		h.Add(name, value)
	}
	return &h
}

func TestClientAddr(t *testing.T) {
	const (
		proxy  = "10.1.2.3"
		proxy6 = "fd00::5"
		other  = "198.51.100.9" // a peer that is no trusted proxy
	)
	cases := []struct {
		name    string
		peer    string
		headers []string
		want    string // empty: the peer
	}{
		{"no header", proxy, nil, ""},
		{"untrusted peer's X-Forwarded-For is ignored", other, []string{"X-Forwarded-For: 203.0.113.1"}, ""},
		{"untrusted peer's Forwarded is ignored", other, []string{"Forwarded: for=203.0.113.1"}, ""},
		{"one client", proxy, []string{"X-Forwarded-For: 203.0.113.1"}, "203.0.113.1"},
		{"spaces", proxy, []string{"X-Forwarded-For:  203.0.113.1 ,\t203.0.113.2 "}, "203.0.113.2"},
		{"right-most untrusted", proxy, []string{"X-Forwarded-For: 192.0.2.66, 203.0.113.1, 10.9.9.9"}, "203.0.113.1"},
		{"a forged left part is not believed", proxy, []string{"X-Forwarded-For: 10.0.0.1, 203.0.113.1"}, "203.0.113.1"},
		{"all trusted: the farthest", proxy, []string{"X-Forwarded-For: 10.0.0.7, 10.0.0.8"}, "10.0.0.7"},
		{"two lines are one list", proxy, []string{"X-Forwarded-For: 203.0.113.1", "X-Forwarded-For: 203.0.113.2, 10.0.0.1"}, "203.0.113.2"},
		{"IPv6", proxy, []string{"X-Forwarded-For: 2001:db8::1"}, "2001:db8::1"},
		{"IPv6 proxy", proxy6, []string{"X-Forwarded-For: 203.0.113.1, fd00::6"}, "203.0.113.1"},
		{"IPv4-mapped", proxy, []string{"X-Forwarded-For: ::ffff:203.0.113.1"}, "203.0.113.1"},
		{"XFF with a port", proxy, []string{"X-Forwarded-For: 203.0.113.1:4711"}, ""},
		{"XFF bracketed", proxy, []string{"X-Forwarded-For: [2001:db8::1]"}, ""},
		{"XFF zone", proxy, []string{"X-Forwarded-For: fe80::1%eth0"}, ""},
		{"XFF empty element", proxy, []string{"X-Forwarded-For: 203.0.113.1,,10.0.0.1"}, ""},
		{"XFF trailing comma", proxy, []string{"X-Forwarded-For: 203.0.113.1,"}, ""},
		{"XFF empty", proxy, []string{"X-Forwarded-For: "}, ""},
		{"XFF name", proxy, []string{"X-Forwarded-For: unknown"}, ""},
		{"XFF garbage in one line", proxy, []string{"X-Forwarded-For: 203.0.113.1", "X-Forwarded-For: x"}, ""},
		{"XFF wins over Forwarded", proxy, []string{"X-Forwarded-For: 203.0.113.1", "Forwarded: for=203.0.113.2"}, "203.0.113.1"},

		{"Forwarded", proxy, []string{"Forwarded: for=203.0.113.1"}, "203.0.113.1"},
		{"Forwarded case", proxy, []string{"Forwarded: For=203.0.113.1"}, "203.0.113.1"},
		{"Forwarded with pairs", proxy, []string{"Forwarded: for=203.0.113.1;proto=https;by=10.0.0.1;host=\"api.example.org\""}, "203.0.113.1"},
		{"Forwarded quoted with port", proxy, []string{`Forwarded: for="203.0.113.1:4711"`}, "203.0.113.1"},
		{"Forwarded IPv6", proxy, []string{`Forwarded: for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
		{"Forwarded IPv6 no port", proxy, []string{`Forwarded: for="[2001:db8:cafe::17]"`}, "2001:db8:cafe::17"},
		{"Forwarded chain", proxy, []string{"Forwarded: for=192.0.2.43, for=203.0.113.1, for=10.0.0.2"}, "203.0.113.1"},
		{"Forwarded two lines", proxy, []string{"Forwarded: for=192.0.2.43", "Forwarded: for=203.0.113.1"}, "203.0.113.1"},
		{"Forwarded escaped", proxy, []string{`Forwarded: for="203.0.113.\1"`}, "203.0.113.1"},
		{"Forwarded trailing semicolon", proxy, []string{"Forwarded: for=203.0.113.1;"}, "203.0.113.1"},
		{"Forwarded unknown", proxy, []string{"Forwarded: for=unknown"}, ""},
		{"Forwarded unknown behind a client", proxy, []string{"Forwarded: for=203.0.113.1, for=unknown"}, ""},
		{"Forwarded unknown before a client", proxy, []string{"Forwarded: for=unknown, for=203.0.113.1"}, "203.0.113.1"},
		{"Forwarded obfuscated", proxy, []string{"Forwarded: for=_hidden"}, ""},
		{"Forwarded without for", proxy, []string{"Forwarded: proto=https"}, ""},
		{"Forwarded IPv6 unquoted", proxy, []string{"Forwarded: for=[2001:db8::1]"}, ""},
		{"Forwarded IPv6 unbracketed", proxy, []string{`Forwarded: for="2001:db8::1"`}, ""},
		{"Forwarded port unquoted", proxy, []string{"Forwarded: for=203.0.113.1:80"}, ""},
		{"Forwarded bad port", proxy, []string{`Forwarded: for="203.0.113.1:http"`}, ""},
		{"Forwarded two for", proxy, []string{"Forwarded: for=203.0.113.1;for=203.0.113.2"}, ""},
		{"Forwarded open quote", proxy, []string{`Forwarded: for="203.0.113.1`}, ""},
		{"Forwarded space in pair", proxy, []string{"Forwarded: for = 203.0.113.1"}, ""},
		{"Forwarded no value", proxy, []string{"Forwarded: for="}, ""},
		{"Forwarded name", proxy, []string{"Forwarded: for=example.org"}, ""},
		{"Forwarded junk after", proxy, []string{"Forwarded: for=203.0.113.1 x"}, ""},
		{"Forwarded zone", proxy, []string{`Forwarded: for="[fe80::1%25eth0]"`}, ""},
	}
	for _, c := range cases {
		peer := netip.MustParseAddr(c.peer)
		want := peer
		if c.want != "" {
			want = netip.MustParseAddr(c.want)
		}
		if got := clientOf(peer, headerOf(t, c.headers...), testProxies); got != want {
			t.Errorf("%s: %v, want %v", c.name, got, want)
		}
	}
	// No trusted proxies (the default): always the peer.
	h := headerOf(t, "X-Forwarded-For: 203.0.113.1")
	if got := clientOf(netip.MustParseAddr(proxy), h, nil); got.String() != proxy {
		t.Errorf("without trusted proxies: %v", got)
	}
}

func FuzzClientAddr(f *testing.F) {
	f.Add("203.0.113.1, 10.0.0.1", "")
	f.Add("", `for=192.0.2.43, for="[2001:db8:cafe::17]:4711";proto=https, for=unknown`)
	f.Add("2001:db8::1,::ffff:1.2.3.4", `for="_x:_y";by=10.0.0.1;host="a\"b"`)
	f.Add("unknown", "for=")
	f.Fuzz(func(t *testing.T, xff, fwd string) {
		var h fasthttp.RequestHeader
		if xff != "" {
			h.Add("X-Forwarded-For", xff)
		}
		if fwd != "" {
			h.Add("Forwarded", fwd)
		}
		peer := netip.MustParseAddr("10.0.0.1")
		got := clientOf(peer, &h, testProxies)
		if !got.IsValid() || got.Zone() != "" || got.Is4In6() {
			t.Fatalf("client %v for %q %q", got, xff, fwd)
		}
		// The header of an untrusted peer is never read.
		other := netip.MustParseAddr("198.51.100.1")
		if got := clientOf(other, &h, testProxies); got != other {
			t.Fatalf("untrusted peer: %v", got)
		}
	})
}
