package httpapi

import (
	"math"
	"strconv"
	"time"

	"wearhouse/codec"
	"wearhouse/query"
)

// appendTimeseriesPage encodes a timeseries page as codec.Marshal would,
// only faster: a day of 1 Hz heart rate is 86,400 samples that share a
// handful of sources, zones, types and units, whose JSON is made once.
func appendTimeseriesPage(dst []byte, p *query.Page[query.Sample]) ([]byte, error) {
	sources := map[*query.SourceMetadata][]byte{}
	strs := map[string][]byte{}
	quoted := func(s string) ([]byte, error) {
		if b, ok := strs[s]; ok {
			return b, nil
		}
		b, err := codec.Marshal(s)
		if err == nil {
			strs[s] = b
		}
		return b, err
	}
	dst = append(dst, `{"data":[`...)
	for i := range p.Data {
		s := &p.Data[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"timestamp":"`...)
		dst = s.Timestamp.AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, `","zone_offset":`...)
		if s.ZoneOffset == nil {
			dst = append(dst, "null"...)
		} else {
			z, err := quoted(*s.ZoneOffset)
			if err != nil {
				return nil, err
			}
			dst = append(dst, z...)
		}
		typ, err := quoted(s.Type)
		if err != nil {
			return nil, err
		}
		dst = append(dst, `,"type":`...)
		dst = append(dst, typ...)
		dst = append(dst, `,"value":`...)
		dst = appendFloat(dst, s.Value)
		unit, err := quoted(s.Unit)
		if err != nil {
			return nil, err
		}
		dst = append(dst, `,"unit":`...)
		dst = append(dst, unit...)
		dst = append(dst, `,"source":`...)
		if s.Source == nil {
			dst = append(dst, "null"...)
		} else {
			src, ok := sources[s.Source]
			if !ok {
				if src, err = codec.Marshal(s.Source); err != nil {
					return nil, err
				}
				sources[s.Source] = src
			}
			dst = append(dst, src...)
		}
		dst = append(dst, `,"is_daily_total":`...)
		switch {
		case s.IsDailyTotal == nil:
			dst = append(dst, "null"...)
		case *s.IsDailyTotal:
			dst = append(dst, "true"...)
		default:
			dst = append(dst, "false"...)
		}
		if s.Min != nil {
			dst = append(dst, `,"min":`...)
			dst = appendFloat(dst, *s.Min)
		}
		if s.Max != nil {
			dst = append(dst, `,"max":`...)
			dst = appendFloat(dst, *s.Max)
		}
		if s.Count != 0 {
			dst = append(dst, `,"sample_count":`...)
			dst = strconv.AppendInt(dst, int64(s.Count), 10)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `],"pagination":`...)
	pg, err := codec.Marshal(p.Pagination)
	if err != nil {
		return nil, err
	}
	dst = append(dst, pg...)
	md, err := codec.Marshal(p.Metadata)
	if err != nil {
		return nil, err
	}
	dst = append(dst, `,"metadata":`...)
	dst = append(dst, md...)
	return append(dst, '}'), nil
}

// appendFloat writes a float as encoding/json does: the shortest decimal
// that reads back the same, exponent form outside [1e-6, 1e21).
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
