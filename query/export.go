package query

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"sort"
	"strconv"
	"time"

	"wearhouse/pebblestore"
)

// ErrNoRoute is a workout that exists but has no route point with valid
// coordinates (404).
var ErrNoRoute = errors.New("query: workout has no route")

// The GPX 1.1 namespace and schema.
const (
	gpxNamespace = "http://www.topografix.com/GPX/1/1"
	gpxSchema    = "http://www.topografix.com/GPX/1/1/gpx.xsd"
	xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"
)

// gpxFile is a GPX 1.1 document with one track. Field order is the schema's
// element order: metadata before trk; in trk name, desc, type, trkseg; in
// a point ele before time.
type gpxFile struct {
	XMLName        xml.Name    `xml:"http://www.topografix.com/GPX/1/1 gpx"`
	Version        string      `xml:"version,attr"`
	Creator        string      `xml:"creator,attr"`
	XSI            string      `xml:"xmlns:xsi,attr"`
	SchemaLocation string      `xml:"xsi:schemaLocation,attr"`
	Metadata       gpxMetadata `xml:"metadata"`
	Track          gpxTrack    `xml:"trk"`
}

type gpxMetadata struct {
	Name   string    `xml:"name"`
	Bounds gpxBounds `xml:"bounds"`
}

type gpxBounds struct {
	MinLat string `xml:"minlat,attr"`
	MinLon string `xml:"minlon,attr"`
	MaxLat string `xml:"maxlat,attr"`
	MaxLon string `xml:"maxlon,attr"`
}

type gpxTrack struct {
	Name    string     `xml:"name"`
	Desc    string     `xml:"desc,omitempty"`
	Type    string     `xml:"type"`
	Segment gpxSegment `xml:"trkseg"`
}

type gpxSegment struct {
	Points []gpxPoint `xml:"trkpt"`
}

type gpxPoint struct {
	Lat  string `xml:"lat,attr"`
	Lon  string `xml:"lon,attr"`
	Ele  string `xml:"ele,omitempty"`
	Time string `xml:"time,omitempty"`
}

// routePoint is a route point as the SDKs send it. Pointers tell a missing
// or null member from zero.
type routePoint struct {
	Timestamp *string  `json:"timestamp"`
	Latitude  *float64 `json:"latitude"`
	Longitude *float64 `json:"longitude"`
	AltitudeM *float64 `json:"altitudeM"`
}

// decimal formats a coordinate or an elevation as xsd:decimal, which has
// no exponent form.
func decimal(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// WorkoutGPX answers GET /users/{id}/events/workouts/{workout_id}/route.gpx:
// the workout's route as a GPX 1.1 document with one track of one segment.
// Points without a latitude in [-90, 90] and a longitude in [-180, 180]
// are skipped; points are in time order, and a point without a readable
// timestamp keeps its place after the point sent before it, without a
// time. ErrNotFound for no such workout, ErrNoRoute when no point is left.
func (q *Service) WorkoutGPX(userID, id string) ([]byte, error) {
	iid, ref, rec, err := q.storedWorkout(userID, id)
	if err != nil {
		return nil, err
	}
	raw, err := q.store.WorkoutPart(iid, ref, pebblestore.PartRoute)
	if errors.Is(err, pebblestore.ErrNotFound) {
		return nil, ErrNoRoute
	}
	if err != nil {
		return nil, err
	}
	type timed struct {
		pt  gpxPoint
		at  time.Time // ordering key
		lat float64
		lon float64
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, ErrNoRoute
	}
	pts := make([]timed, 0, len(items))
	last := fromMicro(ref.Start)
	for _, item := range items {
		var rp routePoint
		if json.Unmarshal(item, &rp) != nil || rp.Latitude == nil || rp.Longitude == nil {
			continue
		}
		lat, lon := *rp.Latitude, *rp.Longitude
		if !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
			continue
		}
		p := timed{pt: gpxPoint{Lat: decimal(lat), Lon: decimal(lon)}, at: last, lat: lat, lon: lon}
		if rp.AltitudeM != nil {
			p.pt.Ele = decimal(*rp.AltitudeM)
		}
		if rp.Timestamp != nil {
			if t, err := ParseTime("timestamp", *rp.Timestamp, false); err == nil {
				p.at, last = t, t
				p.pt.Time = t.Format(time.RFC3339Nano)
			}
		}
		pts = append(pts, p)
	}
	if len(pts) == 0 {
		return nil, ErrNoRoute
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].at.Before(pts[j].at) })

	typ := rec.Type
	if typ == "" {
		typ = "unknown"
	}
	name := typ + " " + fromMicro(ref.Start).Format(time.RFC3339)
	doc := gpxFile{
		Version: "1.1", Creator: "wearhouse", XSI: xsiNamespace, SchemaLocation: gpxNamespace + " " + gpxSchema,
		Metadata: gpxMetadata{Name: name},
		Track:    gpxTrack{Name: name, Desc: rec.Title, Type: typ},
	}
	minLat, maxLat, minLon, maxLon := pts[0].lat, pts[0].lat, pts[0].lon, pts[0].lon
	doc.Track.Segment.Points = make([]gpxPoint, len(pts))
	for i, p := range pts {
		doc.Track.Segment.Points[i] = p.pt
		minLat, maxLat = min(minLat, p.lat), max(maxLat, p.lat)
		minLon, maxLon = min(minLon, p.lon), max(maxLon, p.lon)
	}
	doc.Metadata.Bounds = gpxBounds{MinLat: decimal(minLat), MinLon: decimal(minLon), MaxLat: decimal(maxLat), MaxLon: decimal(maxLon)}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// CSVHeader is the header row of the time series CSV.
var CSVHeader = []string{"timestamp", "type", "value", "unit", "zone_offset", "provider", "source", "device"}

// CSVParams are the parameters of GET /users/{id}/timeseries.csv.
type CSVParams struct {
	Start, End time.Time // half-open window
	Types      []string  // series codes; empty means every series of the user
}

// csvChunk is how many points of one series are read at a time: the
// export holds at most one chunk per series, however long the window.
const csvChunk = 2048

// TimeseriesCSV checks the parameters of a time series export and returns
// the function that writes it: a header row, then one row per stored point
// in the window, ordered by time, then series, then data source, as the
// timeseries route. The function reads the store in chunks as it writes,
// so a long window is never held whole; it stops at the first write error.
// It uses nothing of the caller's after TimeseriesCSV returns. An unknown
// user's export is the header row alone.
func (q *Service) TimeseriesCSV(userID string, p CSVParams) (func(io.Writer) error, error) {
	if !p.End.After(p.Start) {
		return nil, badf("end_time must be after start_time.")
	}
	u, known, err := q.lookup(userID)
	if err != nil {
		return nil, err
	}
	var iid uint32
	var series []uint16
	if known {
		iid = u.IID
		if len(p.Types) == 0 {
			all, err := q.store.UserSeries(iid)
			if err != nil {
				return nil, err
			}
			series = all
		} else {
			seen := map[uint16]bool{}
			for _, code := range p.Types {
				if id, ok := q.seriesID(iid, code); ok && !seen[id] {
					seen[id] = true
					series = append(series, id)
				}
			}
		}
	}
	from, to := p.Start.UnixMicro(), p.End.UnixMicro()
	return func(w io.Writer) error {
		return q.writeCSV(w, iid, series, from, to)
	}, nil
}

// csvCursor walks one series of an export a chunk at a time.
type csvCursor struct {
	id         uint16
	code, unit string
	buf        []pebblestore.SourcedPoint
	pos        int
	next       int64 // where the next chunk starts
	done       bool  // no chunk after buf
}

// fill reads the next chunk, up to csvChunk points and then every point
// at the same time as the last, so that a chunk never splits a time.
func (c *csvCursor) fill(q *Service, iid uint32, to int64) error {
	c.buf, c.pos = c.buf[:0], 0
	if c.done {
		return nil
	}
	var last int64
	more := false
	err := q.store.SeriesRange(iid, c.id, c.next, to, func(sp *pebblestore.SourcedPoint) bool {
		if len(c.buf) >= csvChunk && sp.Start != last {
			more = true
			return false
		}
		c.buf = append(c.buf, *sp)
		last = sp.Start
		return true
	})
	c.next, c.done = last+1, !more
	return err
}

func (c *csvCursor) head() *pebblestore.SourcedPoint {
	if c.pos < len(c.buf) {
		return &c.buf[c.pos]
	}
	return nil
}

func (q *Service) writeCSV(w io.Writer, iid uint32, series []uint16, from, to int64) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	cursors := make([]*csvCursor, 0, len(series))
	for _, id := range series {
		c := &csvCursor{id: id, next: from, buf: make([]pebblestore.SourcedPoint, 0, csvChunk)}
		c.code, c.unit, _ = q.seriesInfo(iid, id)
		if err := c.fill(q, iid, to); err != nil {
			return err
		}
		if c.head() != nil {
			cursors = append(cursors, c)
		}
	}
	var (
		rec     = make([]string, len(CSVHeader))
		lastSID uint32
		lastSrc *SourceMetadata
		lastAt  int64
		rows    int
	)
	for len(cursors) > 0 {
		// The cursor with the earliest head; ties go to the lower series,
		// then the lower data source.
		best := 0
		for i := 1; i < len(cursors); i++ {
			a, b := cursors[i].head(), cursors[best].head()
			if a.Start < b.Start || a.Start == b.Start && (cursors[i].id < cursors[best].id ||
				cursors[i].id == cursors[best].id && a.SID < b.SID) {
				best = i
			}
		}
		c := cursors[best]
		sp := c.head()
		if lastSrc == nil || sp.SID != lastSID {
			src, err := q.source(sp.SID)
			if err != nil {
				return err
			}
			lastSID, lastSrc = sp.SID, src
		}
		if rows == 0 || sp.Start != lastAt {
			lastAt, rec[0] = sp.Start, fromMicro(sp.Start).Format(time.RFC3339Nano)
		}
		rec[1] = c.code
		rec[2] = strconv.FormatFloat(sp.Value, 'f', -1, 64)
		rec[3] = c.unit
		rec[4] = sp.Zone
		rec[5] = lastSrc.Provider
		rec[6] = orEmpty(lastSrc.Source)
		rec[7] = orEmpty(lastSrc.Device)
		if err := cw.Write(rec); err != nil {
			return err
		}
		rows++
		c.pos++
		if c.head() == nil {
			if err := c.fill(q, iid, to); err != nil {
				return err
			}
			if c.head() == nil {
				cursors = append(cursors[:best], cursors[best+1:]...)
			}
		}
		if rows%csvChunk == 0 {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
