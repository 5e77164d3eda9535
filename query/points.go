package query

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"

	"wearhouse/health"
	"wearhouse/pebblestore"
)

// Point is one stored sample of a series, or one bucket of an aggregated
// resolution, with the ids an export names it by: the series and the data
// source, which never change for a stored sample. It is what the FHIR
// mapping reads; the JSON read routes use Sample.
type Point struct {
	Series     health.Series // Code and Unit are set for unmapped series too
	Start, End time.Time     // End is Start for an instant; the bucket's end for a bucket
	Zone       string        // "+HH:MM" or empty
	Value      float64
	// Paired is the value of the paired series (PointParams.Pairs) at the
	// same time from the same source, when there is one.
	Paired *float64
	// SourceID is the data source's id, as DataSources lists it.
	SourceID string
	Source   *SourceMetadata
	// Count is the samples of a bucket (0 for a raw sample).
	Count int

	sid uint32
}

// PointParams select the points of Points.
type PointParams struct {
	Start, End time.Time // half-open window
	Types      []string  // series codes; empty means every series of the user
	Resolution string    // raw (default), or one of Resolutions
	// Pairs maps a series code to a second one whose point at the same
	// time and source is given with it (Point.Paired) rather than on its
	// own: blood pressure's systolic and diastolic. A point of the second
	// series without its first comes on its own.
	Pairs map[string]string
	// After is the cursor of the last point of the previous page (Point's
	// Cursor): the points after it.
	After string
}

// pointChunk is how many points of a series are read at a time, so that
// no iterator stays open while the caller writes.
const pointChunk = 4096

// Points hands the user's points to fn in series order (by series id),
// then time, then data source, until fn returns false. The points are
// read a chunk at a time: memory does not grow with the window. An
// unknown user has no points. The *Point is valid only during the call.
func (q *Service) Points(userID string, p PointParams, fn func(*Point) bool) error {
	width, ok := Resolutions[p.Resolution]
	if p.Resolution == "" {
		ok = true
	}
	if !ok {
		return badf("resolution must be one of raw, 1min, 5min, 15min, 1hour, 1day.")
	}
	if !p.End.After(p.Start) {
		return badf("the end of the window must be after its start.")
	}
	u, known, err := q.lookup(userID)
	if err != nil || !known {
		return err
	}
	iid := u.IID
	var series []uint16
	if len(p.Types) == 0 {
		if series, err = q.store.UserSeries(iid); err != nil {
			return err
		}
	} else {
		for _, code := range p.Types {
			if id, ok := q.seriesID(iid, code); ok && !slices.Contains(series, id) {
				series = append(series, id)
			}
		}
	}
	pairs := map[uint16]uint16{}
	paired := map[uint16]uint16{} // second -> first
	for a, b := range p.Pairs {
		ia, ok1 := q.seriesID(iid, a)
		ib, ok2 := q.seriesID(iid, b)
		if ok1 && ok2 {
			pairs[ia], paired[ib] = ib, ia
		}
	}
	slices.Sort(series)
	cur, hasCur, err := decodePointCursor(p.After)
	if err != nil {
		return err
	}
	from, to := p.Start.UnixMicro(), p.End.UnixMicro()
	for _, id := range series {
		if hasCur && id < cur.series {
			continue
		}
		s := q.seriesOf(iid, id)
		var c *pointCursor
		if hasCur && id == cur.series {
			c = &cur
		}
		var goOn bool
		if width == 0 {
			goOn, err = q.rawPoints(iid, s, from, to, c, pairs, paired, fn)
		} else {
			goOn, err = q.bucketPoints(iid, s, from, to, width, c, fn)
		}
		if err != nil || !goOn {
			return err
		}
	}
	return nil
}

// seriesOf is a series of the user, mapped or not.
func (q *Service) seriesOf(iid uint32, id uint16) health.Series {
	if s, ok := health.SeriesByID(id); ok {
		return s
	}
	code, unit, agg := q.seriesInfo(iid, id)
	return health.Series{ID: id, Code: code, Unit: unit, Agg: agg}
}

// pointCursor is a place in Points' order.
type pointCursor struct {
	series uint16
	at     int64
	sid    uint32
}

// after reports whether a point at (at, sid) of the cursor's series comes
// after the cursor.
func (c *pointCursor) after(at int64, sid uint32) bool {
	return c == nil || at > c.at || at == c.at && sid > c.sid
}

// Cursor is the place of the point, for PointParams.After.
func (p *Point) Cursor() string {
	s := strconv.Itoa(int(p.Series.ID)) + "." + strconv.FormatInt(p.Start.UnixMicro(), 10) + "." +
		strconv.FormatUint(uint64(p.sid), 10)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

func decodePointCursor(c string) (pointCursor, bool, error) {
	if c == "" {
		return pointCursor{}, false, nil
	}
	bad := badf("Invalid cursor: '%s'.", c)
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return pointCursor{}, false, bad
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 {
		return pointCursor{}, false, bad
	}
	s, err1 := strconv.ParseUint(parts[0], 10, 16)
	at, err2 := strconv.ParseInt(parts[1], 10, 64)
	sid, err3 := strconv.ParseUint(parts[2], 10, 32)
	if err1 != nil || err2 != nil || err3 != nil {
		return pointCursor{}, false, bad
	}
	return pointCursor{series: uint16(s), at: at, sid: uint32(sid)}, true, nil
}

// chunk reads up to pointChunk points of a series from from, and then
// every point at the same time as the last, so that a chunk never splits
// a time; next is where the next chunk starts, when more says there is one.
func (q *Service) chunk(iid uint32, series uint16, from, to int64, buf []pebblestore.SourcedPoint) (
	out []pebblestore.SourcedPoint, next int64, more bool, err error) {
	buf = buf[:0]
	var last int64
	err = q.store.SeriesRange(iid, series, from, to, func(sp *pebblestore.SourcedPoint) bool {
		if len(buf) >= pointChunk && sp.Start != last {
			more = true
			return false
		}
		sp.Meta, sp.ExtID, sp.ParentID = nil, "", ""
		buf = append(buf, *sp)
		last = sp.Start
		return true
	})
	return buf, last + 1, more, err
}

type pairKey struct {
	at  int64
	sid uint32
}

func (q *Service) rawPoints(iid uint32, s health.Series, from, to int64, c *pointCursor,
	pairs, paired map[uint16]uint16, fn func(*Point) bool) (bool, error) {
	if c != nil {
		from = max(from, c.at)
	}
	var (
		buf, other []pebblestore.SourcedPoint
		pt         Point
		lastSID    uint32
		haveSrc    bool
		err        error
	)
	second, isFirst := pairs[s.ID]
	first, isSecond := paired[s.ID]
	for {
		var (
			next int64
			more bool
		)
		buf, next, more, err = q.chunk(iid, s.ID, from, to, buf)
		if err != nil {
			return false, err
		}
		// The other series of a pair over the chunk's times.
		var companion map[pairKey]float64
		if (isFirst || isSecond) && len(buf) > 0 {
			id := second
			if isSecond {
				id = first
			}
			companion = map[pairKey]float64{}
			lo, hi := buf[0].Start, buf[len(buf)-1].Start+1
			for more := true; more; {
				other, lo, more, err = q.chunk(iid, id, lo, hi, other)
				if err != nil {
					return false, err
				}
				for i := range other {
					companion[pairKey{other[i].Start, other[i].SID}] = other[i].Value
				}
			}
		}
		for i := range buf {
			sp := &buf[i]
			if !c.after(sp.Start, sp.SID) {
				continue
			}
			var pv *float64
			if v, ok := companion[pairKey{sp.Start, sp.SID}]; ok {
				if isSecond {
					continue // given with its first
				}
				pv = &v
			}
			if !haveSrc || sp.SID != lastSID {
				src, err := q.source(sp.SID)
				if err != nil {
					return false, err
				}
				pt.Source, pt.SourceID, lastSID, haveSrc = src, hexID(uint64(sp.SID)), sp.SID, true
			}
			pt.Series, pt.Zone, pt.Value, pt.Paired, pt.Count, pt.sid = s, sp.Zone, sp.Value, pv, 0, sp.SID
			pt.Start = fromMicro(sp.Start)
			pt.End = pt.Start
			if sp.End > sp.Start {
				pt.End = fromMicro(sp.End)
			}
			if !fn(&pt) {
				return false, nil
			}
		}
		if !more {
			return true, nil
		}
		from = next
	}
}

// bucketPoints hands over the buckets of one series, in time then source
// order. The buckets of the window are held at once: one per bucket and
// source, which the resolution bounds.
func (q *Service) bucketPoints(iid uint32, s health.Series, from, to int64, width time.Duration, c *pointCursor,
	fn func(*Point) bool) (bool, error) {
	all, err := q.buckets(iid, s.ID, s.Code, s.Unit, s.Agg, from, to, width)
	if err != nil {
		return false, err
	}
	slices.SortFunc(all, func(a, b Sample) int {
		if d := a.Timestamp.Compare(b.Timestamp); d != 0 {
			return d
		}
		return int(a.sid) - int(b.sid)
	})
	var pt Point
	for i := range all {
		b := &all[i]
		if !c.after(b.Timestamp.UnixMicro(), b.sid) {
			continue
		}
		pt = Point{Series: s, Start: b.Timestamp, End: b.Timestamp.Add(width), Value: b.Value, Source: b.Source,
			SourceID: hexID(uint64(b.sid)), Count: b.Count, sid: b.sid}
		if b.ZoneOffset != nil {
			pt.Zone = *b.ZoneOffset
		}
		if !fn(&pt) {
			return false, nil
		}
	}
	return true, nil
}
