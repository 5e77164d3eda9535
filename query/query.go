// Package query is wearhouse's read path: users, connections and data
// sources; time series with resolution; workouts with their details; sleep
// sessions built from stored stages; daily summaries, one file per kind
// (summaries_*.go); Open Wearables' sleep and resilience scores, computed
// at read time (scores.go); GPX and CSV exports; the coverage table; the
// sync status runs (runs.go) and SDK logs; and their pagination cursors.
// It reads through pebblestore's iterators and returns values shaped like
// Open Wearables' read API, ready to encode. The rules of the summaries and
// scores are health's: query reads and assembles.
//
// Each data read takes the user by the id clients know it by and resolves
// it itself (lookup): an unknown user reads as a user without data (an
// empty page), or as ErrNotFound where one thing is asked for by its id
// (a workout, its route). Internal user ids never leave query.
package query

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"wearhouse/health"
	"wearhouse/pebblestore"
)

// Error is bad input of a read: the HTTP layer answers 400 with Detail.
type Error struct{ Detail string }

func (e *Error) Error() string { return e.Detail }

func badf(format string, args ...any) error { return &Error{Detail: fmt.Sprintf(format, args...)} }

// ErrNotFound is a resource that does not exist (404).
var ErrNotFound = errors.New("query: not found")

// Service answers reads.
type Service struct {
	store   *pebblestore.Store
	sources sourceCache
}

// New returns the read service over a store.
func New(store *pebblestore.Store) *Service {
	return &Service{store: store, sources: sourceCache{m: map[uint32]*SourceMetadata{}}}
}

// Pagination is the pagination block of a paginated answer.
type Pagination struct {
	NextCursor     *string `json:"next_cursor"`
	PreviousCursor *string `json:"previous_cursor"`
	HasMore        bool    `json:"has_more"`
	TotalCount     *int    `json:"total_count"`
}

// Metadata is the metadata block of a paginated answer.
type Metadata struct {
	Resolution  *string    `json:"resolution"`
	SampleCount int        `json:"sample_count"`
	StartTime   *time.Time `json:"start_time"`
	EndTime     *time.Time `json:"end_time"`
}

// Page is Open Wearables' PaginatedResponse.
type Page[T any] struct {
	Data       []T        `json:"data"`
	Pagination Pagination `json:"pagination"`
	Metadata   Metadata   `json:"metadata"`
}

// emptyPage is the answer of a window [start, end) before anything is
// read: no data, a total count of 0.
func emptyPage[T any](start, end time.Time) *Page[T] {
	total := 0
	page := &Page[T]{Data: []T{}}
	page.Metadata.StartTime, page.Metadata.EndTime = &start, &end
	page.Pagination.TotalCount = &total
	return page
}

// SourceMetadata says where a value came from.
type SourceMetadata struct {
	Provider   string  `json:"provider"`
	Source     *string `json:"source"`
	Device     *string `json:"device"`
	DeviceType *string `json:"device_type"`
	DeviceName *string `json:"device_name"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// The first and last second of the years 0 to 9999, in Unix seconds.
const (
	minUnixSeconds = -62167219200
	maxUnixSeconds = 253402300799
)

// ParseTime reads a time query parameter: RFC 3339, a date (YYYY-MM-DD,
// midnight UTC), or Unix seconds. endOfDay moves a bare date to the end of
// that day, for the end of a half-open window.
func ParseTime(name, v string, endOfDay bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, badf("%s is required.", name)
	}
	// Unix seconds count only within the years 0 to 9999, those the other
	// forms can name: further out (or NaN, or infinite) they would overflow
	// the store's microseconds instead of naming a time.
	if f, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "eE") &&
		f >= minUnixSeconds && f < maxUnixSeconds+1 {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, strings.Replace(v, " ", "+", 1)); err == nil {
			return t.UTC(), nil
		}
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	return time.Time{}, badf("Invalid datetime format: '%s'. Expected ISO 8601 format or Unix timestamp.", v)
}

// encodeCursor and decodeCursor make the keyset cursors: URL-safe base64 of
// "<timestamp>|<id>", as Open Wearables.
func encodeCursor(t time.Time, id string) *string {
	c := base64.RawURLEncoding.EncodeToString([]byte(t.UTC().Format(time.RFC3339Nano) + "|" + id))
	return &c
}

func decodeCursor(c string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(c, "="))
	if err != nil {
		return time.Time{}, "", badf("Invalid cursor format: '%s'. Expected 'timestamp|id'.", c)
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if !ok || err != nil {
		return time.Time{}, "", badf("Invalid cursor format: '%s'. Expected 'timestamp|id'.", c)
	}
	return t, id, nil
}

// pageNewestFirst fills page with one page of all, which is sorted newest
// first (start descending, then id descending): the entries after the
// cursor, at most limit of them, and the cursor of the next page.
func pageNewestFirst[T any](page *Page[T], all []T, cursor string, limit int, key func(*T) (time.Time, string)) error {
	*page.Pagination.TotalCount = len(all)
	if cursor != "" {
		curT, curID, err := decodeCursor(cursor)
		if err != nil {
			return err
		}
		i := sort.Search(len(all), func(i int) bool {
			t, id := key(&all[i])
			return t.Before(curT) || (t.Equal(curT) && id < curID)
		})
		all = all[i:]
		page.Pagination.PreviousCursor = &cursor
	}
	if len(all) > limit {
		all = all[:limit]
		page.Pagination.HasMore = true
		page.Pagination.NextCursor = encodeCursor(key(&all[len(all)-1]))
	}
	if all == nil {
		all = []T{} // an empty page lists [], not null
	}
	page.Data = all
	page.Metadata.SampleCount = len(all)
	return nil
}

// source returns the metadata of a data source. A source's metadata is
// never rewritten and its id never reused (an erased source is not read
// again), so it is cached.
//
// A read of the record that fails is the request's error. A record that
// is not there reads as provider "unknown", not as an error, for a stored
// point can name a source without one: DeleteProviderData deletes a
// provider's sources with its points while a read may still be iterating
// over those points, and the compactor's dictionary cache keeps handing
// out the id of a source so erased to the provider's next points.
func (q *Service) source(sid uint32) (*SourceMetadata, error) {
	if m, ok := q.sources.get(sid); ok {
		return m, nil
	}
	r, err := q.store.Source(sid)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return &SourceMetadata{Provider: "unknown"}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("query: data source %d: %w", sid, err)
	}
	m := &SourceMetadata{Provider: r.Provider, Source: strPtr(r.SourceName), Device: strPtr(r.DeviceModel),
		DeviceType: strPtr(r.DeviceType), DeviceName: strPtr(r.DeviceModel)}
	if m.DeviceType != nil && *m.DeviceType == "unknown" {
		m.DeviceType = nil
	}
	q.sources.put(sid, m)
	return m, nil
}

// seriesInfo resolves a series id of a user to its code and unit, for
// mapped and unmapped (stored under their own type, with ids of the user's
// own) series.
func (q *Service) seriesInfo(iid uint32, id uint16) (code, unit string, agg health.Aggregation) {
	if s, ok := health.SeriesByID(id); ok {
		return s.Code, s.Unit, s.Agg
	}
	t, u, err := q.store.CustomSeries(iid, id)
	if err != nil {
		return strconv.Itoa(int(id)), "", health.AggAvg
	}
	return t, u, health.AggAvg
}

// seriesID resolves a series code (or the type string of one of the
// user's unmapped series).
func (q *Service) seriesID(iid uint32, code string) (uint16, bool) {
	if s, ok := health.SeriesByCode(code); ok {
		return s.ID, true
	}
	if id, err := q.store.CustomSeriesID(iid, code); err == nil {
		return id, true
	}
	return 0, false
}

func hexID(parts ...uint64) string {
	var b []byte
	for _, p := range parts {
		b = append(b, byte(p>>56), byte(p>>48), byte(p>>40), byte(p>>32), byte(p>>24), byte(p>>16), byte(p>>8), byte(p))
	}
	return hex.EncodeToString(b)
}

func fromMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }
