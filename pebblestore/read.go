package pebblestore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/cockroachdb/pebble/v2"

	"wearhouse/health"
)

// SourcedPoint is a point with its data source.
type SourcedPoint struct {
	SID uint32
	Point
}

// seriesIter iterates the blocks of a series whose hours meet [from, to),
// with to > from.
func (s *Store) seriesIter(user uint32, series uint16, from, to int64) (*pebble.Iterator, error) {
	lo := blockKey{user: user, series: series, hour: hourOf(from)}.bytes()
	hi := blockKey{user: user, series: series, hour: hourOf(to-1) + 1}.bytes()
	return s.db.NewIter(&pebble.IterOptions{LowerBound: lo[:11], UpperBound: hi[:11]})
}

// SeriesRange calls fn with the points of one (user, series) whose Start is
// in [from, to), in time order (then data source), until fn returns false.
// Times are Unix microseconds. The point is valid until fn returns: the
// next one may be read into it. Copy *sp to keep it; the copy owns its
// strings and metadata.
func (s *Store) SeriesRange(user uint32, series uint16, from, to int64, fn func(*SourcedPoint) bool) error {
	if to <= from {
		return nil
	}
	prefix := seriesPrefix(user, series)
	it, err := s.seriesIter(user, series, from, to)
	if err != nil {
		return err
	}
	defer it.Close()
	// The blocks of one hour, one per data source; merged by time when
	// there are several.
	type block struct {
		sid uint32
		pts []Point
	}
	var (
		blocks  []block
		curHour []byte
		sp      SourcedPoint
	)
	flush := func() bool {
		defer func() { blocks = blocks[:0] }()
		if len(blocks) == 1 {
			sp.SID = blocks[0].sid
			for i := range blocks[0].pts {
				p := &blocks[0].pts[i]
				if p.Start < from || p.Start >= to {
					continue
				}
				sp.Point = *p
				if !fn(&sp) {
					return false
				}
			}
			return true
		}
		var merged []SourcedPoint
		for _, b := range blocks {
			for _, p := range b.pts {
				if p.Start >= from && p.Start < to {
					merged = append(merged, SourcedPoint{SID: b.sid, Point: p})
				}
			}
		}
		sort.SliceStable(merged, func(i, j int) bool {
			if merged[i].Start != merged[j].Start {
				return merged[i].Start < merged[j].Start
			}
			return merged[i].SID < merged[j].SID
		})
		for i := range merged {
			if !fn(&merged[i]) {
				return false
			}
		}
		return true
	}
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != 15 || !bytes.HasPrefix(k, prefix) {
			continue
		}
		if curHour != nil && !bytes.Equal(k[7:11], curHour) {
			if !flush() {
				return nil
			}
		}
		curHour = append(curHour[:0], k[7:11]...)
		hour := int64(int32(binary.BigEndian.Uint32(k[7:11]) ^ 1<<31))
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		pts, err := decodeBlock(hour*hourUsec, v)
		if err != nil {
			return err
		}
		blocks = append(blocks, block{sid: binary.BigEndian.Uint32(k[11:15]), pts: pts})
	}
	if err := it.Error(); err != nil {
		return err
	}
	if len(blocks) > 0 {
		flush()
	}
	return nil
}

// UserSeries lists the series ids a user has points of.
func (s *Store) UserSeries(user uint32) ([]uint16, error) {
	lo := append([]byte{prefixPoints}, be32(user)...)
	hi := append([]byte{prefixPoints}, be32(user+1)...)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []uint16
	for valid := it.First(); valid; {
		k := it.Key()
		if len(k) < 7 {
			valid = it.Next()
			continue
		}
		id := binary.BigEndian.Uint16(k[5:7])
		out = append(out, id)
		if id == 0xffff {
			break
		}
		valid = it.SeekGE(seriesPrefix(user, id+1))
	}
	return out, it.Error()
}

// WorkoutRef identifies a stored workout.
type WorkoutRef struct {
	SID   uint32
	Start int64 // Unix µs
	End   int64
}

// Workouts calls fn with the main part of each workout of a user whose
// start is in [from, to), in start order, until fn returns false. The
// record's bytes are Pebble's and valid until fn returns: copy them to keep
// them (the result of DecodeWorkout owns its fields).
func (s *Store) Workouts(user uint32, from, to int64, fn func(WorkoutRef, []byte) bool) error {
	lo := append(append([]byte{prefixWorkout}, be32(user)...), usec(from)...)
	hi := append(append([]byte{prefixWorkout}, be32(user)...), usec(to)...)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	defer it.Close()
	next := make([]byte, 0, 26)
	for valid := it.First(); valid; {
		k := it.Key()
		if len(k) != 26 || k[25] != PartWorkout {
			valid = it.Next()
			continue
		}
		ref := WorkoutRef{Start: fromUsec(k[5:13]), SID: binary.BigEndian.Uint32(k[13:17]), End: fromUsec(k[17:25])}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if !fn(ref, v) {
			break
		}
		// Seek past the workout's other parts (a route or samples of
		// hundreds of KB) instead of stepping through their blocks.
		next = append(append(next[:0], k[:25]...), partCount)
		valid = it.SeekGE(next)
	}
	return it.Error()
}

// WorkoutPart returns one part of a workout, or ErrNotFound.
func (s *Store) WorkoutPart(user uint32, ref WorkoutRef, part byte) ([]byte, error) {
	return s.get(append(workoutKey(user, ref.SID, ref.Start, ref.End), part))
}

// SleepStages calls fn with the stored sleep stages of a user and provider
// (0 for all) whose start is in [from, to), in (provider, start) order,
// until fn returns false. fn may keep the records.
func (s *Store) SleepStages(user uint32, provider byte, from, to int64, fn func(*SleepStageRecord) bool) error {
	providers := []byte{provider}
	if provider == 0 {
		providers = health.ProviderCodes()
	}
	for _, p := range providers {
		base := append(append([]byte{prefixSleep}, be32(user)...), p)
		it, err := s.db.NewIter(&pebble.IterOptions{
			LowerBound: append(bytes.Clone(base), usec(from)...),
			UpperBound: append(bytes.Clone(base), usec(to)...),
		})
		if err != nil {
			return err
		}
		stop := false
		var decodeErr error
		for it.First(); it.Valid() && !stop; it.Next() {
			k := it.Key()
			if len(k) != 27 {
				continue
			}
			v, verr := it.ValueAndErr()
			if verr != nil {
				break // it.Error reports it
			}
			r := &SleepStageRecord{Provider: p, Start: fromUsec(k[6:14]), End: fromUsec(k[14:22]),
				SID: binary.BigEndian.Uint32(k[22:26]), Stage: k[26]}
			rd := &blockReader{b: v}
			r.Zone = string(rd.bytes(int(rd.byte1())))
			r.ExtID = string(rd.bytes(int(rd.byte1())))
			r.ParentID = string(rd.bytes(int(rd.byte1())))
			if rd.err != nil {
				decodeErr = fmt.Errorf("pebblestore: malformed sleep stage %x", k)
				break
			}
			stop = !fn(r)
		}
		err = errors.Join(decodeErr, it.Error())
		it.Close()
		if err != nil || stop {
			return err
		}
	}
	return nil
}

// SeriesCount counts the points of one (user, series) whose Start is in
// [from, to). Blocks wholly inside the window are counted from their
// header, without decoding.
func (s *Store) SeriesCount(user uint32, series uint16, from, to int64) (int, error) {
	if to <= from {
		return 0, nil
	}
	it, err := s.seriesIter(user, series, from, to)
	if err != nil {
		return 0, err
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) != 15 {
			continue
		}
		hour := int64(int32(binary.BigEndian.Uint32(k[7:11]) ^ 1<<31))
		start, end := hour*hourUsec, (hour+1)*hourUsec
		v, err := it.ValueAndErr()
		if err != nil {
			return 0, err
		}
		if start >= from && end <= to && len(v) > 1 {
			c, w := binary.Uvarint(v[1:])
			if w <= 0 {
				return 0, errBlock
			}
			n += int(c)
			continue
		}
		pts, err := decodeBlock(start, v)
		if err != nil {
			return 0, err
		}
		for _, p := range pts {
			if p.Start >= from && p.Start < to {
				n++
			}
		}
	}
	return n, it.Error()
}
