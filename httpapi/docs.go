package httpapi

import (
	"github.com/valyala/fasthttp"
)

// docRoutes serve the OpenAPI document. It describes the API and holds no
// data, so it takes no credential.
func (s *Server) docRoutes() []route {
	return []route{
		h("GET", "/openapi.json", s.openAPI),
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
