package httpapi

import (
	"os"
	"path/filepath"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
)

// adminRoutes are the operator's routes.
func (s *Server) adminRoutes() []route {
	return []route{
		h("POST", "/api/v1/admin/backup", s.backup),
	}
}

// backup writes a consistent checkpoint of the running store into a new
// directory on the server's machine (an absolute path that must not exist
// yet), with the admin key file beside it. It holds everything
// acknowledged before the request.
func (s *Server) backup(ctx *fasthttp.RequestCtx, _ []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	var in struct {
		Dir string `json:"dir"`
	}
	body, err := s.controlBody(ctx)
	if err != nil {
		return err
	}
	if err := codec.Unmarshal(body, &in); err != nil || !filepath.IsAbs(in.Dir) {
		return invalid("Body must be {\"dir\": \"<absolute path of a directory that does not exist yet>\"}.")
	}
	dir := filepath.Clean(in.Dir)
	if _, err := os.Stat(dir); err == nil {
		return conflict("The backup directory already exists.")
	}
	start := time.Now()
	n, err := s.deps.Ingest.Backup(dir)
	if err != nil {
		return err
	}
	if err := auth.CopyAdminKeyFile(s.deps.Ingest.DataDir(), dir); err != nil {
		return err
	}
	s.log.Info().Str("event", "backup").Str("dir", dir).Int64("bytes", n).Dur("took", time.Since(start)).Msg("backup written")
	return writeValue(ctx, fasthttp.StatusOK, codec.BackupResult{Dir: dir, Bytes: n, TookMS: time.Since(start).Milliseconds()})
}
