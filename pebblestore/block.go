package pebblestore

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"slices"
)

// Point is one stored series sample. Times are Unix microseconds.
type Point struct {
	Start    int64
	End      int64
	Value    float64
	Zone     string // "+HH:MM" or empty
	ExtID    string
	ParentID string
	Meta     []byte // raw JSON, or nil
}

// A block holds the points of one (user, series, hour, data source), sorted
// by Start, at most one per Start: a point with the Start of a stored one
// replaces it (a replayed record overwrites, never duplicates).
//
// Block encoding, version 1, column by column so that Pebble's block
// compression sees long runs of equal bytes:
//
//	u8 version=1, uvarint n
//	starts:    n × zigzag varint, delta of delta of (Start - hour start)
//	durations: n × zigzag varint, delta of (End - Start) from the previous point
//	values:    u8 mode; mode 0: u8 k, n × zigzag varint delta of round(v·10^k)
//	           (used only when every value round-trips exactly); mode 1: n × 8 bytes
//	zones:     uvarint count, count × (u8 len, bytes); then runs: uvarint length, uvarint index
//	ext ids:   u8 mode; 0: all empty; 1: n × (uvarint shared prefix, uvarint
//	           suffix len, suffix); 2 or 3: every id is a canonical UUID in
//	           upper (2) or lower (3) case, n × 16 bytes
//	parents:   same as ext ids
//	meta:      u8 present; if 1: n × (uvarint len, bytes)

const blockV1 = 1

var errBlock = errors.New("pebblestore: malformed series block")

// encodeBlock encodes points sorted by Start with unique Starts.
func encodeBlock(base int64, pts []Point) []byte {
	n := len(pts)
	out := make([]byte, 0, 16+n*4)
	out = append(out, blockV1)
	out = binary.AppendUvarint(out, uint64(n))
	var prev, prevDelta int64
	for i, p := range pts {
		off := p.Start - base
		d := off - prev
		if i == 0 {
			d = off
		}
		out = binary.AppendVarint(out, d-prevDelta)
		prevDelta, prev = d, off
	}
	var prevDur int64
	for _, p := range pts {
		dur := p.End - p.Start
		out = binary.AppendVarint(out, dur-prevDur)
		prevDur = dur
	}
	if k, ok := decimalExponent(pts); ok {
		out = append(out, 0, byte(k))
		scale := math.Pow10(k)
		var prevV int64
		for _, p := range pts {
			v := int64(math.Round(p.Value * scale))
			out = binary.AppendVarint(out, v-prevV)
			prevV = v
		}
	} else {
		out = append(out, 1)
		for _, p := range pts {
			out = binary.BigEndian.AppendUint64(out, math.Float64bits(p.Value))
		}
	}
	// Zones: a dictionary and runs.
	var dict []string
	index := map[string]int{}
	for _, p := range pts {
		if _, ok := index[p.Zone]; !ok {
			index[p.Zone] = len(dict)
			dict = append(dict, p.Zone)
		}
	}
	out = binary.AppendUvarint(out, uint64(len(dict)))
	for _, z := range dict {
		out = append(out, byte(len(z)))
		out = append(out, z...)
	}
	for i := 0; i < n; {
		j := i
		for j < n && pts[j].Zone == pts[i].Zone {
			j++
		}
		out = binary.AppendUvarint(out, uint64(j-i))
		out = binary.AppendUvarint(out, uint64(index[pts[i].Zone]))
		i = j
	}
	out = appendFrontCoded(out, pts, func(p *Point) string { return p.ExtID })
	out = appendFrontCoded(out, pts, func(p *Point) string { return p.ParentID })
	hasMeta := false
	for _, p := range pts {
		if len(p.Meta) > 0 {
			hasMeta = true
			break
		}
	}
	if !hasMeta {
		out = append(out, 0)
	} else {
		out = append(out, 1)
		for _, p := range pts {
			out = binary.AppendUvarint(out, uint64(len(p.Meta)))
			out = append(out, p.Meta...)
		}
	}
	return out
}

// decimalExponent finds the smallest k ≤ 6 for which every value is an
// integer number of 10^-k that converts back to exactly the same float.
func decimalExponent(pts []Point) (int, bool) {
next:
	for k := 0; k <= 6; k++ {
		scale := math.Pow10(k)
		for _, p := range pts {
			s := p.Value * scale
			if math.IsNaN(s) || math.Abs(s) > 1<<52 {
				return 0, false
			}
			r := math.Round(s)
			if r/scale != p.Value {
				continue next
			}
		}
		return k, true
	}
	return 0, false
}

func appendFrontCoded(out []byte, pts []Point, get func(*Point) string) []byte {
	present := false
	for i := range pts {
		if get(&pts[i]) != "" {
			present = true
			break
		}
	}
	if !present {
		return append(out, 0)
	}
	if mode := uuidMode(pts, get); mode != 0 {
		out = append(out, mode)
		for i := range pts {
			out = appendUUID(out, get(&pts[i]))
		}
		return out
	}
	out = append(out, 1)
	prev := ""
	for i := range pts {
		s := get(&pts[i])
		shared := 0
		for shared < len(s) && shared < len(prev) && s[shared] == prev[shared] {
			shared++
		}
		out = binary.AppendUvarint(out, uint64(shared))
		out = binary.AppendUvarint(out, uint64(len(s)-shared))
		out = append(out, s[shared:]...)
		prev = s
	}
	return out
}

type blockReader struct {
	b   []byte
	err error
}

func (r *blockReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBlock
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *blockReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errBlock
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *blockReader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errBlock
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *blockReader) byte1() byte {
	b := r.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

// decodeBlock decodes a block; the points own their bytes.
func decodeBlock(base int64, b []byte) ([]Point, error) {
	r := &blockReader{b: b}
	if r.byte1() != blockV1 {
		return nil, errBlock
	}
	n64 := r.uvarint()
	if r.err != nil || n64 > uint64(len(b)) {
		return nil, errBlock
	}
	n := int(n64)
	pts := make([]Point, n)
	var prev, prevDelta int64
	for i := range pts {
		d := r.varint() + prevDelta
		off := prev + d
		if i == 0 {
			off = d
		}
		pts[i].Start = base + off
		prevDelta, prev = d, off
	}
	var prevDur int64
	for i := range pts {
		dur := r.varint() + prevDur
		pts[i].End = pts[i].Start + dur
		prevDur = dur
	}
	switch r.byte1() {
	case 0:
		scale := math.Pow10(int(r.byte1()))
		var prevV int64
		for i := range pts {
			prevV += r.varint()
			pts[i].Value = float64(prevV) / scale
		}
	case 1:
		for i := range pts {
			if raw := r.bytes(8); raw != nil {
				pts[i].Value = math.Float64frombits(binary.BigEndian.Uint64(raw))
			}
		}
	default:
		return nil, errBlock
	}
	nz := int(r.uvarint())
	if nz > n+1 {
		return nil, errBlock
	}
	dict := make([]string, nz)
	for i := range dict {
		dict[i] = string(r.bytes(int(r.byte1())))
	}
	for i := 0; i < n && r.err == nil; {
		run, idx := int(r.uvarint()), int(r.uvarint())
		if run <= 0 || i+run > n || idx >= nz {
			return nil, errBlock
		}
		for j := i; j < i+run; j++ {
			pts[j].Zone = dict[idx]
		}
		i += run
	}
	readFrontCoded(r, pts, func(p *Point, s string) { p.ExtID = s })
	readFrontCoded(r, pts, func(p *Point, s string) { p.ParentID = s })
	if r.byte1() == 1 {
		for i := range pts {
			if m := r.bytes(int(r.uvarint())); len(m) > 0 {
				pts[i].Meta = append([]byte(nil), m...)
			}
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return pts, nil
}

func readFrontCoded(r *blockReader, pts []Point, set func(*Point, string)) {
	switch mode := r.byte1(); mode {
	case 0:
		return
	case 2, 3:
		for i := range pts {
			raw := r.bytes(16)
			if raw == nil {
				return
			}
			set(&pts[i], FormatUUID(raw, mode == 3))
		}
		return
	case 1:
	default:
		r.err = errBlock
		return
	}
	prev := ""
	for i := range pts {
		shared := int(r.uvarint())
		suffix := r.bytes(int(r.uvarint()))
		if r.err != nil || shared > len(prev) {
			r.err = errBlock
			return
		}
		s := prev[:shared] + string(suffix)
		set(&pts[i], s)
		prev = s
	}
}

// mergePoints merges incoming points into stored ones: the same Start is
// replaced by the incoming point, and among incoming points with one Start
// the last wins. Both inputs may be unsorted; the result is sorted.
func mergePoints(stored, incoming []Point) []Point {
	byStart := make(map[int64]int, len(stored)+len(incoming))
	out := make([]Point, 0, len(stored)+len(incoming))
	for _, set := range [][]Point{stored, incoming} {
		for _, p := range set {
			if i, ok := byStart[p.Start]; ok {
				out[i] = p
				continue
			}
			byStart[p.Start] = len(out)
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Point) int { return cmp.Compare(a.Start, b.Start) })
	return out
}

// uuidMode returns 2 when every id is a canonical upper-case UUID (as
// HealthKit sends), 3 when every id is a lower-case one, else 0. Such ids
// are stored as their 16 bytes.
func uuidMode(pts []Point, get func(*Point) string) byte {
	var mode byte
	for i := range pts {
		m := uuidCase(get(&pts[i]))
		if m == 0 || (mode != 0 && m != mode) {
			return 0
		}
		mode = m
	}
	return mode
}

func uuidCase(s string) byte {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return 0
	}
	var cases byte
	for _, i := range uuidHexAt {
		c := s[i]
		if hexValue[c] > 15 {
			return 0
		}
		cases |= hexCase[c]
	}
	switch cases {
	case 3:
		return 0 // mixed
	case 2:
		return 3
	default:
		return 2 // digits only count as upper case; they print the same
	}
}

// uuidHexAt are the indexes of the 32 hex digits of a canonical UUID.
var uuidHexAt = [32]uint8{0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17,
	19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35}

// hexValue is the value of a hex digit, 255 for any other byte; hexCase
// is 1 for an upper-case digit, 2 for a lower-case one.
var hexValue, hexCase = func() (v, c [256]byte) {
	for i := range v {
		v[i] = 255
	}
	for i := byte(0); i < 10; i++ {
		v['0'+i] = i
	}
	for i := byte(0); i < 6; i++ {
		v['A'+i], v['a'+i] = 10+i, 10+i
		c['A'+i], c['a'+i] = 1, 2
	}
	return v, c
}()

// appendUUID appends the 16 bytes of a canonical UUID that uuidCase
// accepted.
func appendUUID(out []byte, s string) []byte {
	var b [16]byte
	for j := range b {
		b[j] = hexValue[s[uuidHexAt[2*j]]]<<4 | hexValue[s[uuidHexAt[2*j+1]]]
	}
	return append(out, b[:]...)
}

// FormatUUID writes 16 bytes (b holds at least 16) as a canonical UUID, in
// lower or upper case.
func FormatUUID(b []byte, lower bool) string {
	digits := "0123456789ABCDEF"
	if lower {
		digits = "0123456789abcdef"
	}
	var out [36]byte
	for i := range out {
		out[i] = '-'
	}
	for j, c := range b[:16] {
		out[uuidHexAt[2*j]], out[uuidHexAt[2*j+1]] = digits[c>>4], digits[c&15]
	}
	return string(out[:])
}
