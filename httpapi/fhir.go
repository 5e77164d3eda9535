package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"wearhouse/auth"
	"wearhouse/fhir"
	"wearhouse/query"
)

// The FHIR R4 routes (fhir package): every answer is application/fhir+json
// (bulk files application/fhir+ndjson), errors too: writeError answers
// the one table's status and detail as an OperationOutcome on these paths.
// Every route but /metadata takes a read credential, as the data read
// routes.

const (
	fhirBase     = "/fhir/r4"
	fhirJSON     = "application/fhir+json"
	fhirNDJSON   = "application/fhir+ndjson"
	fhirMaxCount = 1000
)

func (s *Server) fhirRoutes() []route {
	return []route{
		h("GET", fhirBase+"/metadata", s.fhirMetadata),
		// Before Patient/{user_id}, which the same path would match.
		h("GET", fhirBase+"/Patient/$export", s.fhirExportAll),
		h("GET", fhirBase+"/Group/{group_id}/$export", s.fhirExportGroup),
		h("GET", fhirBase+"/Patient/{user_id}", s.fhirPatient),
		h("GET", fhirBase+"/Patient/{user_id}/$everything", s.fhirEverything),
		h("GET", fhirBase+"/Observation", s.fhirObservations),
		h("GET", fhirBase+"/Device", s.fhirDevices),
		h("GET", fhirBase+"/bulk/{job_id}", s.fhirExportStatus),
		h("DELETE", fhirBase+"/bulk/{job_id}", s.fhirExportCancel),
		h("GET", fhirBase+"/bulk/{job_id}/{file}", s.fhirExportFile),
	}
}

// isFHIR reports whether a request is one of the FHIR routes, whose
// errors are OperationOutcomes.
func isFHIR(ctx *fasthttp.RequestCtx) bool {
	p := string(ctx.Path())
	return p == fhirBase || strings.HasPrefix(p, fhirBase+"/")
}

// writeFHIR writes a resource.
func writeFHIR(ctx *fasthttp.RequestCtx, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType(fhirJSON)
	ctx.Response.SetBodyRaw(b)
	return nil
}

// writeOutcome is writeError's body on the FHIR routes.
func writeOutcome(ctx *fasthttp.RequestCtx, status int, detail string) {
	b, _ := json.Marshal(fhir.Outcome(status, detail))
	ctx.SetStatusCode(status)
	ctx.SetContentType(fhirJSON)
	ctx.Response.SetBodyRaw(b)
}

// fhirURL is the absolute URL of a FHIR path, for links and Content-Location.
func fhirURL(ctx *fasthttp.RequestCtx, path string) string {
	scheme := "http"
	if ctx.IsTLS() {
		scheme = "https"
	}
	return scheme + "://" + string(ctx.Host()) + fhirBase + path
}

func (s *Server) fhirMetadata(ctx *fasthttp.RequestCtx, _ []string) error {
	return writeFHIR(ctx, fasthttp.StatusOK, fhir.Capability(fhirURL(ctx, ""), time.Now()))
}

// fhirUser resolves a Patient id to the user: the user id itself, or the
// hashed form of one that does not fit FHIR's id syntax. An unknown user
// is 404.
func (s *Server) fhirUser(id string) (string, error) {
	if fhir.IsHashedID(id) {
		page, err := s.deps.Query.Users(query.UserParams{Page: 1, Limit: 1 << 30, SortBy: "created_at", SortOrder: "asc"})
		if err != nil {
			return "", err
		}
		for _, u := range page.Items {
			if fhir.PatientID(u.ID) == id {
				return u.ID, nil
			}
		}
		return "", notFound("Patient/" + id + " not found.")
	}
	id = canonicalUserID(id)
	if !validUserID(id) {
		return "", notFound("Patient/" + id + " not found.")
	}
	if _, err := s.deps.Query.User(id); err != nil {
		return "", notFoundAs(err, "Patient/"+id+" not found.")
	}
	return id, nil
}

func (s *Server) fhirReadable(ctx *fasthttp.RequestCtx) error {
	_, err := s.apiKey(ctx, auth.ScopeAdmin, auth.ScopeRead)
	return err
}

func (s *Server) fhirPatient(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.fhirReadable(ctx); err != nil {
		return err
	}
	id, err := s.fhirUser(a[0])
	if err != nil {
		return err
	}
	u, err := s.deps.Query.User(id)
	if err != nil {
		return notFoundAs(err, "Patient/"+a[0]+" not found.")
	}
	return writeFHIR(ctx, fasthttp.StatusOK, fhir.NewPatient(&u))
}

// patientParam reads the patient search parameter: an id, or
// Patient/<id>.
func (s *Server) patientParam(ctx *fasthttp.RequestCtx) (string, error) {
	v := strings.TrimPrefix(arg(ctx, "patient"), "Patient/")
	if v == "" {
		v = strings.TrimPrefix(arg(ctx, "subject"), "Patient/")
	}
	if v == "" {
		return "", invalid("patient is required: a Patient id, or Patient/<id>.")
	}
	return s.fhirUser(v)
}

func (s *Server) fhirDevices(ctx *fasthttp.RequestCtx, _ []string) error {
	if err := s.fhirReadable(ctx); err != nil {
		return err
	}
	user, err := s.patientParam(ctx)
	if err != nil {
		return err
	}
	ds, err := s.deps.Query.DataSources(user)
	if err != nil {
		return err
	}
	res := make([]any, 0, len(ds.Items))
	for i := range ds.Items {
		res = append(res, fhir.NewDevice(user, &ds.Items[i]))
	}
	self := fhirURL(ctx, "/Device?patient="+fhir.PatientID(user))
	return writeFHIR(ctx, fasthttp.StatusOK, fhir.NewBundle(fhirURL(ctx, ""), self, "", res, time.Now()))
}

// dateParams reads the repeated date parameter (ge, gt, le, lt, eq, or no
// prefix, which is eq of a day or an instant) into a half-open window.
func dateParams(ctx *fasthttp.RequestCtx) (time.Time, time.Time, error) {
	start, end := fhir.MinTime, fhir.MaxTime
	for _, raw := range ctx.QueryArgs().PeekMulti("date") {
		v := string(raw)
		prefix := "eq"
		if len(v) > 2 && v[0] >= 'a' && v[0] <= 'z' {
			prefix, v = v[:2], v[2:]
		}
		lo, err := query.ParseTime("date", v, false)
		if err != nil {
			return start, end, err
		}
		hi, err := query.ParseTime("date", v, true)
		if err != nil {
			return start, end, err
		}
		if hi.Equal(lo) {
			hi = lo.Add(time.Microsecond)
		}
		switch prefix {
		case "ge":
			start = maxTime(start, lo)
		case "gt":
			start = maxTime(start, hi)
		case "lt":
			end = minTime(end, lo)
		case "le":
			end = minTime(end, hi)
		case "eq":
			start, end = maxTime(start, lo), minTime(end, hi)
		default:
			return start, end, invalid("date takes the prefixes ge, gt, le, lt and eq.")
		}
	}
	if !end.After(start) {
		return start, end, invalid("The date parameters leave an empty window.")
	}
	return start, end, nil
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// fhirSearch answers a page of a search as a searchset Bundle whose next
// link carries _cursor.
func (s *Server) fhirSearch(ctx *fasthttp.RequestCtx, path string, p fhir.SearchParams) error {
	count, err := intParam(ctx, "_count", 100, 1, fhirMaxCount)
	if err != nil {
		return err
	}
	p.Count, p.Cursor = count, arg(ctx, "_cursor")
	page, err := fhir.Search(s.deps.Query, p)
	if err != nil {
		return err
	}
	// The links repeat the request's own parameters, _cursor aside.
	args := fasthttp.AcquireArgs()
	defer fasthttp.ReleaseArgs(args)
	ctx.QueryArgs().CopyTo(args)
	args.Del("_cursor")
	self := fhirURL(ctx, path)
	if q := args.String(); q != "" {
		self += "?" + q
	}
	if p.Cursor != "" {
		self += sep(self) + "_cursor=" + p.Cursor
	}
	next := ""
	if page.Next != "" {
		args.Set("_cursor", page.Next)
		next = fhirURL(ctx, path) + "?" + args.String()
	}
	return writeFHIR(ctx, fasthttp.StatusOK, fhir.NewBundle(fhirURL(ctx, ""), self, next, page.Resources, time.Now()))
}

func sep(u string) string {
	if strings.Contains(u, "?") {
		return "&"
	}
	return "?"
}

func (s *Server) fhirObservations(ctx *fasthttp.RequestCtx, _ []string) error {
	if err := s.fhirReadable(ctx); err != nil {
		return err
	}
	user, err := s.patientParam(ctx)
	if err != nil {
		return err
	}
	start, end, err := dateParams(ctx)
	if err != nil {
		return err
	}
	var codes []string
	for _, v := range ctx.QueryArgs().PeekMulti("code") {
		codes = append(codes, string(v))
	}
	sel := fhir.ParseCodes(codes)
	res := arg(ctx, "resolution")
	if res == "" && sel.Daily {
		res = "1day"
	}
	if _, ok := query.Resolutions[res]; res != "" && !ok {
		return invalid("resolution must be one of raw, 1min, 5min, 15min, 1hour, 1day.")
	}
	return s.fhirSearch(ctx, "/Observation", fhir.SearchParams{UserID: user, Selection: sel, Start: start, End: end, Resolution: res})
}

func (s *Server) fhirEverything(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.fhirReadable(ctx); err != nil {
		return err
	}
	user, err := s.fhirUser(a[0])
	if err != nil {
		return err
	}
	start, end := fhir.MinTime, fhir.MaxTime
	if v := arg(ctx, "start"); v != "" {
		if start, err = query.ParseTime("start", v, false); err != nil {
			return err
		}
	}
	if v := arg(ctx, "end"); v != "" {
		if end, err = query.ParseTime("end", v, true); err != nil {
			return err
		}
	}
	if !end.After(start) {
		return invalid("end must be after start.")
	}
	return s.fhirSearch(ctx, "/Patient/"+fhir.PatientID(user)+"/$everything",
		fhir.SearchParams{UserID: user, Selection: fhir.Everything(), Start: start, End: end, WithPatient: true})
}

// streamNDJSON streams a bulk file (streamBody).
func (s *Server) streamNDJSON(ctx *fasthttp.RequestCtx, write func(*fhir.Encoder) error) {
	s.streamBody(ctx, fhirNDJSON, "fhir export", func(w io.Writer) error { return write(fhir.NewEncoder(w)) })
}

// exportJobs are the bulk export jobs, in memory: a restart forgets them
// (a client kicks off again). A job's files are read from the store when
// they are fetched, so nothing of the export is written to disk.
type exportJobs struct {
	mu   sync.Mutex
	jobs map[string]*exportJob
}

// maxExportJobs bounds the jobs running at once, maxExportsKept the jobs
// kept (the oldest finished one goes first); a finished job is kept for
// exportKeep.
const (
	maxExportJobs  = 16
	maxExportsKept = 256
	exportKeep     = time.Hour
)

type exportJob struct {
	id      string
	request string
	types   []string
	since   time.Time
	created time.Time

	mu       sync.Mutex
	users    []string // the users with data, once planned
	done     bool
	finished time.Time
	planned  int
	total    int
	failed   error
	cancel   chan struct{}
}

var exportTypes = []string{"Patient", "Device", "Observation"}

func (s *Server) fhirExportAll(ctx *fasthttp.RequestCtx, _ []string) error {
	return s.fhirKickOff(ctx, "")
}

// fhirExportGroup: wearhouse keeps no groups of its own; the group "all"
// is every user.
func (s *Server) fhirExportGroup(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.fhirReadable(ctx); err != nil {
		return err
	}
	if a[0] != "all" {
		return notFound("Group/" + a[0] + " not found: the one group is Group/all, every user.")
	}
	return s.fhirKickOff(ctx, a[0])
}

// fhirKickOff starts a bulk export: Prefer: respond-async, _type (of
// Patient, Device, Observation), _since (samples at or after it),
// _outputFormat (NDJSON) and patient (ids, comma-separated: those users
// only; wearhouse's own).
func (s *Server) fhirKickOff(ctx *fasthttp.RequestCtx, _ string) error {
	if err := s.fhirReadable(ctx); err != nil {
		return err
	}
	if !strings.Contains(string(ctx.Request.Header.Peek("Prefer")), "respond-async") {
		return invalid("A bulk export needs the header Prefer: respond-async.")
	}
	switch f := arg(ctx, "_outputFormat"); f {
	case "", "application/fhir+ndjson", "application/ndjson", "ndjson":
	default:
		return invalid("_outputFormat must be application/fhir+ndjson.")
	}
	types := exportTypes
	if v := arg(ctx, "_type"); v != "" {
		types = nil
		for t := range strings.SplitSeq(v, ",") {
			if !contains(exportTypes, t) {
				return invalid("_type may list Patient, Device and Observation.")
			}
			if !contains(types, t) {
				types = append(types, t)
			}
		}
	}
	var since time.Time
	if v := arg(ctx, "_since"); v != "" {
		t, err := query.ParseTime("_since", v, false)
		if err != nil {
			return err
		}
		since = t
	}
	var users []string
	if v := arg(ctx, "patient"); v != "" {
		for id := range strings.SplitSeq(v, ",") {
			u, err := s.fhirUser(strings.TrimPrefix(id, "Patient/"))
			if err != nil {
				return err
			}
			users = append(users, u)
		}
	}
	job := &exportJob{request: fhirURL(ctx, strings.TrimPrefix(string(ctx.RequestURI()), fhirBase)),
		types: types, since: since, created: time.Now().UTC(), cancel: make(chan struct{})}
	if err := s.exports.add(job); err != nil {
		return err
	}
	go s.planExport(job, users)
	ctx.Response.Header.Set("Content-Location", fhirURL(ctx, "/bulk/"+job.id))
	ctx.SetStatusCode(fasthttp.StatusAccepted)
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (j *exportJobs) add(job *exportJob) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.jobs == nil {
		j.jobs = map[string]*exportJob{}
	}
	now := time.Now()
	running := 0
	var oldest *exportJob
	for id, old := range j.jobs {
		old.mu.Lock()
		done, finished := old.done, old.finished
		old.mu.Unlock()
		switch {
		case done && now.Sub(finished) > exportKeep:
			delete(j.jobs, id)
		case !done:
			running++
		case oldest == nil || finished.Before(oldest.finished):
			oldest = old
		}
	}
	if running >= maxExportJobs {
		return throttled("Too many bulk exports running: wait for one, or cancel one.", time.Minute)
	}
	if len(j.jobs) >= maxExportsKept && oldest != nil {
		delete(j.jobs, oldest.id)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	job.id = hex.EncodeToString(b[:])
	j.jobs[job.id] = job
	return nil
}

func (j *exportJobs) get(id string) (*exportJob, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	job, ok := j.jobs[id]
	if !ok {
		return nil, notFound("No such bulk export.")
	}
	return job, nil
}

func (j *exportJobs) remove(id string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	job, ok := j.jobs[id]
	if ok {
		close(job.cancel)
		delete(j.jobs, id)
	}
	return ok
}

// planExport lists the users of a job (every user, or those asked for)
// and keeps those that exist: a file of Observations per user, so that a
// client may fetch them in parallel and resume by file.
func (s *Server) planExport(job *exportJob, users []string) {
	if users == nil {
		page, err := s.deps.Query.Users(query.UserParams{Page: 1, Limit: 1 << 30, SortBy: "created_at", SortOrder: "asc"})
		if err != nil {
			job.finish(nil, err)
			return
		}
		for _, u := range page.Items {
			users = append(users, u.ID)
		}
	}
	job.mu.Lock()
	job.total = len(users)
	job.mu.Unlock()
	var kept []string
	for i, u := range users {
		select {
		case <-job.cancel:
			return
		default:
		}
		if _, err := s.deps.Query.User(u); err == nil {
			kept = append(kept, u)
		}
		job.mu.Lock()
		job.planned = i + 1
		job.mu.Unlock()
	}
	job.finish(kept, nil)
}

func (j *exportJob) finish(users []string, err error) {
	j.mu.Lock()
	j.users, j.failed, j.done, j.finished = users, err, true, time.Now()
	j.mu.Unlock()
}

// exportManifest is the Bulk Data output manifest.
type exportManifest struct {
	TransactionTime     string         `json:"transactionTime"`
	Request             string         `json:"request"`
	RequiresAccessToken bool           `json:"requiresAccessToken"`
	Output              []exportOutput `json:"output"`
	Error               []exportOutput `json:"error"`
}

type exportOutput struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

func (s *Server) fhirExportStatus(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.fhirReadable(ctx); err != nil {
		return err
	}
	job, err := s.exports.get(a[0])
	if err != nil {
		return err
	}
	job.mu.Lock()
	done, failed, planned, total, users := job.done, job.failed, job.planned, job.total, job.users
	job.mu.Unlock()
	if !done {
		ctx.Response.Header.Set("X-Progress", "planning: "+strconv.Itoa(planned)+" of "+strconv.Itoa(total)+" users")
		ctx.Response.Header.Set("Retry-After", "1")
		ctx.SetStatusCode(fasthttp.StatusAccepted)
		return nil
	}
	if failed != nil {
		return failed
	}
	m := exportManifest{TransactionTime: fhir.Instant(job.created), Request: job.request, RequiresAccessToken: true,
		Output: []exportOutput{}, Error: []exportOutput{}}
	base := "/bulk/" + job.id + "/"
	for _, t := range job.types {
		if t == "Observation" {
			for i := range users {
				m.Output = append(m.Output, exportOutput{Type: t, URL: fhirURL(ctx, base+"Observation-"+strconv.Itoa(i+1)+".ndjson")})
			}
			continue
		}
		m.Output = append(m.Output, exportOutput{Type: t, URL: fhirURL(ctx, base+t+".ndjson")})
	}
	ctx.Response.Header.Set("Expires", job.finished.Add(exportKeep).UTC().Format(time.RFC1123))
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	writeJSON(ctx, fasthttp.StatusOK, b)
	return nil
}

func (s *Server) fhirExportCancel(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.fhirReadable(ctx); err != nil {
		return err
	}
	if !s.exports.remove(a[0]) {
		return notFound("No such bulk export.")
	}
	ctx.SetStatusCode(fasthttp.StatusAccepted)
	return nil
}

func (s *Server) fhirExportFile(ctx *fasthttp.RequestCtx, a []string) error {
	if err := s.fhirReadable(ctx); err != nil {
		return err
	}
	job, err := s.exports.get(a[0])
	if err != nil {
		return err
	}
	job.mu.Lock()
	done, users := job.done && job.failed == nil, job.users
	job.mu.Unlock()
	if !done {
		return notFound("The export is not complete.")
	}
	name, ok := strings.CutSuffix(a[1], ".ndjson")
	if !ok {
		return notFound("No such file.")
	}
	q := s.deps.Query
	since := job.since
	switch {
	case name == "Patient" && contains(job.types, name):
		s.streamNDJSON(ctx, func(e *fhir.Encoder) error {
			for _, u := range users {
				if err := fhir.WritePatient(e, q, u); err != nil && !isNotFound(err) {
					return err
				}
			}
			return nil
		})
	case name == "Device" && contains(job.types, name):
		s.streamNDJSON(ctx, func(e *fhir.Encoder) error {
			for _, u := range users {
				if err := fhir.WriteDevices(e, q, u); err != nil {
					return err
				}
			}
			return nil
		})
	case strings.HasPrefix(name, "Observation-") && contains(job.types, "Observation"):
		n, err := strconv.Atoi(strings.TrimPrefix(name, "Observation-"))
		if err != nil || n < 1 || n > len(users) {
			return notFound("No such file.")
		}
		u := users[n-1]
		s.streamNDJSON(ctx, func(e *fhir.Encoder) error {
			return fhir.WriteObservations(e, q, u, fhir.ExportParams{Since: since})
		})
	default:
		return notFound("No such file.")
	}
	return nil
}

func isNotFound(err error) bool { return answerOf(err).status == fasthttp.StatusNotFound }
