package httpapi

import (
	"bytes"
	"net/netip"

	"github.com/valyala/fasthttp"
)

// clientAddr is the address of the client that sent a request, for logs
// and per-client limits: the peer's, unless the peer is one of
// Options.TrustedProxies. Then it is the right-most address of
// X-Forwarded-For that is not itself a trusted proxy or, without that
// header, the same of the for= parameters of Forwarded (RFC 7239). A header
// that does not parse strictly, or a hop that names no address ("unknown",
// an obfuscated name, no for=), leaves the peer's address: a client cannot
// be told apart past it. IPv4-mapped IPv6 addresses are given as IPv4.
func (s *Server) clientAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	peer, _ := netip.AddrFromSlice(ctx.RemoteIP())
	return clientOf(peer.Unmap(), &ctx.Request.Header, s.opts.TrustedProxies)
}

// clientOf is clientAddr for a peer and the headers it sent.
func clientOf(peer netip.Addr, h *fasthttp.RequestHeader, trusted []netip.Prefix) netip.Addr {
	if !inPrefixes(peer, trusted) {
		return peer
	}
	var buf [8]netip.Addr
	// PeekAll reuses its result on the next call: X-Forwarded-For is parsed
	// before Forwarded is peeked.
	hops, ok := parseXForwardedFor(h.PeekAll("X-Forwarded-For"), buf[:0])
	if ok && len(hops) == 0 {
		hops, ok = parseForwarded(h.PeekAll("Forwarded"), buf[:0])
	}
	if !ok {
		return peer
	}
	return pickClient(peer, hops, trusted)
}

// pickClient walks the hops from the nearest proxy (the right) back to the
// client: the first that is not a trusted proxy is the client; a hop that
// names no address stops the walk at the peer; when every hop is trusted,
// the farthest is the client.
func pickClient(peer netip.Addr, hops []netip.Addr, trusted []netip.Prefix) netip.Addr {
	for i := len(hops) - 1; i >= 0; i-- {
		switch {
		case !hops[i].IsValid():
			return peer
		case !inPrefixes(hops[i], trusted):
			return hops[i]
		}
	}
	if len(hops) > 0 {
		return hops[0]
	}
	return peer
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseXForwardedFor appends to dst the addresses of X-Forwarded-For
// header lines, read as one comma-separated list: each element a bare IPv4
// or IPv6 address, between optional spaces. ok is false when any element is
// something else (empty, with a port, brackets or a zone).
func parseXForwardedFor(lines [][]byte, dst []netip.Addr) (_ []netip.Addr, ok bool) {
	for _, line := range lines {
		for more := true; more; {
			var elem []byte
			elem, line, more = bytes.Cut(line, []byte(","))
			a, ok := parseIP(trimOWS(elem))
			if !ok {
				return dst, false
			}
			dst = append(dst, a)
		}
	}
	return dst, true
}

// parseIP parses a bare address without a zone, IPv4-mapped addresses
// unmapped.
func parseIP(b []byte) (netip.Addr, bool) {
	if len(b) == 0 || len(b) > 45 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(string(b))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func trimOWS(b []byte) []byte { return bytes.Trim(b, " \t") }

// parseForwarded appends to dst the for= address of each element of
// Forwarded header lines (RFC 7239 section 4: elements separated by commas
// and optional spaces, pairs token=value separated by semicolons, values
// tokens or quoted strings). An element with no for=, or whose for= is
// "unknown" or an obfuscated name, gives the zero Addr. ok is false when a
// line breaks the grammar, an element repeats a parameter, or a for= value
// is not a node (an IPv4 address, a bracketed IPv6 address, "unknown" or
// an obfuscated name, each with an optional port).
func parseForwarded(lines [][]byte, dst []netip.Addr) (_ []netip.Addr, ok bool) {
	for _, line := range lines {
		p := forwardedParser{b: line}
		for {
			p.skipOWS()
			a, ok := p.element()
			if !ok {
				return dst, false
			}
			dst = append(dst, a)
			p.skipOWS()
			if p.i == len(p.b) {
				break
			}
			if p.b[p.i] != ',' {
				return dst, false
			}
			p.i++
		}
	}
	return dst, true
}

type forwardedParser struct {
	b []byte
	i int
}

func (p *forwardedParser) skipOWS() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t') {
		p.i++
	}
}

// element reads one forwarded-element, up to the comma that ends it.
func (p *forwardedParser) element() (netip.Addr, bool) {
	var (
		addr     netip.Addr
		seen     [4]bool // for, by, host, proto
		valueBuf [64]byte
	)
	for {
		if p.i < len(p.b) && p.b[p.i] != ',' && p.b[p.i] != ';' {
			name := p.token()
			if len(name) == 0 || p.i == len(p.b) || p.b[p.i] != '=' {
				return netip.Addr{}, false
			}
			p.i++
			value, ok := p.value(valueBuf[:0])
			if !ok {
				return netip.Addr{}, false
			}
			k := -1
			switch {
			case bytes.EqualFold(name, []byte("for")):
				k = 0
			case bytes.EqualFold(name, []byte("by")):
				k = 1
			case bytes.EqualFold(name, []byte("host")):
				k = 2
			case bytes.EqualFold(name, []byte("proto")):
				k = 3
			}
			if k >= 0 {
				if seen[k] {
					return netip.Addr{}, false
				}
				seen[k] = true
			}
			if k == 0 {
				if addr, ok = parseNode(value); !ok {
					return netip.Addr{}, false
				}
			}
		}
		if p.i == len(p.b) || p.b[p.i] == ',' || p.b[p.i] == ' ' || p.b[p.i] == '\t' {
			return addr, true
		}
		if p.b[p.i] != ';' {
			return netip.Addr{}, false
		}
		p.i++
	}
}

// token reads a run of tchar (RFC 9110 section 5.6.2).
func (p *forwardedParser) token() []byte {
	start := p.i
	for p.i < len(p.b) && isTChar(p.b[p.i]) {
		p.i++
	}
	return p.b[start:p.i]
}

// value reads a token or a quoted string, unescaped into dst (which it
// may outgrow only for values that are no node anyway).
func (p *forwardedParser) value(dst []byte) ([]byte, bool) {
	if p.i == len(p.b) {
		return nil, false
	}
	if p.b[p.i] != '"' {
		tok := p.token()
		return tok, len(tok) > 0
	}
	p.i++
	for p.i < len(p.b) {
		c := p.b[p.i]
		p.i++
		switch {
		case c == '"':
			return dst, true
		case c == '\\':
			if p.i == len(p.b) || !isQuotedPairChar(p.b[p.i]) {
				return nil, false
			}
			dst = append(dst, p.b[p.i])
			p.i++
		case c == '\t' || c == ' ' || c == 0x21 || c >= 0x23 && c <= 0x5b || c >= 0x5d && c <= 0x7e || c >= 0x80:
			dst = append(dst, c)
		default:
			return nil, false
		}
	}
	return nil, false // no closing quote
}

func isTChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func isQuotedPairChar(c byte) bool { return c == '\t' || c >= 0x20 && c != 0x7f }

// parseNode reads a for= node (RFC 7239 section 6): nodename [":" port].
// It gives the zero Addr for "unknown" and obfuscated names.
func parseNode(v []byte) (netip.Addr, bool) {
	var (
		name, port []byte
		hasPort    bool
	)
	if len(v) > 0 && v[0] == '[' {
		end := bytes.IndexByte(v, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		name, port = v[1:end], v[end+1:]
		if len(port) > 0 {
			if port[0] != ':' {
				return netip.Addr{}, false
			}
			port, hasPort = port[1:], true
		}
		if !validNodePort(port, hasPort) {
			return netip.Addr{}, false
		}
		a, ok := parseIP(name)
		if !ok || !a.Is6() {
			return netip.Addr{}, false
		}
		return a, true
	}
	name, port, hasPort = bytes.Cut(v, []byte(":"))
	if !validNodePort(port, hasPort) {
		return netip.Addr{}, false
	}
	switch {
	case bytes.Equal(name, []byte("unknown")):
		return netip.Addr{}, true
	case len(name) > 1 && name[0] == '_' && validObfuscated(name[1:]):
		return netip.Addr{}, true
	}
	a, err := netip.ParseAddr(string(name))
	if err != nil || !a.Is4() {
		return netip.Addr{}, false
	}
	return a, true
}

// validNodePort: no port, 1 to 5 digits, or an obfuscated port.
func validNodePort(port []byte, hasPort bool) bool {
	if !hasPort {
		return true
	}
	if len(port) > 1 && port[0] == '_' {
		return validObfuscated(port[1:])
	}
	if len(port) == 0 || len(port) > 5 {
		return false
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func validObfuscated(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return len(b) > 0
}
