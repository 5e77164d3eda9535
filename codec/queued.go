package codec

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// The queued form of a validated batch is what the write path puts in the
// write-ahead queue and the compactor indexes: the items that passed
// validation with their parsed values, and nothing the compactor does not
// need (the wire's raw dates and values, the error lists). It is 15 % of
// the JSON of a HealthKit batch of records and a quarter of a mixed one
// (workout routes and samples are kept as the JSON they came in), so the
// queue's synced write, its memtable and its flushes shrink by as much, and
// the compactor does not parse JSON a second time.
//
// Layout, version 1 (integers are unsigned varints unless said; "str" is a
// length-prefixed byte string; "ref" an index into the string table;
// "time" is a signed varint of Unix seconds, as a delta from a base, and an
// unsigned varint of nanoseconds):
//
//	version=1  provider:str  sdkVersion:str  syncTimestamp:(0 | 1 seconds:svarint nanos)
//	dropped  strings:(n str*)  sources:(n source*)
//	records:(n record*)  sleep:(n stage*)  workouts:(n workout*)
//
//	source  = 13 str fields, then (0 | 1 major minor patch as float64 bits, little-endian)
//	span    = start:time (delta from the previous item's start) end:time (delta from start)
//	          zone:ref id:str parentId:str source:(0 nil | index+1) metadata:str
//	record  = span type:ref unit:ref value:float64 bits (8 bytes, little-endian)
//	stage   = span stage:ref values:str
//	workout = span type:ref title:str notes:str n (type:ref unit:ref value:float64)*
//	          segments:str laps:str route:str samples:str
//
// Repeated strings (types, units, zones, stage names) and data sources are
// written once per batch. The encoding is deterministic: one batch has one
// queued form.
const queuedV1 = 1

// AppendQueued appends the queued form of b to dst.
func (b *Batch) AppendQueued(dst []byte) []byte {
	e := queuedEncoder{strings: map[string]uint64{}}
	// Items are written to a body first, the tables they fill in front of
	// it.
	body := make([]byte, 0, b.queuedSize())
	body = binary.AppendUvarint(body, uint64(len(b.Records)))
	var base int64
	for i := range b.Records {
		r := &b.Records[i]
		body = e.span(body, &r.span, &base)
		body = e.ref(body, r.Type)
		body = e.ref(body, r.Unit)
		body = binary.LittleEndian.AppendUint64(body, math.Float64bits(r.Value))
	}
	body = binary.AppendUvarint(body, uint64(len(b.Sleep)))
	for i := range b.Sleep {
		s := &b.Sleep[i]
		body = e.span(body, &s.span, &base)
		body = e.ref(body, s.Stage)
		body = appendBytes(body, s.Values)
	}
	body = binary.AppendUvarint(body, uint64(len(b.Workouts)))
	for i := range b.Workouts {
		w := &b.Workouts[i]
		body = e.span(body, &w.span, &base)
		body = e.ref(body, w.Type)
		body = appendString(body, w.Title)
		body = appendString(body, w.Notes)
		body = binary.AppendUvarint(body, uint64(len(w.Values)))
		for _, st := range w.Values {
			body = e.ref(body, st.Type)
			body = e.ref(body, st.Unit)
			body = binary.LittleEndian.AppendUint64(body, math.Float64bits(st.Value))
		}
		body = appendBytes(body, w.Segments)
		body = appendBytes(body, w.Laps)
		body = appendBytes(body, w.Route)
		body = appendBytes(body, w.Samples)
	}

	if dst == nil {
		dst = make([]byte, 0, len(body)+64*len(e.list)+256*len(e.sources)+64)
	}
	dst = append(dst, queuedV1)
	dst = appendString(dst, b.Provider)
	dst = appendString(dst, b.SDKVersion)
	if b.SyncTimestamp.IsZero() {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 1)
		dst = appendTime(dst, b.SyncTimestamp, 0)
	}
	dst = binary.AppendUvarint(dst, uint64(b.Dropped))
	dst = binary.AppendUvarint(dst, uint64(len(e.list)))
	for _, s := range e.list {
		dst = appendString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.sources)))
	for _, s := range e.sources {
		for _, f := range sourceFields(s) {
			dst = appendString(dst, *f)
		}
		if v := s.OperatingSystemVersion; v == nil {
			dst = append(dst, 0)
		} else {
			dst = append(dst, 1)
			for _, f := range []float64{v.Major, v.Minor, v.Patch} {
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
			}
		}
	}
	return append(dst, body...)
}

// queuedSize is about the size of the items' part of the queued form, so
// that it is written into one buffer instead of one that keeps growing.
func (b *Batch) queuedSize() int {
	spanSize := func(s *span) int { return 32 + len(s.ID) + len(s.ParentID) + len(s.Metadata) }
	n := 16
	for i := range b.Records {
		n += spanSize(&b.Records[i].span) + 12
	}
	for i := range b.Sleep {
		n += spanSize(&b.Sleep[i].span) + 4 + len(b.Sleep[i].Values)
	}
	for i := range b.Workouts {
		w := &b.Workouts[i]
		n += spanSize(&w.span) + 32 + len(w.Title) + len(w.Notes) + 12*len(w.Values) +
			len(w.Segments) + len(w.Laps) + len(w.Route) + len(w.Samples)
	}
	return n
}

type queuedEncoder struct {
	strings map[string]uint64
	list    []string
	sources []*Source
	last    int // index of the source found last
}

func (e *queuedEncoder) ref(dst []byte, s string) []byte {
	i, ok := e.strings[s]
	if !ok {
		i = uint64(len(e.list))
		e.strings[s] = i
		e.list = append(e.list, s)
	}
	return binary.AppendUvarint(dst, i)
}

// source returns the table index + 1 of s, 0 for nil. Items of one batch
// share a handful of sources, mostly in runs.
func (e *queuedEncoder) source(s *Source) uint64 {
	if s == nil {
		return 0
	}
	if e.last < len(e.sources) && sameSource(e.sources[e.last], s) {
		return uint64(e.last) + 1
	}
	for i, t := range e.sources {
		if sameSource(t, s) {
			e.last = i
			return uint64(i) + 1
		}
	}
	e.sources = append(e.sources, s)
	e.last = len(e.sources) - 1
	return uint64(len(e.sources))
}

func (e *queuedEncoder) span(dst []byte, s *span, base *int64) []byte {
	dst = appendTime(dst, s.Start, *base)
	*base = s.Start.Unix()
	dst = appendTime(dst, s.End, *base)
	dst = e.ref(dst, s.ZoneOffset)
	dst = appendString(dst, s.ID)
	dst = appendString(dst, s.ParentID)
	dst = binary.AppendUvarint(dst, e.source(s.Source))
	return appendBytes(dst, s.Metadata)
}

func appendTime(dst []byte, t time.Time, base int64) []byte {
	dst = binary.AppendVarint(dst, t.Unix()-base)
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// sourceFields lists the string fields of a source in their queued order.
// The snake_case names are merged into these during validation.
func sourceFields(s *Source) [13]*string {
	return [13]*string{&s.AppID, &s.Name, &s.BundleIdentifier, &s.Version, &s.ProductType, &s.DeviceID,
		&s.DeviceName, &s.DeviceManufacturer, &s.DeviceType, &s.DeviceModel, &s.DeviceHardwareVersion,
		&s.DeviceSoftwareVersion, &s.RecordingMethod}
}

func sameSource(a, b *Source) bool {
	if a.AppID != b.AppID || a.Name != b.Name || a.BundleIdentifier != b.BundleIdentifier ||
		a.Version != b.Version || a.ProductType != b.ProductType || a.DeviceID != b.DeviceID ||
		a.DeviceName != b.DeviceName || a.DeviceManufacturer != b.DeviceManufacturer ||
		a.DeviceType != b.DeviceType || a.DeviceModel != b.DeviceModel ||
		a.DeviceHardwareVersion != b.DeviceHardwareVersion || a.DeviceSoftwareVersion != b.DeviceSoftwareVersion ||
		a.RecordingMethod != b.RecordingMethod {
		return false
	}
	av, bv := a.OperatingSystemVersion, b.OperatingSystemVersion
	if av == nil || bv == nil {
		return av == bv
	}
	return *av == *bv
}

// errQueued reports a queued form that does not decode: only a bug or a
// damaged store can cause it.
var errQueued = errors.New("codec: malformed queued batch")

// DecodeQueued decodes what AppendQueued wrote. The batch owns its memory:
// it keeps no reference to p.
func DecodeQueued(p []byte) (*Batch, error) {
	d := queuedDecoder{p: p}
	if d.byte() != queuedV1 {
		return nil, errQueued
	}
	b := &Batch{Provider: d.string(), SDKVersion: d.string()}
	if d.flag() {
		b.SyncTimestamp = d.time(0)
	}
	b.Dropped = d.count(0)
	strs := make([]string, d.count(1))
	for i := range strs {
		strs[i] = d.string()
	}
	d.strings = strs
	sources := make([]*Source, d.count(14))
	for i := range sources {
		s := &Source{}
		for _, f := range sourceFields(s) {
			*f = d.string()
		}
		if d.flag() {
			s.OperatingSystemVersion = &OSVersion{Major: d.float(), Minor: d.float(), Patch: d.float()}
		}
		sources[i] = s
	}
	d.sources = sources
	var base int64
	if n := d.count(12); n > 0 {
		b.Records = make([]Record, n)
		for i := range b.Records {
			r := &b.Records[i]
			d.span(&r.span, &base)
			r.Type, r.Unit = d.ref(), d.ref()
			r.Value = d.float()
		}
	}
	if n := d.count(8); n > 0 {
		b.Sleep = make([]SleepStage, n)
		for i := range b.Sleep {
			s := &b.Sleep[i]
			d.span(&s.span, &base)
			s.Stage = d.ref()
			s.Values = d.bytes()
		}
	}
	if n := d.count(12); n > 0 {
		b.Workouts = make([]Workout, n)
		for i := range b.Workouts {
			w := &b.Workouts[i]
			d.span(&w.span, &base)
			w.Type, w.Title, w.Notes = d.ref(), d.string(), d.string()
			if n := d.count(10); n > 0 {
				w.Values = make([]WorkoutStatistic, n)
				for j := range w.Values {
					st := &w.Values[j]
					st.Type, st.Unit = d.ref(), d.ref()
					st.Value = d.float()
				}
			}
			w.Segments, w.Laps, w.Route, w.Samples = d.bytes(), d.bytes(), d.bytes(), d.bytes()
		}
	}
	if d.bad || len(d.p) != 0 {
		return nil, errQueued
	}
	return b, nil
}

// queuedDecoder reads the queued form; a read past the end or a bad
// reference sets bad and reads zeros from then on.
type queuedDecoder struct {
	p       []byte
	bad     bool
	strings []string
	sources []*Source
}

func (d *queuedDecoder) fail() { d.bad, d.p = true, nil }

// flag reads a byte that must be 0 or 1.
func (d *queuedDecoder) flag() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail()
	return false
}

func (d *queuedDecoder) byte() byte {
	if len(d.p) == 0 {
		d.fail()
		return 0
	}
	c := d.p[0]
	d.p = d.p[1:]
	return c
}

func (d *queuedDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.p = d.p[n:]
	return v
}

// varint reads what binary.AppendVarint wrote: a zig-zag uvarint.
func (d *queuedDecoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// count reads the length of a list whose elements take at least min bytes
// each, and refuses one longer than what is left could hold.
func (d *queuedDecoder) count(min int) int {
	n := d.uvarint()
	if n > uint64(len(d.p)) || (min > 0 && n > uint64(len(d.p)/min)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *queuedDecoder) raw() []byte {
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.fail()
		return nil
	}
	b := d.p[:n]
	d.p = d.p[n:]
	return b
}

func (d *queuedDecoder) string() string { return string(d.raw()) }

// bytes returns a copy of a byte string, nil for an empty one.
func (d *queuedDecoder) bytes() []byte {
	b := d.raw()
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func (d *queuedDecoder) ref() string {
	i := d.uvarint()
	if i >= uint64(len(d.strings)) {
		d.fail()
		return ""
	}
	return d.strings[i]
}

func (d *queuedDecoder) float() float64 {
	if len(d.p) < 8 {
		d.fail()
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.p))
	d.p = d.p[8:]
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.fail() // validation lets no such number through
		return 0
	}
	return f
}

func (d *queuedDecoder) time(base int64) time.Time {
	sec := d.varint() + base
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.fail()
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *queuedDecoder) span(s *span, base *int64) {
	s.Start = d.time(*base)
	*base = s.Start.Unix()
	s.End = d.time(*base)
	s.ZoneOffset = d.ref()
	s.ID, s.ParentID = d.string(), d.string()
	if i := d.uvarint(); i > uint64(len(d.sources)) {
		d.fail()
	} else if i > 0 {
		s.Source = d.sources[i-1]
	}
	s.Metadata = d.bytes()
}

// Queued returns what the write path queues for a sync body: its queued
// form, as validated with no item limit.
func Queued(body []byte) ([]byte, error) {
	b, err := DecodeSync(body, 0)
	if err != nil {
		return nil, err
	}
	return b.AppendQueued(nil), nil
}
