package pebblestore

import (
	"bytes"
	"encoding/binary"
	"math"
)

// Reads for the summaries: a lean scan of a series that decodes only what
// an aggregate needs, the latest points of a series, and point counts per
// data source.

// LeanBlock is the points of one data source in one hour of a series, by
// column, without their ids and metadata. Points are in time order.
type LeanBlock struct {
	SID   uint32
	Start []int64 // Unix µs
	End   []int64
	Value []float64
	// Zones are the zone offsets ("+HH:MM" or empty) in runs: the first
	// Zones[0].N points have Zones[0].Zone, and so on.
	Zones []ZoneRun
	// Plain[i] is true when point i has no external id, no parent id and no
	// metadata: the points the compactor derives from workout statistics.
	Plain []bool
}

// ZoneRun is a run of points with the same zone offset.
type ZoneRun struct {
	N    int
	Zone string
}

// Len is the number of points.
func (b *LeanBlock) Len() int { return len(b.Start) }

// slice keeps the points [lo, hi).
func (b *LeanBlock) slice(lo, hi int) {
	b.Start, b.End, b.Value, b.Plain = b.Start[lo:hi], b.End[lo:hi], b.Value[lo:hi], b.Plain[lo:hi]
	runs := b.Zones[:0]
	pos := 0
	for _, r := range b.Zones {
		s, e := max(pos, lo), min(pos+r.N, hi)
		if e > s {
			runs = append(runs, ZoneRun{N: e - s, Zone: r.Zone})
		}
		pos += r.N
	}
	b.Zones = runs
}

// ScanSeries calls fn with the points of one (user, series) whose Start is
// in [from, to), block by block: each block holds the points of one data
// source and one hour. Blocks come in (hour, data source) order, so each
// data source's points arrive in time order. It stops when fn returns
// false. The block and its columns are valid until fn returns: the next
// block is decoded into them. Copy what you keep (the zone strings may be
// kept as they are).
func (s *Store) ScanSeries(user uint32, series uint16, from, to int64, fn func(b *LeanBlock) bool) error {
	if to <= from {
		return nil
	}
	it, err := s.seriesIter(user, series, from, to)
	if err != nil {
		return err
	}
	defer it.Close()
	var b LeanBlock
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != 15 {
			continue
		}
		hour := int64(int32(binary.BigEndian.Uint32(k[7:11]) ^ 1<<31))
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := decodeLean(hour*hourUsec, v, &b); err != nil {
			return err
		}
		if hour*hourUsec < from || (hour+1)*hourUsec > to {
			lo, hi := 0, b.Len()
			for lo < hi && b.Start[lo] < from {
				lo++
			}
			for hi > lo && b.Start[hi-1] >= to {
				hi--
			}
			b.slice(lo, hi)
		}
		if b.Len() == 0 {
			continue
		}
		b.SID = binary.BigEndian.Uint32(k[11:15])
		if !fn(&b) {
			return nil
		}
	}
	return it.Error()
}

func growTo[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// decodeLean decodes a block (see encodeBlock) into b, reusing its
// columns, without building ids or copying metadata.
func decodeLean(base int64, raw []byte, b *LeanBlock) error {
	r := &blockReader{b: raw}
	if r.byte1() != blockV1 {
		return errBlock
	}
	n64 := r.uvarint()
	if r.err != nil || n64 > uint64(len(raw)) {
		return errBlock
	}
	n := int(n64)
	b.Start, b.End, b.Value, b.Plain = growTo(b.Start, n), growTo(b.End, n), growTo(b.Value, n), growTo(b.Plain, n)
	buf := r.b
	pos := 0
	// varint reads the next zigzag varint of buf, or fails. Most are one
	// byte.
	varint := func() (int64, bool) {
		if pos < len(buf) && buf[pos] < 0x80 {
			c := int64(buf[pos])
			pos++
			return c>>1 ^ -(c & 1), true
		}
		v, w := binary.Varint(buf[pos:])
		if w <= 0 {
			return 0, false
		}
		pos += w
		return v, true
	}
	var prev, prevDelta int64
	for i := 0; i < n; i++ {
		v, ok := varint()
		if !ok {
			return errBlock
		}
		d := v + prevDelta
		off := prev + d
		if i == 0 {
			off = d
		}
		b.Start[i] = base + off
		prevDelta, prev = d, off
	}
	var prevDur int64
	for i := 0; i < n; i++ {
		v, ok := varint()
		if !ok {
			return errBlock
		}
		prevDur += v
		b.End[i] = b.Start[i] + prevDur
	}
	r.b = buf[pos:]
	switch r.byte1() {
	case 0:
		scale := math.Pow10(int(r.byte1()))
		buf, pos = r.b, 0
		var prevV int64
		for i := 0; i < n; i++ {
			v, ok := varint()
			if !ok {
				return errBlock
			}
			prevV += v
			b.Value[i] = float64(prevV) / scale
		}
		r.b = buf[pos:]
	case 1:
		for i := 0; i < n; i++ {
			if raw := r.bytes(8); raw != nil {
				b.Value[i] = math.Float64frombits(binary.BigEndian.Uint64(raw))
			}
		}
	default:
		return errBlock
	}
	nz := int(r.uvarint())
	if nz > n+1 {
		return errBlock
	}
	var dict [4]string
	zones := dict[:0]
	for i := 0; i < nz; i++ {
		z := r.bytes(int(r.byte1()))
		// Zone strings are interned across blocks: nearly every block
		// has the previous one's.
		if j := len(zones); j < len(b.Zones) && b.Zones[j].Zone == string(z) {
			zones = append(zones, b.Zones[j].Zone)
		} else if len(b.Zones) > 0 && b.Zones[0].Zone == string(z) {
			zones = append(zones, b.Zones[0].Zone)
		} else {
			zones = append(zones, string(z))
		}
	}
	b.Zones = b.Zones[:0]
	for i := 0; i < n && r.err == nil; {
		run, idx := int(r.uvarint()), int(r.uvarint())
		if run <= 0 || i+run > n || idx >= nz {
			return errBlock
		}
		b.Zones = append(b.Zones, ZoneRun{N: run, Zone: zones[idx]})
		i += run
	}
	for i := range b.Plain {
		b.Plain[i] = true
	}
	skipIDs(r, b.Plain)
	skipIDs(r, b.Plain)
	if r.byte1() == 1 {
		for i := 0; i < n; i++ {
			if len(r.bytes(int(r.uvarint()))) > 0 {
				b.Plain[i] = false
			}
		}
	}
	return r.err
}

// skipIDs reads past an id column, marking the points that have an id.
func skipIDs(r *blockReader, plain []bool) {
	switch mode := r.byte1(); mode {
	case 0:
	case 2, 3:
		r.bytes(16 * len(plain))
		for i := range plain {
			plain[i] = false
		}
	case 1:
		length := 0
		for i := range plain {
			shared := int(r.uvarint())
			suffix := len(r.bytes(int(r.uvarint())))
			if r.err != nil || shared > length {
				r.err = errBlock
				return
			}
			length = shared + suffix
			if length > 0 {
				plain[i] = false
			}
		}
	default:
		r.err = errBlock
	}
}

// LatestPoints returns the points of one (user, series) with the greatest
// Start in [from, to), one per data source that has a point at that Start;
// none when the window has no point.
func (s *Store) LatestPoints(user uint32, series uint16, from, to int64) ([]SourcedPoint, error) {
	if to <= from {
		return nil, nil
	}
	prefix := seriesPrefix(user, series)
	it, err := s.seriesIter(user, series, from, to)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var (
		best    []SourcedPoint
		curHour []byte
	)
	for valid := it.Last(); valid; valid = it.Prev() {
		k := it.Key()
		if len(k) != 15 || !bytes.HasPrefix(k, prefix) {
			continue
		}
		if curHour != nil && !bytes.Equal(k[7:11], curHour) && best != nil {
			// Every block of the latest hour with a point in the
			// window has been read.
			break
		}
		curHour = append(curHour[:0], k[7:11]...)
		hour := int64(int32(binary.BigEndian.Uint32(k[7:11]) ^ 1<<31))
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		pts, err := decodeBlock(hour*hourUsec, v)
		if err != nil {
			return nil, err
		}
		for i := len(pts) - 1; i >= 0; i-- {
			p := pts[i]
			if p.Start >= to {
				continue
			}
			if p.Start < from {
				break
			}
			sp := SourcedPoint{SID: binary.BigEndian.Uint32(k[11:15]), Point: p}
			switch {
			case best == nil || p.Start > best[0].Start:
				best = append(best[:0], sp)
			case p.Start == best[0].Start:
				best = append(best, sp)
			}
			break
		}
	}
	return best, it.Error()
}

// SeriesCountBySource counts the points of one (user, series) whose Start
// is in [from, to), per data source. Blocks wholly inside the window are
// counted from their header.
func (s *Store) SeriesCountBySource(user uint32, series uint16, from, to int64) (map[uint32]int, error) {
	out := map[uint32]int{}
	if to <= from {
		return out, nil
	}
	it, err := s.seriesIter(user, series, from, to)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var b LeanBlock
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != 15 {
			continue
		}
		sid := binary.BigEndian.Uint32(k[11:15])
		hour := int64(int32(binary.BigEndian.Uint32(k[7:11]) ^ 1<<31))
		start, end := hour*hourUsec, (hour+1)*hourUsec
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		if start >= from && end <= to && len(v) > 1 {
			c, w := binary.Uvarint(v[1:])
			if w <= 0 {
				return nil, errBlock
			}
			out[sid] += int(c)
			continue
		}
		if err := decodeLean(start, v, &b); err != nil {
			return nil, err
		}
		for _, t := range b.Start {
			if t >= from && t < to {
				out[sid]++
			}
		}
	}
	return out, it.Error()
}
