package httpapi

import "github.com/valyala/fasthttp"

// readRoutes are the data read routes.
func (s *Server) readRoutes() []route {
	return nil
}

var _ = fasthttp.StatusOK
