package httpapi

import "strings"

// RouteTable lists a server's route table as "METHOD /pattern", so that the
// external authorization matrix can check it classifies every route.
func RouteTable(s *Server) []string {
	out := make([]string, 0, len(s.table))
	for _, rt := range s.table {
		out = append(out, rt.method+" /"+strings.Join(rt.pattern, "/"))
	}
	return out
}
