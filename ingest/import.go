package ingest

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"wearhouse/applehealth"
	"wearhouse/pebblestore"
)

// Imports: a file of a user's history (the Health app's export) is spooled
// to the data directory and fsynced, with its job and its run, before it is
// acknowledged (SpoolImport); the importer then reads it in the background,
// maps its items to the SDK's (applemap.go), and queues them in chunks of
// about ImportChunkItems, each chunk in one synced write with the job's
// checkpoint (import_run.go). The compactor indexes the chunks like SDK
// batches, except that an imported sample never replaces a stored one: it
// is a duplicate, counted in the import's run (index.go).

// ImportsDir is the directory of spooled imports, in the data directory.
const ImportsDir = "imports"

// Import kinds.
const ImportAppleHealth = "apple-health"

// The states of an import job.
const (
	importQueued  = "queued"
	importReading = "reading"
	importDone    = "done"
	importFailed  = "failed"
)

// maxSpooling is how many uploads may be written to disk at once.
const maxSpooling = 2

// Import is an accepted import, as SpoolImport answers it.
type Import struct {
	ID     string
	UserID string
	Size   int64
	Zipped bool
	Run    *pebblestore.Run
}

// SpoolImport writes an upload of the user's to the imports directory,
// fsynced, checks that it is an export it can read, and writes its job and
// its queued run in one synced write. Only then is the import accepted; the
// importer reads it in the background. The user must exist. An upload over
// MaxImportBytes is 413, a disk under the reserve 507 (the partial file is
// removed: never a half import), more than two uploads at once 503.
func (s *Service) SpoolImport(userID, kind string, body io.Reader) (*Import, error) {
	if _, known, err := s.lookupUser(userID); err != nil {
		return nil, err
	} else if !known {
		return nil, refuse(KindUnknownUser, 0, "User with ID: %s not found.", userID)
	}
	if kind != ImportAppleHealth {
		return nil, fmt.Errorf("ingest: unknown import kind %q", kind)
	}
	select {
	case s.spooling <- struct{}{}:
		defer func() { <-s.spooling }()
	default:
		return nil, refuse(KindOverloaded, s.opts.RetryAfter, "Two uploads are being received already; retry later.")
	}
	// Until its job is written, the file has none: the sweep of orphaned
	// files waits for the uploads (removeOrphanSpools).
	s.spoolMu.RLock()
	defer s.spoolMu.RUnlock()
	if !s.DiskOK() {
		return nil, s.diskFull()
	}
	id := newBatchID()
	name := formatUUID(id)
	dir := filepath.Join(s.store.Dir(), ImportsDir)
	path, size, err := s.spool(dir, name, body)
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			os.Remove(path)
		}
	}()
	exp, zipped, err := s.openSpooled(path, size)
	if err != nil {
		return nil, err
	}
	now := s.opts.Now().UTC()
	job := &pebblestore.ImportJob{ID: id, UserID: userID, File: filepath.Base(path), Size: size, Kind: kind,
		Created: now, State: importQueued, Progress: pebblestore.ImportProgress{BytesTotal: exp}}
	run, err := s.createImport(job)
	if err != nil {
		return nil, err
	}
	keep = true
	select {
	case s.importWake <- struct{}{}:
	default:
	}
	return &Import{ID: name, UserID: userID, Size: size, Zipped: zipped, Run: run}, nil
}

// spool copies body to dir/name.part, fsyncs it and renames it to
// dir/name (fsyncing the directory). The bytes written count against the
// disk reserve as they are written.
func (s *Service) spool(dir, name string, body io.Reader) (string, int64, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", 0, err
	}
	part := filepath.Join(dir, name+".part")
	f, err := s.store.CreateFile(part) // ciphertext when the store is encrypted
	if err != nil {
		return "", 0, err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(part)
		}
	}()
	buf := make([]byte, 1<<20)
	var size int64
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if size += int64(n); size > s.opts.MaxImportBytes {
				return "", 0, refuse(KindTooLarge, 0, "The upload is larger than the limit of %d bytes.", s.opts.MaxImportBytes)
			}
			s.disk.since.Add(int64(n))
			if s.disk.available() < s.opts.DiskReserve {
				return "", 0, s.diskFull()
			}
			if _, err := f.Write(buf[:n]); err != nil {
				return "", 0, err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", 0, refuse(KindBadUpload, 0, "The upload could not be read to its end: %v.", rerr)
		}
	}
	if size == 0 {
		return "", 0, refuse(KindBadUpload, 0, "The upload is empty.")
	}
	if err := f.Sync(); err != nil {
		return "", 0, err
	}
	if err := f.Close(); err != nil {
		return "", 0, err
	}
	final := filepath.Join(dir, name)
	if err := os.Rename(part, final); err != nil {
		return "", 0, err
	}
	ok = true
	return final, size, syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// openSpooled checks that a spooled file is an export that can be read, and
// returns the size of its XML.
func (s *Service) openSpooled(path string, size int64) (xmlSize int64, zipped bool, err error) {
	f, err := s.store.OpenFile(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	exp, err := applehealth.OpenExport(f, size, importLimits)
	if err != nil {
		return 0, false, refuse(KindBadUpload, 0, "The upload is not an Apple Health export (export.zip or export.xml): %s", trimPrefix(err))
	}
	return exp.XMLSize(), exp.Zipped(), nil
}

func trimPrefix(err error) string { return strings.TrimPrefix(err.Error(), "applehealth: ") }

func (s *Service) diskFull() error {
	return refuse(KindDiskFull, 0, "The server's disk is nearly full; the upload was not kept.")
}

// createImport writes a new job and its queued run in one synced write,
// under the user's lock.
func (s *Service) createImport(job *pebblestore.ImportJob) (*pebblestore.Run, error) {
	w := &write{s: s, deadline: time.Now().Add(s.opts.CommitTimeout)}
	defer w.abandon()
	if err := w.holdUser(job.UserID, nil); err != nil {
		return nil, err
	}
	iid, known, err := s.lookupUser(job.UserID)
	if err != nil {
		return nil, err
	}
	if !known {
		return nil, refuse(KindUnknownUser, 0, "User with ID: %s not found.", job.UserID)
	}
	job.UserIID = iid
	w.b = s.store.NewBatch()
	job.RunSeq = w.reserveSeq()
	run := &pebblestore.Run{Seq: job.RunSeq, BatchID: formatUUID(job.ID), UserID: job.UserID, UserIID: iid,
		Provider: "apple", Status: "queued", QueuedAt: job.Created, Source: SourceImport,
		Import: &pebblestore.ImportResult{ImportProgress: job.Progress}}
	if err := w.b.PutRun(run); err != nil {
		return nil, err
	}
	if err := w.b.PutImport(job); err != nil {
		return nil, err
	}
	return run, w.commit("import", func() { s.publish(run) })
}

// SourceImport is the source of an import's run.
const SourceImport = "import"
