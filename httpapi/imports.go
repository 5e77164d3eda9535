package httpapi

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/codec"
	"wearhouse/ingest"
	"wearhouse/query"
)

// The import routes take an upload of any size up to --max-import, not
// --max-body: the body is never held, it is streamed to a file in the data
// directory (ingest.SpoolImport), decompressed on the way when it was sent
// with Content-Encoding gzip or zstd. The read deadline moves with the
// upload, so that a large export on a slow link is not cut off at the read
// timeout while a stalled one still is.
var (
	importPattern       = strings.Split("api/v1/users/{user_id}/import/apple-health", "/")
	importDirectPattern = strings.Split("api/v1/users/{user_id}/import/apple/xml/direct", "/")
)

func (s *Server) importRoutes() []route {
	return []route{
		h("POST", "/api/v1/users/{user_id}/import/apple-health", s.importAppleHealth),
		h("GET", "/api/v1/users/{user_id}/import/apple-health/{import_id}", s.importStatus),
		h("POST", "/api/v1/users/{user_id}/import/apple/xml/direct", s.importDirect),
	}
}

// importUpload reports whether a request is a POST to an import route
// whose declared size is within --max-import: the one body larger than
// --max-body that is let in.
func (s *Server) importUpload(ctx *fasthttp.RequestCtx, declared int) bool {
	if string(ctx.Method()) != fasthttp.MethodPost || int64(declared) > s.opts.MaxImport {
		return false
	}
	segs := strings.Split(strings.Trim(string(ctx.Path()), "/"), "/")
	var buf [1]string
	_, a := match(importPattern, segs, buf[:0])
	_, b := match(importDirectPattern, segs, buf[:0])
	return a || b
}

// importAccepted is the 202 of an import route. Open Wearables' direct
// upload answers status, task_id and user_id; the other fields are
// wearhouse's.
type importAccepted struct {
	Status    string `json:"status"`
	TaskID    string `json:"task_id"`
	UserID    string `json:"user_id"`
	ImportID  string `json:"import_id"`
	Bytes     int64  `json:"bytes"`
	Format    string `json:"format"`
	StatusURL string `json:"status_url"`
}

// importAppleHealth answers POST /users/{user_id}/import/apple-health: the
// body is export.zip or export.xml.
func (s *Server) importAppleHealth(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.importPreamble(ctx, a[0]); err != nil {
		return err
	}
	body, done, err := s.importBody(ctx)
	if err != nil {
		return err
	}
	defer done()
	return s.spoolImport(ctx, a[0], body, "queued")
}

// importDirect answers Open Wearables' POST
// /users/{user_id}/import/apple/xml/direct: a multipart/form-data body whose
// field "file" is the export (export.xml, or export.zip).
func (s *Server) importDirect(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.importPreamble(ctx, a[0]); err != nil {
		return err
	}
	mt, params, err := mime.ParseMediaType(string(ctx.Request.Header.ContentType()))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return invalid("The body must be multipart/form-data with the export in the field \"file\".")
	}
	body, done, err := s.importBody(ctx)
	if err != nil {
		return err
	}
	defer done()
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return invalid("The multipart body has no field \"file\".")
		}
		if err != nil {
			return invalid("The multipart body cannot be read: " + err.Error())
		}
		if part.FormName() == "file" {
			return s.spoolImport(ctx, a[0], part, "processing")
		}
		part.Close()
	}
}

// importPreamble decides an import before its body is read: an admin or
// write API key, and a valid user id.
func (s *Server) importPreamble(ctx *fasthttp.RequestCtx, userID string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeWrite); err != nil {
		return err
	}
	if !validUserID(userID) {
		return errBadUserID
	}
	return nil
}

func (s *Server) spoolImport(ctx *fasthttp.RequestCtx, userID string, body io.Reader, status string) error {
	imp, err := s.deps.Ingest.SpoolImport(userID, ingest.ImportAppleHealth, body)
	if err != nil {
		return err
	}
	format := "xml"
	if imp.Zipped {
		format = "zip"
	}
	return writeValue(ctx, fasthttp.StatusAccepted, importAccepted{Status: status, TaskID: imp.ID, UserID: userID,
		ImportID: imp.ID, Bytes: imp.Size, Format: format,
		StatusURL: "/api/v1/users/" + userID + "/import/apple-health/" + imp.ID})
}

// importBody is the request's body as sent, decompressed by its
// Content-Encoding, bounded by --max-import (the spool bounds what comes
// out of the decompressor by the same limit). done releases the decoder.
func (s *Server) importBody(ctx *fasthttp.RequestCtx) (io.Reader, func(), error) {
	stream := ctx.RequestBodyStream()
	if stream == nil {
		return nil, nil, invalid("The upload is empty.")
	}
	raw := &sentBody{r: &movingDeadline{r: stream, conn: ctx.Conn(), idle: s.opts.ReadTimeout},
		limit: int(s.opts.MaxImport), declared: ctx.Request.Header.ContentLength(), prog: progressOf(ctx)}
	switch enc := strings.ToLower(strings.TrimSpace(string(ctx.Request.Header.ContentEncoding()))); enc {
	case "", "identity":
		return raw, func() {}, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(raw)
		if err != nil {
			return nil, nil, invalid("The body is not gzip: " + err.Error())
		}
		return zr, func() { zr.Close() }, nil
	case "zstd":
		zr, err := zstd.NewReader(raw, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(zstdWindow))
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	default:
		return nil, nil, &httpError{status: fasthttp.StatusUnsupportedMediaType,
			detail: "Content-Encoding " + enc + " is not supported here: send identity, gzip or zstd."}
	}
}

// movingDeadline pushes the connection's read deadline forward as the body
// arrives: each read may wait up to idle.
type movingDeadline struct {
	r    io.Reader
	conn net.Conn
	idle time.Duration
	last time.Time
}

func (m *movingDeadline) Read(p []byte) (int, error) {
	if now := time.Now(); m.conn != nil && now.Sub(m.last) > time.Second {
		m.last = now
		_ = m.conn.SetReadDeadline(now.Add(m.idle))
	}
	return m.r.Read(p)
}

// importStatus answers GET /users/{user_id}/import/apple-health/{import_id}:
// the import's state, what it has read, and its run, for the keys that may
// import (a read key sees the same run in the sync status routes).
func (s *Server) importStatus(ctx *fasthttp.RequestCtx, a []string) error {
	if _, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeWrite); err != nil {
		return err
	}
	if !validUserID(a[0]) {
		return errBadUserID
	}
	imp, err := s.deps.Query.Import(a[0], a[1])
	if errors.Is(err, query.ErrNotFound) {
		return notFound("Import not found")
	}
	if err != nil {
		return err
	}
	type status struct {
		ImportID string                `json:"import_id"`
		UserID   string                `json:"user_id"`
		State    string                `json:"state"`
		Error    string                `json:"error,omitempty"`
		Bytes    int64                 `json:"bytes"`
		Created  string                `json:"created_at"`
		Run      *codec.SyncRunSummary `json:"run"`
	}
	out := status{ImportID: a[1], UserID: a[0], State: imp.Job.State, Error: imp.Job.Error, Bytes: imp.Job.Size,
		Created: imp.Job.Created.UTC().Format(time.RFC3339Nano)}
	if imp.Run != nil {
		sum := codec.SyncSummary(syncRun(imp.Run))
		out.Run = &sum
		out.State = importState(imp.Job.State, imp.Run.Status)
	}
	return writeValue(ctx, fasthttp.StatusOK, out)
}

// importView is the answer of the import status route.
type importView struct {
	ImportID string                `json:"import_id"`
	UserID   string                `json:"user_id"`
	State    string                `json:"state"`
	Error    string                `json:"error,omitempty"`
	Bytes    int64                 `json:"bytes"`
	Created  string                `json:"created_at"`
	Run      *codec.SyncRunSummary `json:"run"`
}

// importState is what a client sees: the reader's state until every chunk
// is indexed, then the run's.
func importState(job, run string) string {
	switch run {
	case "completed":
		return "completed"
	case "failed":
		return "failed"
	}
	if job == "done" || job == "failed" {
		return "indexing"
	}
	return job
}
