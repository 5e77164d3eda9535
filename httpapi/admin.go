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
		r("POST", "/api/v1/admin/backup", s.backup),
	}
}

// BackupResult is the answer of a backup.
type BackupResult struct {
	Dir    string `json:"dir"`
	Bytes  int64  `json:"bytes"`
	TookMS int64  `json:"took_ms"`
}

// backup writes a consistent checkpoint of the running store into a new
// directory on the server's machine (an absolute path that must not exist
// yet), with the admin key file beside it. It holds everything
// acknowledged before the request.
func (s *Server) backup(ctx *fasthttp.RequestCtx, _ []string) {
	if _, err := s.adminKey(ctx); err != nil {
		s.writeError(ctx, err)
		return
	}
	var in struct {
		Dir string `json:"dir"`
	}
	body, err := s.controlBody(ctx)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if err := codec.Unmarshal(body, &in); err != nil || !filepath.IsAbs(in.Dir) {
		s.writeError(ctx, errStatus(fasthttp.StatusBadRequest, "Body must be {\"dir\": \"<absolute path of a directory that does not exist yet>\"}."))
		return
	}
	dir := filepath.Clean(in.Dir)
	if _, err := os.Stat(dir); err == nil {
		s.writeError(ctx, errStatus(fasthttp.StatusConflict, "The backup directory already exists."))
		return
	}
	start := time.Now()
	n, err := s.deps.Store.Checkpoint(dir)
	if err != nil {
		s.writeError(ctx, err)
		return
	}
	if err := auth.CopyAdminKeyFile(s.deps.Store.Dir(), dir); err != nil {
		s.writeError(ctx, err)
		return
	}
	s.log.Info().Str("event", "backup").Str("dir", dir).Int64("bytes", n).Dur("took", time.Since(start)).Msg("backup written")
	s.answer(ctx, BackupResult{Dir: dir, Bytes: n, TookMS: time.Since(start).Milliseconds()}, nil)
}
