package httpapi

// exportRoutes are the export routes and the coverage route.
func (s *Server) exportRoutes() []route {
	return nil
}
