package httpapi

import (
	_ "embed"

	"github.com/valyala/fasthttp"
)

// docsPage renders /openapi.json for people. It is self-contained: its
// script and styles are inline, and it loads nothing but the document.
//
//go:embed docs/index.html
var docsPage []byte

// docRoutes serve the OpenAPI document and its page. They describe the
// API and hold no data, so they take no credential.
func (s *Server) docRoutes() []route {
	return []route{
		h("GET", "/openapi.json", s.openAPI),
		h("GET", "/docs", s.docs),
	}
}

func (s *Server) openAPI(ctx *fasthttp.RequestCtx, _ []string) error {
	b, err := openAPIJSON()
	if err != nil {
		return err
	}
	writeJSON(ctx, fasthttp.StatusOK, b)
	return nil
}

func (s *Server) docs(ctx *fasthttp.RequestCtx, _ []string) error {
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("text/html; charset=utf-8")
	// Inline script and styles, and a fetch of the document: nothing else.
	ctx.Response.Header.Set("Content-Security-Policy",
		"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	ctx.Response.Header.Set("X-Content-Type-Options", "nosniff")
	ctx.Response.SetBodyRaw(docsPage)
	return nil
}
