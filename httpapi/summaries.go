package httpapi

// summaryRoutes are the summary routes.
func (s *Server) summaryRoutes() []route {
	return nil
}
