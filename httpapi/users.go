package httpapi

// userRoutes are the user, data source and connection routes.
func (s *Server) userRoutes() []route {
	return nil
}
