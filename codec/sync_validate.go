package codec

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// keep validates each item on its own and keeps the good ones. It skips
// the placeholders of the items the slow path dropped.
func (b *Batch) keep(records []Record, sleep []SleepStage, workouts []Workout) {
	b.Records = records[:0]
	for i := range records {
		r := &records[i]
		path := itemPath{"records", i}
		if r.StartRaw == skipMarker || !b.span(&r.span, path) ||
			b.overLimit(path, field{"type", len(r.Type), MaxTypeBytes}, field{"unit", len(r.Unit), MaxUnitBytes}) {
			continue
		}
		v, err := parseNumber(r.ValueRaw)
		if err != nil {
			b.drop(path.field("value"), "value "+err.Error())
			continue
		}
		r.Value = v
		b.Records = append(b.Records, *r)
	}
	b.Sleep = sleep[:0]
	for i := range sleep {
		s := &sleep[i]
		path := itemPath{"sleep", i}
		if s.StartRaw == skipMarker {
			continue
		}
		if s.Stage == "" {
			b.drop(path.field("stage"), "stage is required")
			continue
		}
		if !b.span(&s.span, path) ||
			b.overLimit(path, field{"stage", len(s.Stage), MaxStageBytes}, field{"values", len(s.Values), MaxMetadataBytes}) {
			continue
		}
		b.Sleep = append(b.Sleep, *s)
	}
	b.Workouts = workouts[:0]
	for i := range workouts {
		w := &workouts[i]
		path := itemPath{"workouts", i}
		if w.StartRaw == skipMarker || !b.span(&w.span, path) || b.overLimit(path, field{"type", len(w.Type), MaxTypeBytes},
			field{"title", len(w.Title), MaxTitleBytes}, field{"notes", len(w.Notes), MaxNotesBytes}) {
			continue
		}
		stats := w.Values[:0]
		for j := range w.Values {
			st := w.Values[j]
			spath := func() string { return path.field("values[" + strconv.Itoa(j) + "]") }
			if st.Type == droppedStatistic {
				continue
			}
			if b, ok := st.ValueRaw.(bool); ok && st.Type != "" {
				// Flags such as indoorWorkout: true is 1, false is 0.
				st.ValueRaw = map[bool]float64{true: 1, false: 0}[b]
			}
			if st.Type == "" {
				b.warn(spath()+".type", "statistic dropped: type is required")
				continue
			}
			if len(st.Type) > MaxTypeBytes || len(st.Unit) > MaxUnitBytes {
				f, limit := "type", MaxTypeBytes
				if len(st.Type) <= MaxTypeBytes {
					f, limit = "unit", MaxUnitBytes
				}
				b.warn(spath()+"."+f, "statistic dropped: "+f+" is longer than "+strconv.Itoa(limit)+" bytes")
				continue
			}
			v, err := parseNumber(st.ValueRaw)
			if err != nil {
				b.warn(spath()+".value", "statistic dropped: value "+err.Error())
				continue
			}
			st.Value = v
			stats = append(stats, st)
		}
		w.Values = stats
		b.Workouts = append(b.Workouts, *w)
	}
}

// itemPath names an item of the body, data.<coll>[i]; the string is built
// only for the items an error or a warning names.
type itemPath struct {
	coll string
	i    int
}

func (p itemPath) field(f string) string {
	return "data." + p.coll + "[" + strconv.Itoa(p.i) + "]." + f
}

// span validates the dates and zone offset of an item. A bad date drops the
// item; a bad zone offset drops only that field.
func (b *Batch) span(s *span, path itemPath) bool {
	if s.StartRaw == nil {
		b.drop(path.field("startDate"), "startDate is required")
		return false
	}
	start, err := parseTime(s.StartRaw)
	if err != nil {
		b.drop(path.field("startDate"), "startDate "+err.Error())
		return false
	}
	if s.EndRaw == nil {
		b.drop(path.field("endDate"), "endDate is required")
		return false
	}
	end, err := parseTime(s.EndRaw)
	if err != nil {
		b.drop(path.field("endDate"), "endDate "+err.Error())
		return false
	}
	s.Start, s.End = start, end
	s.Source.merge()
	if b.spanOverLimit(s, path) {
		return false
	}
	if s.ZoneRaw != nil {
		if z, ok := normalizeZone(s.ZoneRaw); ok {
			s.ZoneOffset = z
		} else {
			b.warn(path.field("zoneOffset"), "zoneOffset ignored: expected +HH:MM, -HH:MM or Z")
		}
	}
	return true
}

// parseNumber accepts a JSON number or a numeric string and requires a
// finite value.
func parseNumber(v any) (float64, error) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case json.Number:
		p, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, fmt.Errorf("must be a finite number")
		}
		f = p
	case string:
		x = strings.TrimSpace(x)
		if strings.ContainsAny(x, "xX_") { // no hex floats or digit separators
			return 0, fmt.Errorf("must be a finite number")
		}
		p, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, fmt.Errorf("must be a finite number")
		}
		f = p
	case nil:
		return 0, fmt.Errorf("is required and must be a finite number")
	default:
		return 0, fmt.Errorf("must be a finite number")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("must be a finite number")
	}
	return f, nil
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// parseTime accepts RFC 3339 with or without fraction, with Z or an offset,
// a naive date-time (read as UTC), or a JSON number of Unix seconds (or
// milliseconds when it is too large to be seconds, as pydantic does).
func parseTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time: // an item built in Go (NewBatch), not decoded
		return x.UTC(), nil
	case string:
		if n := len(x); n > 0 && x[n-1] == 'z' {
			x = x[:n-1] + "Z"
		}
		if n := len(x); n > 10 && (x[10] == 't') {
			x = x[:10] + "T" + x[11:]
		}
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, x); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("is not an RFC 3339 date-time")
	case float64:
		return unixTime(x)
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("is not a valid Unix time")
		}
		return unixTime(f)
	default:
		return time.Time{}, fmt.Errorf("must be an RFC 3339 string or Unix seconds")
	}
}

func unixTime(f float64) (time.Time, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return time.Time{}, fmt.Errorf("is not a valid Unix time")
	}
	if f > 2e10 { // milliseconds
		f /= 1000
	}
	if f > 253402300799 { // 9999-12-31
		return time.Time{}, fmt.Errorf("is out of range")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// normalizeZone returns the offset as "+HH:MM"; "Z" becomes "+00:00".
func normalizeZone(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	if s == "Z" || s == "z" {
		return "+00:00", true
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return "", false
	}
	for _, i := range []int{1, 2, 4, 5} {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	hh := int(s[1]-'0')*10 + int(s[2]-'0')
	mm := int(s[4]-'0')*10 + int(s[5]-'0')
	if hh > 18 || mm > 59 {
		return "", false
	}
	return s, true
}
