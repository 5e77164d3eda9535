package pebblestore

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"wearhouse/health"
)

// Index keyspaces, written by the compactor.
const (
	prefixPoints  = 'p' // 'p' user:u32 series:u16 hour:u32 sid:u32 -> block of points
	prefixWorkout = 'w' // 'w' user:u32 start:u64 sid:u32 end:u64 part:u8 -> workout part
	prefixSleep   = 'l' // 'l' user:u32 provider:u8 start:u64 end:u64 sid:u32 stage:u8 -> stage extras
	prefixRun     = 'R' // 'R' seq:u64 -> Run (JSON)
	prefixUserRun = 'X' // 'X' user:u32 seq:u64 -> empty

	metaCompactorPos = "compactor.pos"
)

// Workout parts, the last byte of a workout key.
const (
	PartWorkout  byte = 0
	PartRoute    byte = 1
	PartSamples  byte = 2
	PartLaps     byte = 3
	PartSegments byte = 4
	partCount         = 5
)

// usec encodes Unix microseconds so that byte order is time order, before
// 1970 included.
func usec(t int64) []byte { return be64(uint64(t) ^ 1<<63) }

func fromUsec(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ 1<<63) }

const hourUsec = int64(3600 * 1e6)

// hourOf is the hour number of a time, floored.
func hourOf(t int64) int64 {
	h := t / hourUsec
	if t < 0 && t%hourUsec != 0 {
		h--
	}
	return h
}

func lenPrefixed(b []byte, s string) []byte {
	if len(s) > 255 {
		s = s[:255]
	}
	b = append(b, byte(len(s)))
	return append(b, s...)
}

// CompactorPos is the sequence number of the last batch the compactor
// indexed, 0 when none.
func (s *Store) CompactorPos() (uint64, error) {
	v, err := s.Meta(metaCompactorPos)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil || len(v) != 8 {
		return 0, fmt.Errorf("pebblestore: compactor position: %v", err)
	}
	return binary.BigEndian.Uint64(v), nil
}

// SetCompactorPos records the compactor's position outside an index batch:
// when the entries up to it left the queue without being indexed (erased
// with their user). Like an index batch, it needs no fsync of its own.
func (s *Store) SetCompactorPos(seq uint64) error {
	return s.db.Set(key(prefixMeta, []byte(metaCompactorPos)), be64(seq), pebble.NoSync)
}

type blockKey struct {
	user   uint32
	series uint16
	hour   int64
	sid    uint32
}

func (k blockKey) bytes() []byte {
	b := make([]byte, 0, 15)
	b = append(b, prefixPoints)
	b = append(b, be32(k.user)...)
	b = append(b, byte(k.series>>8), byte(k.series))
	b = append(b, be32(uint32(k.hour)^1<<31)...)
	return append(b, be32(k.sid)...)
}

func seriesPrefix(user uint32, series uint16) []byte {
	b := append([]byte{prefixPoints}, be32(user)...)
	return append(b, byte(series>>8), byte(series))
}

// IndexBatch is one atomic write of the compactor: index entries, new
// dictionary entries, run updates, its position and the queue deletions.
// Points are merged into their blocks when the batch is committed.
type IndexBatch struct {
	s      *Store
	b      *pebble.Batch
	points map[blockKey][]Point
	// fills are the points of imports: they fill gaps and never replace a
	// point, and each one found already stored counts as a duplicate of
	// its import (by the tag AddImportedPoint was given).
	fills  map[blockKey][]taggedPoint
	merged bool
	locked bool // holds the store's eraseMu
	dictBatch
}

type taggedPoint struct {
	Point
	tag uint64
}

// NewIndexBatch starts a compactor batch. Only one may be open at a time:
// it waits for an erasure of a user in progress, and until it is committed
// or closed DeleteUser waits for it. A user found to exist after
// NewIndexBatch returned therefore exists until the batch is committed:
// its index writes land before any erasure of the user, never after.
func (s *Store) NewIndexBatch() *IndexBatch {
	s.eraseMu.Lock()
	return &IndexBatch{s: s, b: s.db.NewBatch(), points: map[blockKey][]Point{}, dictBatch: s.newDictBatch(), locked: true}
}

// Close discards an uncommitted batch.
func (ib *IndexBatch) Close() {
	ib.b.Close()
	ib.unlock()
}

func (ib *IndexBatch) unlock() {
	if ib.locked {
		ib.locked = false
		ib.s.eraseMu.Unlock()
	}
}

// AddPoint adds a series point. A point with the Start of a stored point of
// the same (user, series, data source) replaces it.
func (ib *IndexBatch) AddPoint(user uint32, series uint16, sid uint32, p Point) {
	k := blockKey{user: user, series: series, hour: hourOf(p.Start), sid: sid}
	ib.points[k] = append(ib.points[k], p)
}

// AddImportedPoint adds a point of an import: a stored point with its
// Start, or one added to the batch by AddPoint, is kept, and the imported
// point counts as a duplicate of tag in what Merge returns.
func (ib *IndexBatch) AddImportedPoint(user uint32, series uint16, sid uint32, p Point, tag uint64) {
	k := blockKey{user: user, series: series, hour: hourOf(p.Start), sid: sid}
	if ib.fills == nil {
		ib.fills = map[blockKey][]taggedPoint{}
	}
	ib.fills[k] = append(ib.fills[k], taggedPoint{p, tag})
}

// PutWorkout writes a workout's parts, replacing a stored workout with the
// same (user, data source, start, end) and all of its parts. parts[i] is
// the value of part i, nil when absent.
func (ib *IndexBatch) PutWorkout(user uint32, sid uint32, start, end int64, parts [partCount][]byte) error {
	base := workoutKey(user, sid, start, end)
	for i := byte(0); i < partCount; i++ {
		k := append(bytes.Clone(base), i)
		var err error
		if parts[i] == nil {
			err = ib.b.Delete(k, nil)
		} else {
			err = ib.b.Set(k, parts[i], nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// HasWorkout reports whether a workout with this (user, data source,
// start, end) is stored, so that an import does not replace it. A workout
// put earlier in the same batch is not seen.
func (ib *IndexBatch) HasWorkout(user, sid uint32, start, end int64) (bool, error) {
	return ib.s.has(append(workoutKey(user, sid, start, end), PartWorkout))
}

// HasSleepStage reports whether the stage is stored (see HasWorkout).
func (ib *IndexBatch) HasSleepStage(user uint32, r *SleepStageRecord) (bool, error) {
	return ib.s.has(sleepKey(user, r))
}

func workoutKey(user, sid uint32, start, end int64) []byte {
	k := make([]byte, 0, 26)
	k = append(k, prefixWorkout)
	k = append(k, be32(user)...)
	k = append(k, usec(start)...)
	k = append(k, be32(sid)...)
	return append(k, usec(end)...)
}

// SleepStageRecord is one stored sleep stage.
type SleepStageRecord struct {
	Provider byte // provider code, see ProviderCode
	Start    int64
	End      int64
	SID      uint32
	Stage    byte
	Zone     string
	ExtID    string
	ParentID string
}

// ProviderCode is the one-byte code of an SDK provider in keys
// (health.ProviderCode); 0 for an unknown provider.
func ProviderCode(p string) byte { return health.ProviderCode(p) }

func sleepKey(user uint32, r *SleepStageRecord) []byte {
	k := make([]byte, 0, 27)
	k = append(k, prefixSleep)
	k = append(k, be32(user)...)
	k = append(k, r.Provider)
	k = append(k, usec(r.Start)...)
	k = append(k, usec(r.End)...)
	k = append(k, be32(r.SID)...)
	return append(k, r.Stage)
}

// PutSleepStage writes a sleep stage; the same (user, data source, stage,
// start, end) is written once however often it is sent.
func (ib *IndexBatch) PutSleepStage(user uint32, r *SleepStageRecord) error {
	v := lenPrefixed(nil, r.Zone)
	v = lenPrefixed(v, r.ExtID)
	v = lenPrefixed(v, r.ParentID)
	return ib.b.Set(sleepKey(user, r), v, nil)
}

// PutRun writes a sync run.
func (ib *IndexBatch) PutRun(r *Run) error {
	return putRun(ib.b, r)
}

// DeleteQueue removes an indexed batch from the queue.
func (ib *IndexBatch) DeleteQueue(seq uint64) error { return ib.b.Delete(queueKey(seq), nil) }

// SetPosition records the last indexed sequence number.
func (ib *IndexBatch) SetPosition(seq uint64) error {
	return ib.b.Set(key(prefixMeta, []byte(metaCompactorPos)), be64(seq), nil)
}

// Merge merges the points into their blocks, in the batch, and returns
// the imported points that were not added because their Start was taken,
// by tag. Commit merges when Merge was not called; after Merge no point may
// be added.
func (ib *IndexBatch) Merge() (duplicates map[uint64]int64, err error) {
	if ib.merged {
		return nil, errors.New("pebblestore: index batch merged twice")
	}
	ib.merged = true
	n := 0
	merge := func(k blockKey, in []Point, fills []taggedPoint) error {
		if n++; n%32 == 0 {
			runtime.Gosched()
		}
		kb := k.bytes()
		stored, err := ib.s.get(kb)
		var pts []Point
		switch {
		case err == nil:
			if pts, err = decodeBlock(k.hour*hourUsec, stored); err != nil {
				return fmt.Errorf("%w at %x", err, kb)
			}
		case errors.Is(err, ErrNotFound):
		default:
			return err
		}
		merged := mergePoints(pts, in)
		if len(fills) > 0 {
			var dup map[uint64]int64
			if merged, dup = fillPoints(merged, fills); len(dup) > 0 {
				if duplicates == nil {
					duplicates = map[uint64]int64{}
				}
				for t, c := range dup {
					duplicates[t] += c
				}
			}
		}
		return ib.b.Set(kb, encodeBlock(k.hour*hourUsec, merged), nil)
	}
	for k, in := range ib.points {
		if err := merge(k, in, ib.fills[k]); err != nil {
			return nil, err
		}
	}
	for k, fills := range ib.fills {
		if _, done := ib.points[k]; !done {
			if err := merge(k, nil, fills); err != nil {
				return nil, err
			}
		}
	}
	return duplicates, nil
}

// fillPoints adds to sorted points those of fills whose Start none has, and
// counts the others by tag. The result is sorted.
func fillPoints(pts []Point, fills []taggedPoint) ([]Point, map[uint64]int64) {
	taken := make(map[int64]struct{}, len(pts)+len(fills))
	for _, p := range pts {
		taken[p.Start] = struct{}{}
	}
	var dup map[uint64]int64
	for _, f := range fills {
		if _, ok := taken[f.Start]; ok {
			if dup == nil {
				dup = map[uint64]int64{}
			}
			dup[f.tag]++
			continue
		}
		taken[f.Start] = struct{}{}
		pts = append(pts, f.Point)
	}
	slices.SortFunc(pts, func(a, b Point) int { return cmp.Compare(a.Start, b.Start) })
	return pts, dup
}

// Commit merges the points into their blocks (unless Merge did) and writes
// everything in one atomic batch. It needs no fsync of its own: it follows
// the acknowledged queue writes in the same WAL, and a crash before it
// reached the disk simply means the compactor indexes those batches again.
func (ib *IndexBatch) Commit() error {
	defer ib.unlock()
	defer ib.b.Close()
	if !ib.merged {
		if _, err := ib.Merge(); err != nil {
			return err
		}
	}
	if err := ib.putDictCounters(); err != nil {
		return err
	}
	if err := ib.b.Commit(pebble.NoSync); err != nil {
		return err
	}
	ib.publishDict()
	return nil
}
