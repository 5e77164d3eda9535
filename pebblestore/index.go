package pebblestore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Index keyspaces, written by the compactor.
const (
	prefixSource     = 'D' // 'D' user:u32 provider model name (each u8 len + bytes) -> sid:u32
	prefixSourceByID = 'E' // 'E' sid:u32 -> SourceRecord (JSON)
	prefixSeriesType = 'T' // 'T' type string -> id:u16 unit (unmapped SDK types)
	prefixTypeByID   = 'Y' // 'Y' id:u16 -> type string 0x00 unit
	prefixPoints     = 'p' // 'p' user:u32 series:u16 hour:u32 sid:u32 -> block of points
	prefixWorkout    = 'w' // 'w' user:u32 start:u64 sid:u32 end:u64 part:u8 -> workout part
	prefixSleep      = 'l' // 'l' user:u32 provider:u8 start:u64 end:u64 sid:u32 stage:u8 -> stage extras
	prefixRun        = 'R' // 'R' seq:u64 -> Run (JSON)
	prefixUserRun    = 'X' // 'X' user:u32 seq:u64 -> empty

	metaCompactorPos = "compactor.pos"

	// FirstCustomSeries is the first id given to SDK types outside the
	// mapping tables; ids below it are the tables' series ids.
	FirstCustomSeries = 1000
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

// SourceRecord describes a data source: (user, provider, device model,
// source name), as fact sheet §4.7.
type SourceRecord struct {
	ID              uint32 `json:"id"`
	UserIID         uint32 `json:"user_iid"`
	Provider        string `json:"provider"`
	DeviceModel     string `json:"device_model,omitempty"`
	SourceName      string `json:"source_name,omitempty"`
	DeviceType      string `json:"device_type,omitempty"`
	SoftwareVersion string `json:"software_version,omitempty"`
}

func sourceKey(user uint32, provider, model, name string) []byte {
	k := append([]byte{prefixSource}, be32(user)...)
	k = lenPrefixed(k, provider)
	k = lenPrefixed(k, model)
	return lenPrefixed(k, name)
}

// dictionaries caches the data source and custom series dictionaries. The
// compactor is their only writer.
type dictionaries struct {
	mu         sync.Mutex
	sources    map[string]uint32
	nextSource uint32
	types      map[string]uint16
	nextType   uint16
}

func (s *Store) loadDictionaries() error {
	d := &s.dict
	d.sources = map[string]uint32{}
	d.types = map[string]uint16{}
	d.nextSource, d.nextType = 1, FirstCustomSeries
	last := func(prefix byte) ([]byte, error) {
		it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefix}, UpperBound: []byte{prefix + 1}})
		if err != nil {
			return nil, err
		}
		defer it.Close()
		if !it.Last() {
			return nil, it.Error()
		}
		return bytes.Clone(it.Key()), nil
	}
	k, err := last(prefixSourceByID)
	if err != nil {
		return err
	}
	if k != nil {
		d.nextSource = binary.BigEndian.Uint32(k[1:]) + 1
	}
	if k, err = last(prefixTypeByID); err != nil {
		return err
	}
	if k != nil {
		d.nextType = binary.BigEndian.Uint16(k[1:]) + 1
	}
	// Ids are never reused, even those of deleted data sources.
	if v, err := s.Meta(metaNextSource); err == nil && len(v) == 4 {
		d.nextSource = max(d.nextSource, binary.BigEndian.Uint32(v))
	}
	return nil
}

const metaNextSource = "dict.next_source"

// Source returns a data source record by id.
func (s *Store) Source(sid uint32) (*SourceRecord, error) {
	v, err := s.get(key(prefixSourceByID, be32(sid)))
	if err != nil {
		return nil, err
	}
	var r SourceRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("pebblestore: data source %d: %w", sid, err)
	}
	return &r, nil
}

// UserSources lists the data sources of a user.
func (s *Store) UserSources(user uint32) ([]*SourceRecord, error) {
	lo := append([]byte{prefixSource}, be32(user)...)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: append([]byte{prefixSource}, be32(user+1)...)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []*SourceRecord
	for it.First(); it.Valid(); it.Next() {
		r, err := s.Source(binary.BigEndian.Uint32(it.Value()))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, it.Error()
}

// CustomSeries returns the type string and unit of an unmapped series id.
func (s *Store) CustomSeries(id uint16) (typ, unit string, err error) {
	v, err := s.get(key(prefixTypeByID, []byte{byte(id >> 8), byte(id)}))
	if err != nil {
		return "", "", err
	}
	t, u, _ := bytes.Cut(v, []byte{0})
	return string(t), string(u), nil
}

// CustomSeriesID returns the id of an unmapped SDK type, or ErrNotFound.
func (s *Store) CustomSeriesID(typ string) (uint16, error) {
	v, err := s.get(key(prefixSeriesType, []byte(typ)))
	if err != nil {
		return 0, err
	}
	if len(v) < 2 {
		return 0, errors.New("pebblestore: malformed series type")
	}
	return binary.BigEndian.Uint16(v), nil
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
	s          *Store
	b          *pebble.Batch
	points     map[blockKey][]Point
	newSources map[string]uint32
	newTypes   map[string]uint16
	nextSource uint32
	nextType   uint16
	locked     bool // holds the store's eraseMu
}

// NewIndexBatch starts a compactor batch. Only one may be open at a time:
// it waits for an erasure of a user in progress, and until it is committed
// or closed DeleteUser waits for it. A user found to exist after
// NewIndexBatch returned therefore exists until the batch is committed:
// its index writes land before any erasure of the user, never after.
func (s *Store) NewIndexBatch() *IndexBatch {
	s.eraseMu.Lock()
	s.dict.mu.Lock()
	ns, nt := s.dict.nextSource, s.dict.nextType
	s.dict.mu.Unlock()
	return &IndexBatch{
		s: s, b: s.db.NewBatch(), points: map[blockKey][]Point{},
		newSources: map[string]uint32{}, newTypes: map[string]uint16{}, nextSource: ns, nextType: nt, locked: true,
	}
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

// DataSource returns the id of a data source, adding it to the dictionary
// in this batch when it is new.
func (ib *IndexBatch) DataSource(r SourceRecord) (uint32, error) {
	k := sourceKey(r.UserIID, r.Provider, r.DeviceModel, r.SourceName)
	ks := string(k)
	if sid, ok := ib.newSources[ks]; ok {
		return sid, nil
	}
	d := &ib.s.dict
	d.mu.Lock()
	sid, ok := d.sources[ks]
	d.mu.Unlock()
	if ok {
		return sid, nil
	}
	v, err := ib.s.get(k)
	if err == nil && len(v) == 4 {
		sid = binary.BigEndian.Uint32(v)
		d.mu.Lock()
		d.sources[ks] = sid
		d.mu.Unlock()
		return sid, nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	sid = ib.nextSource
	ib.nextSource++
	r.ID = sid
	rec, err := json.Marshal(r)
	if err != nil {
		return 0, err
	}
	if err := ib.b.Set(k, be32(sid), nil); err != nil {
		return 0, err
	}
	if err := ib.b.Set(key(prefixSourceByID, be32(sid)), rec, nil); err != nil {
		return 0, err
	}
	ib.newSources[ks] = sid
	return sid, nil
}

// CustomSeries returns the id of an SDK type outside the mapping tables,
// adding it in this batch when it is new. Unmapped records are stored under
// their own type and unit, never thrown away.
func (ib *IndexBatch) CustomSeries(typ, unit string) (uint16, error) {
	if id, ok := ib.newTypes[typ]; ok {
		return id, nil
	}
	d := &ib.s.dict
	d.mu.Lock()
	id, ok := d.types[typ]
	d.mu.Unlock()
	if ok {
		return id, nil
	}
	if id, err := ib.s.CustomSeriesID(typ); err == nil {
		d.mu.Lock()
		d.types[typ] = id
		d.mu.Unlock()
		return id, nil
	} else if !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	if ib.nextType == math.MaxUint16 {
		return 0, errors.New("pebblestore: too many unmapped series types")
	}
	id = ib.nextType
	ib.nextType++
	idb := []byte{byte(id >> 8), byte(id)}
	if err := ib.b.Set(key(prefixSeriesType, []byte(typ)), append(idb, unit...), nil); err != nil {
		return 0, err
	}
	if err := ib.b.Set(key(prefixTypeByID, idb), []byte(typ+"\x00"+unit), nil); err != nil {
		return 0, err
	}
	ib.newTypes[typ] = id
	return id, nil
}

// AddPoint adds a series point. A point with the Start of a stored point of
// the same (user, series, data source) replaces it.
func (ib *IndexBatch) AddPoint(user uint32, series uint16, sid uint32, p Point) {
	k := blockKey{user: user, series: series, hour: hourOf(p.Start), sid: sid}
	ib.points[k] = append(ib.points[k], p)
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

// ProviderCode is the one-byte code of an SDK provider in keys.
func ProviderCode(p string) byte {
	switch p {
	case "apple":
		return 1
	case "samsung":
		return 2
	case "google":
		return 3
	}
	return 0
}

// ProviderName is the inverse of ProviderCode.
func ProviderName(c byte) string {
	switch c {
	case 1:
		return "apple"
	case 2:
		return "samsung"
	case 3:
		return "google"
	}
	return "unknown"
}

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

// Commit merges the points into their blocks and writes everything in one
// atomic batch. It needs no fsync of its own: it follows the acknowledged
// queue writes in the same WAL, and a crash before it reached the disk
// simply means the compactor indexes those batches again.
func (ib *IndexBatch) Commit() (points int, err error) {
	defer ib.unlock()
	defer ib.b.Close()
	n := 0
	for k, in := range ib.points {
		if n++; n%32 == 0 {
			runtime.Gosched()
		}
		kb := k.bytes()
		stored, err := ib.s.get(kb)
		var pts []Point
		switch {
		case err == nil:
			if pts, err = decodeBlock(k.hour*hourUsec, stored); err != nil {
				return 0, fmt.Errorf("%w at %x", err, kb)
			}
		case errors.Is(err, ErrNotFound):
		default:
			return 0, err
		}
		merged := mergePoints(pts, in)
		points += len(in)
		if err := ib.b.Set(kb, encodeBlock(k.hour*hourUsec, merged), nil); err != nil {
			return 0, err
		}
	}
	if len(ib.newSources) > 0 {
		if err := ib.b.Set(key(prefixMeta, []byte(metaNextSource)), be32(ib.nextSource), nil); err != nil {
			return 0, err
		}
	}
	if err := ib.b.Commit(pebble.NoSync); err != nil {
		return 0, err
	}
	d := &ib.s.dict
	d.mu.Lock()
	for k, v := range ib.newSources {
		d.sources[k] = v
	}
	for k, v := range ib.newTypes {
		d.types[k] = v
	}
	d.nextSource, d.nextType = ib.nextSource, ib.nextType
	d.mu.Unlock()
	return points, nil
}
