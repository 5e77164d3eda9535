package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/rs/zerolog"

	"wearhouse/app"
	"wearhouse/auth"
	"wearhouse/ingest"
	"wearhouse/pebblestore"
)

// ServerOptions configure an in-process server.
type ServerOptions struct {
	// Dir is the data directory. When empty a new temporary directory is
	// made, and Close removes it.
	Dir string
	// Logger receives the server's log; nil discards it.
	Logger *zerolog.Logger
	// PauseCompactor keeps the compactor from indexing the queue, so that
	// a run measures the write path alone.
	PauseCompactor bool
}

// Server is a wearhouse running in this process, with the defaults of
// `wearhouse serve`, on a random loopback port.
type Server struct {
	App    *app.App
	URL    string // http://127.0.0.1:PORT
	APIKey string // the admin key
	Dir    string

	removeDir bool
}

// StartServer starts a server for a benchmark. Users are created on their
// first sync.
func StartServer(o ServerOptions) (*Server, error) {
	s := &Server{Dir: o.Dir}
	if s.Dir == "" {
		dir, err := os.MkdirTemp("", "wearhouse-bench-")
		if err != nil {
			return nil, err
		}
		s.Dir, s.removeDir = dir, true
	}
	key := make([]byte, 16)
	if _, err := rand.Read(key); err != nil {
		s.cleanup()
		return nil, err
	}
	s.APIKey = "bench-" + hex.EncodeToString(key)
	log := zerolog.Nop()
	if o.Logger != nil {
		log = *o.Logger
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.cleanup()
		return nil, err
	}
	a, err := app.Start(app.Options{
		Store:     pebblestore.Options{Dir: s.Dir},
		Auth:      auth.Options{AdminKey: s.APIKey},
		Ingest:    ingest.Options{AutoCreateUsers: true},
		Compactor: ingest.CompactorOptions{Paused: o.PauseCompactor},
		Logger:    log,
		Announce:  io.Discard,
	}, ln)
	if err != nil {
		ln.Close()
		s.cleanup()
		return nil, fmt.Errorf("bench: start server: %w", err)
	}
	s.App = a
	s.URL = "http://" + a.Addr().String()
	return s, nil
}

// Close stops the server and removes a temporary data directory.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.App.Close(ctx)
	s.cleanup()
	return err
}

func (s *Server) cleanup() {
	if s.removeDir {
		os.RemoveAll(s.Dir)
	}
}
