package httpapi

import (
	"bufio"
	"errors"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
)

// Headers of a backup's answer.
const (
	storeIDHeader     = "X-Wearhouse-Store-Id"
	backupFilesHeader = "X-Wearhouse-Backup-Files"
	backupBytesHeader = "X-Wearhouse-Backup-Bytes"
)

// adminRoutes are the operator's routes.
func (s *Server) adminRoutes() []route {
	return []route{
		h("GET", "/api/v1/admin/backup", s.backup),
	}
}

// backup streams a consistent checkpoint of the running store, with the
// admin key file, as a backup archive (pebblestore.ReadArchive reads it;
// `wearhouse backup` writes it where it runs). It holds everything
// acknowledged before the request. The checkpoint is made in a temporary
// directory inside the data directory before the first byte, so that
// the headers name the store id and the size, and removed once the
// archive is sent, or the client went away, or the server shuts down
// (and at the next start, after a crash). HEAD answers the store id alone,
// without a checkpoint.
func (s *Server) backup(ctx *fasthttp.RequestCtx, _ []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin); err != nil {
		return err
	}
	in := s.deps.Ingest
	ctx.Response.Header.Set(storeIDHeader, in.StoreID())
	if ctx.IsHead() {
		ctx.SetStatusCode(fasthttp.StatusOK)
		ctx.SetContentType("application/x-tar")
		return nil
	}
	start := time.Now()
	b, err := in.StartBackup(func(dir string) error { return auth.CopyAdminKeyFile(in.DataDir(), dir) })
	if err != nil {
		return err
	}
	files, size, err := b.Size()
	if err != nil {
		b.Close()
		return err
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/x-tar")
	ctx.Response.Header.Set("Content-Disposition", `attachment; filename="wearhouse-`+b.StoreID+`.tar"`)
	ctx.Response.Header.Set(backupFilesHeader, strconv.Itoa(files))
	ctx.Response.Header.Set(backupBytesHeader, strconv.FormatInt(size, 10))
	log := s.log.With().Str("event", "backup").Str("store_id", b.StoreID).Logger()
	dw := &deadlineWriter{conn: ctx.Conn(), timeout: s.opts.WriteTimeout}
	stop := s.streams.done()
	// The writer runs on its own goroutine after the handler has returned,
	// and always ends: when the archive is written, when a write fails
	// because the client went away or stopped reading (WriteTimeout), or
	// at shutdown.
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer func() {
			if r := recover(); r != nil {
				log.Error().Interface("panic", r).Bytes("stack", debug.Stack()).Msg("backup stream panicked")
			}
			if err := b.Close(); err != nil {
				log.Error().Err(err).Msg("could not remove the backup's checkpoint")
			}
		}()
		dw.w = w
		err := b.WriteArchive(stoppable{dw, stop})
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			log.Warn().Err(err).Int("files", files).Int64("bytes", size).Msg("backup stream ended early")
			return
		}
		log.Info().Int("files", files).Int64("bytes", size).Dur("took", time.Since(start)).Msg("backup sent")
	})
	return nil
}

var errShuttingDown = errors.New("httpapi: the server is shutting down")

// stoppable is a writer that fails once stop is closed.
type stoppable struct {
	w    *deadlineWriter
	stop <-chan struct{}
}

func (s stoppable) Write(p []byte) (int, error) {
	select {
	case <-s.stop:
		return 0, errShuttingDown
	default:
		return s.w.Write(p)
	}
}
