package fhir

import (
	"encoding/json"
	"io"
	"strings"
	"time"

	"wearhouse/query"
)

// Reader is what the FHIR answers read: query.Service is one.
type Reader interface {
	User(id string) (query.UserRead, error)
	DataSources(userID string) (*query.DataSourceList, error)
	Points(userID string, p query.PointParams, fn func(*query.Point) bool) error
	Sleep(userID string, p query.SleepParams) (*query.Page[query.SleepSession], error)
}

var _ Reader = (*query.Service)(nil)

// The widest window: every sample wearhouse can store.
var (
	MinTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
)

// SearchParams are an Observation search of one user.
type SearchParams struct {
	UserID     string
	Selection  Selection
	Start, End time.Time // half-open window
	Resolution string    // "" or raw: samples; else buckets of query.Resolutions
	Count      int       // entries per page
	Cursor     string    // Next of the previous page
	// WithPatient puts the Patient and its Devices first ($everything's
	// first page).
	WithPatient bool
}

// Page is one page of a search: its resources and the cursor of the next
// page, empty on the last.
type Page struct {
	Resources []any
	Next      string
}

// sleepPage is how many sessions a search reads at a time.
const sleepPage = 100

// Search reads one page of Observations (and, with WithPatient, the
// Patient and Devices before them): the samples series by series, then
// the sleep sessions newest first. Its cursor is "p" and a point's
// cursor, or "s" and a sleep page's cursor.
func Search(r Reader, p SearchParams) (*Page, error) {
	page := &Page{}
	if p.WithPatient && p.Cursor == "" {
		u, err := r.User(p.UserID)
		if err != nil {
			return nil, err
		}
		page.Resources = append(page.Resources, NewPatient(&u))
		ds, err := r.DataSources(p.UserID)
		if err != nil {
			return nil, err
		}
		for i := range ds.Items {
			page.Resources = append(page.Resources, NewDevice(p.UserID, &ds.Items[i]))
		}
	}
	m := NewMapper(p.UserID)
	inSleep := strings.HasPrefix(p.Cursor, "s")
	want := p.Count
	if !inSleep && (len(p.Selection.Series) > 0 || p.Selection.tokens == nil) {
		after := strings.TrimPrefix(p.Cursor, "p")
		var last string
		n := 0
		daily := p.Selection.Daily || p.Resolution == "1day"
		err := r.Points(p.UserID, query.PointParams{Start: p.Start, End: p.End, Types: p.Selection.Series,
			Resolution: p.Resolution, Pairs: p.Selection.Pairs, After: after}, func(pt *query.Point) bool {
			o := m.Point(pt, daily)
			if !p.Selection.Matches(o) {
				return true
			}
			if n == want {
				page.Next = "p" + last
				return false
			}
			page.Resources = append(page.Resources, o)
			n++
			last = pt.Cursor()
			return true
		})
		if err != nil || page.Next != "" {
			return page, err
		}
		want -= n
	}
	if !p.Selection.Sleep || p.Resolution != "" && p.Resolution != "raw" {
		return page, nil
	}
	cursor := ""
	if inSleep {
		cursor = p.Cursor[1:]
	}
	for {
		if want == 0 {
			// The page is full: is there a session after it?
			sp, err := r.Sleep(p.UserID, query.SleepParams{Start: p.Start, End: p.End, Cursor: cursor, Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(sp.Data) > 0 {
				page.Next = "s" + cursor
			}
			return page, nil
		}
		sp, err := r.Sleep(p.UserID, query.SleepParams{Start: p.Start, End: p.End, Cursor: cursor, Limit: min(want, sleepPage)})
		if err != nil {
			return nil, err
		}
		for i := range sp.Data {
			o := m.Sleep(&sp.Data[i])
			if p.Selection.Matches(o) {
				page.Resources = append(page.Resources, o)
				want--
			}
		}
		if !sp.Pagination.HasMore || sp.Pagination.NextCursor == nil {
			return page, nil
		}
		cursor = *sp.Pagination.NextCursor
	}
}

// Link is a link of a Bundle.
type Link struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// Entry is an entry of a Bundle.
type Entry struct {
	FullURL  string      `json:"fullUrl"`
	Resource any         `json:"resource"`
	Search   *EntryMatch `json:"search,omitempty"`
}

// EntryMatch says why an entry is in a searchset.
type EntryMatch struct {
	Mode string `json:"mode"`
}

// Bundle is a FHIR R4 Bundle of type searchset.
type Bundle struct {
	ResourceType string  `json:"resourceType"`
	Type         string  `json:"type"`
	Timestamp    string  `json:"timestamp"`
	Link         []Link  `json:"link"`
	Entry        []Entry `json:"entry,omitempty"`
}

// NewBundle makes the searchset of a page: base is the server's FHIR base
// URL (for fullUrl), self the URL of this page, next that of the next
// page, or empty.
func NewBundle(base, self, next string, resources []any, now time.Time) *Bundle {
	b := &Bundle{ResourceType: "Bundle", Type: "searchset", Timestamp: Instant(now),
		Link: []Link{{Relation: "self", URL: self}}, Entry: make([]Entry, 0, len(resources))}
	if next != "" {
		b.Link = append(b.Link, Link{Relation: "next", URL: next})
	}
	for _, r := range resources {
		b.Entry = append(b.Entry, Entry{FullURL: base + "/" + resourcePath(r), Resource: r, Search: &EntryMatch{Mode: "match"}})
	}
	return b
}

func resourcePath(r any) string {
	switch v := r.(type) {
	case *Patient:
		return "Patient/" + v.ID
	case *Device:
		return "Device/" + v.ID
	case *Observation:
		return "Observation/" + v.ID
	}
	return ""
}

// Encoder writes resources as NDJSON: one resource a line. It is not
// safe for concurrent use.
type Encoder struct{ enc *json.Encoder }

// NewEncoder writes to w.
func NewEncoder(w io.Writer) *Encoder {
	e := json.NewEncoder(w)
	e.SetEscapeHTML(false)
	return &Encoder{enc: e}
}

// Encode writes one resource and its newline.
func (e *Encoder) Encode(r any) error { return e.enc.Encode(r) }

// ExportParams select what a bulk export file holds.
type ExportParams struct {
	Since time.Time // samples at or after it; zero for all
}

// WritePatient writes a user's Patient line.
func WritePatient(e *Encoder, r Reader, userID string) error {
	u, err := r.User(userID)
	if err != nil {
		return err
	}
	return e.Encode(NewPatient(&u))
}

// WriteDevices writes a line per data source of a user.
func WriteDevices(e *Encoder, r Reader, userID string) error {
	ds, err := r.DataSources(userID)
	if err != nil {
		return err
	}
	for i := range ds.Items {
		if err := e.Encode(NewDevice(userID, &ds.Items[i])); err != nil {
			return err
		}
	}
	return nil
}

// WriteObservations writes a line per sample of a user, series by series,
// then one per sleep session. The samples are read a chunk at a time as
// they are written, so memory does not grow with the data; the first
// write error ends it.
func WriteObservations(e *Encoder, r Reader, userID string, p ExportParams) error {
	start := MinTime
	if !p.Since.IsZero() {
		start = p.Since
	}
	m := NewMapper(userID)
	var werr error
	err := r.Points(userID, query.PointParams{Start: start, End: MaxTime, Pairs: bpPairs}, func(pt *query.Point) bool {
		werr = e.Encode(m.Point(pt, false))
		return werr == nil
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	cursor := ""
	for {
		sp, err := r.Sleep(userID, query.SleepParams{Start: start, End: MaxTime, Cursor: cursor, Limit: sleepPage})
		if err != nil {
			return err
		}
		for i := range sp.Data {
			if err := e.Encode(m.Sleep(&sp.Data[i])); err != nil {
				return err
			}
		}
		if !sp.Pagination.HasMore || sp.Pagination.NextCursor == nil {
			return nil
		}
		cursor = *sp.Pagination.NextCursor
	}
}
