package httpapi

import (
	"net/netip"

	"github.com/valyala/fasthttp"
)

// clientAddr is the address of the client that sent a request, for logs
// and per-client limits: the peer's. IPv4-mapped IPv6 addresses are given
// as IPv4.
func (s *Server) clientAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	peer, _ := netip.AddrFromSlice(ctx.RemoteIP())
	return peer.Unmap()
}
