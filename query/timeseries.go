package query

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"wearhouse/health"
	"wearhouse/pebblestore"
)

// Resolutions of the timeseries route and their bucket widths; raw is 0.
var Resolutions = map[string]time.Duration{
	"raw": 0, "1min": time.Minute, "5min": 5 * time.Minute, "15min": 15 * time.Minute, "1hour": time.Hour,
	// 1day (UTC days) is wearhouse's own: a year's trend in 365 buckets.
	"1day": 24 * time.Hour,
}

// TimeseriesParams are the parameters of GET /users/{id}/timeseries.
type TimeseriesParams struct {
	Start, End time.Time // half-open window
	Types      []string  // series codes; empty means every series of the user
	Resolution string    // raw (default), 1min, 5min, 15min, 1hour, 1day
	Cursor     string
	Limit      int
}

// Sample is one time series sample, or one bucket of an aggregated
// resolution (then Min, Max and Count are set).
type Sample struct {
	Timestamp    time.Time       `json:"timestamp"`
	ZoneOffset   *string         `json:"zone_offset"`
	Type         string          `json:"type"`
	Value        float64         `json:"value"`
	Unit         string          `json:"unit"`
	Source       *SourceMetadata `json:"source"`
	IsDailyTotal *bool           `json:"is_daily_total"`
	Min          *float64        `json:"min,omitempty"`
	Max          *float64        `json:"max,omitempty"`
	Count        int             `json:"sample_count,omitempty"`

	series uint16
	sid    uint32
}

func (s *Sample) id() string {
	return strconv.Itoa(int(s.series)) + ":" + strconv.FormatUint(uint64(s.sid), 10)
}

// less orders samples by (timestamp, series, data source), the cursor order.
func less(at time.Time, series uint16, sid uint32, bt time.Time, bseries uint16, bsid uint32) bool {
	if !at.Equal(bt) {
		return at.Before(bt)
	}
	if series != bseries {
		return series < bseries
	}
	return sid < bsid
}

// Timeseries answers GET /users/{id}/timeseries; an unknown user has an
// empty page. With an aggregated resolution each bucket is per (series,
// data source): the sum for summed series such as steps and energy, the
// average otherwise, with min and max alongside. Two sources are never
// added together, so a watch and a phone counting the same steps are not
// double-counted.
func (q *Service) Timeseries(userID string, p TimeseriesParams) (*Page[Sample], error) {
	width, ok := Resolutions[p.Resolution]
	if p.Resolution == "" {
		p.Resolution, ok = "raw", true
	}
	if !ok {
		return nil, badf("resolution must be one of raw, 1min, 5min, 15min, 1hour, 1day.")
	}
	if !p.End.After(p.Start) {
		return nil, badf("end_time must be after start_time.")
	}
	res := p.Resolution
	page := emptyPage[Sample](p.Start, p.End)
	page.Metadata.Resolution = &res
	u, ok, err := q.lookup(userID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return page, nil
	}
	iid := u.IID
	var series []uint16
	if len(p.Types) == 0 {
		all, err := q.store.UserSeries(iid)
		if err != nil {
			return nil, err
		}
		series = all
	} else {
		for _, code := range p.Types {
			// A code of the tables, or the type string of an unmapped
			// series; any other name simply has no samples.
			if id, ok := q.seriesID(iid, code); ok {
				series = append(series, id)
			}
		}
	}
	var (
		curT   time.Time
		curSer uint16
		curSID uint32
		hasCur bool
	)
	if p.Cursor != "" {
		t, id, err := decodeCursor(p.Cursor)
		if err != nil {
			return nil, err
		}
		a, b, ok := strings.Cut(id, ":")
		sv, err1 := strconv.Atoi(a)
		sd, err2 := strconv.ParseUint(b, 10, 32)
		if !ok || err1 != nil || err2 != nil {
			return nil, badf("Invalid cursor format: '%s'. Expected 'timestamp|id'.", p.Cursor)
		}
		curT, curSer, curSID, hasCur = t, uint16(sv), uint32(sd), true
	}
	from, to := p.Start.UnixMicro(), p.End.UnixMicro()
	var out []Sample
	total := 0
	for _, id := range series {
		code, unit, agg := q.seriesInfo(iid, id)
		var got []Sample
		var err error
		if width == 0 {
			var n int
			n, err = q.store.SeriesCount(iid, id, from, to)
			total += n
			if err == nil {
				got, err = q.rawSamples(iid, id, code, unit, agg, from, to, hasCur, curT, curSer, curSID, min(p.Limit+1, n))
			}
		} else {
			var all []Sample
			all, err = q.buckets(iid, id, code, unit, agg, from, to, width)
			total += len(all)
			for _, s := range all {
				if !hasCur || less(curT, curSer, curSID, s.Timestamp, s.series, s.sid) {
					got = append(got, s)
				}
			}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	sort.Slice(out, func(i, j int) bool {
		return less(out[i].Timestamp, out[i].series, out[i].sid, out[j].Timestamp, out[j].series, out[j].sid)
	})
	if len(out) > p.Limit {
		out = out[:p.Limit]
		page.Pagination.HasMore = true
		last := &out[len(out)-1]
		page.Pagination.NextCursor = encodeCursor(last.Timestamp, last.id())
	}
	if hasCur {
		page.Pagination.PreviousCursor = &p.Cursor
	}
	if out != nil {
		page.Data = out
	}
	page.Metadata.SampleCount = len(out)
	page.Pagination.TotalCount = &total
	return page, nil
}

var notDailyTotal = new(bool)

// dailyTotal is false for summed series and null for others, as the SDK
// path of Open Wearables writes it. The pointer is shared.
func dailyTotal(agg health.Aggregation) *bool {
	if agg == health.AggSum {
		return notDailyTotal
	}
	return nil
}

// zones interns zone offsets for one answer, so that samples share them.
type zones map[string]*string

func (z zones) get(s string) *string {
	if s == "" {
		return nil
	}
	if p, ok := z[s]; ok {
		return p
	}
	v := s
	z[v] = &v
	return &v
}

// rawSamples collects up to limit samples of one series after the cursor.
func (q *Service) rawSamples(iid uint32, series uint16, code, unit string, agg health.Aggregation,
	from, to int64, hasCur bool, curT time.Time, curSer uint16, curSID uint32, limit int) ([]Sample, error) {
	if hasCur {
		from = max(from, curT.UnixMicro())
	}
	if limit <= 0 {
		return nil, nil
	}
	out := make([]Sample, 0, limit)
	zs := zones{}
	daily := dailyTotal(agg)
	var (
		lastSID uint32
		lastSrc *SourceMetadata
		srcErr  error
	)
	err := q.store.SeriesRange(iid, series, from, to, func(sp *pebblestore.SourcedPoint) bool {
		t := fromMicro(sp.Start)
		if hasCur && !less(curT, curSer, curSID, t, series, sp.SID) {
			return true
		}
		if lastSrc == nil || sp.SID != lastSID {
			src, err := q.source(sp.SID)
			if err != nil {
				srcErr = err
				return false
			}
			lastSID, lastSrc = sp.SID, src
		}
		out = append(out, Sample{
			Timestamp: t, ZoneOffset: zs.get(sp.Zone), Type: code, Value: sp.Value, Unit: unit,
			Source: lastSrc, IsDailyTotal: daily, series: series, sid: sp.SID,
		})
		return len(out) < limit
	})
	if err == nil {
		err = srcErr
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// buckets aggregates one series into buckets of width, per data source.
func (q *Service) buckets(iid uint32, series uint16, code, unit string, agg health.Aggregation,
	from, to int64, width time.Duration) ([]Sample, error) {
	type key struct {
		bucket int64
		sid    uint32
	}
	type acc struct {
		sum, min, max float64
		n             int
		zone          string
	}
	w := width.Microseconds()
	accs := map[key]*acc{}
	err := q.store.SeriesRange(iid, series, from, to, func(sp *pebblestore.SourcedPoint) bool {
		b := sp.Start - ((sp.Start%w)+w)%w
		k := key{b, sp.SID}
		a := accs[k]
		if a == nil {
			a = &acc{min: math.Inf(1), max: math.Inf(-1), zone: sp.Zone}
			accs[k] = a
		}
		a.sum += sp.Value
		a.n++
		a.min = math.Min(a.min, sp.Value)
		a.max = math.Max(a.max, sp.Value)
		return true
	})
	if err != nil {
		return nil, err
	}
	out := make([]Sample, 0, len(accs))
	for k, a := range accs {
		v := a.sum
		if agg != health.AggSum {
			v = a.sum / float64(a.n)
		}
		if agg == health.AggMax {
			v = a.max
		}
		mn, mx := a.min, a.max
		src, err := q.source(k.sid)
		if err != nil {
			return nil, err
		}
		out = append(out, Sample{
			Timestamp: fromMicro(k.bucket), ZoneOffset: strPtr(a.zone), Type: code, Value: v, Unit: unit,
			Source: src, IsDailyTotal: dailyTotal(agg), Min: &mn, Max: &mx, Count: a.n,
			series: series, sid: k.sid,
		})
	}
	return out, nil
}
