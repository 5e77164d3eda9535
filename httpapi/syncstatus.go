package httpapi

// syncStatusRoutes are the sync status and SDK log routes.
func (s *Server) syncStatusRoutes() []route {
	return nil
}
