package httpapi

import (
	"embed"
	"strings"

	"github.com/valyala/fasthttp"
)

// static holds the small files the API's answers point at: the provider
// icons of a connection's icon_url. They are drawn for wearhouse
// (static/provider-icons/NOTICE.md).
//
//go:embed static/provider-icons/*.svg
var static embed.FS

func (s *Server) staticRoutes() []route {
	return []route{
		h("GET", "/static/provider-icons/{name}", s.providerIcon),
	}
}

var errNoSuchFile = notFound("Not Found")

// providerIcon serves one icon. They hold no data and need no credentials;
// a content security policy keeps an SVG from running anything, should one
// ever carry a script.
func (s *Server) providerIcon(ctx *fasthttp.RequestCtx, a []string) error {
	name := a[0]
	if !strings.HasSuffix(name, ".svg") || strings.ContainsAny(name, "/\\") {
		return errNoSuchFile
	}
	b, err := static.ReadFile("static/provider-icons/" + name)
	if err != nil {
		return errNoSuchFile
	}
	ctx.Response.Header.Set("Cache-Control", "public, max-age=86400")
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.Response.Header.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	ctx.SetContentType("image/svg+xml")
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBody(b)
	return nil
}
