package bench

import (
	"encoding/hex"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// writer appends JSON for one body.
type writer struct {
	r      *rand.Rand
	b      []byte
	body   *Body
	day    time.Time // the body's day, 00:00 UTC
	device int
	zone   string
	first  bool // no comma before the next item
}

func (w *writer) raw(s string) { w.b = append(w.b, s...) }

// str writes a JSON string; it escapes only what our own strings can hold.
func (w *writer) str(s string) {
	w.b = append(w.b, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			w.b = append(w.b, '\\', c)
		} else {
			w.b = append(w.b, c)
		}
	}
	w.b = append(w.b, '"')
}

func (w *writer) strOrNull(s string) {
	if s == "" {
		w.raw("null")
		return
	}
	w.str(s)
}

func (w *writer) time(t time.Time) {
	w.b = append(w.b, '"')
	w.b = t.UTC().AppendFormat(w.b, "2006-01-02T15:04:05Z")
	w.b = append(w.b, '"')
}

func (w *writer) num(v float64, decimals int) {
	if decimals <= 0 {
		w.b = strconv.AppendFloat(w.b, math.Round(v), 'f', -1, 64)
		return
	}
	p := math.Pow10(decimals)
	w.b = strconv.AppendFloat(w.b, math.Round(v*p)/p, 'f', -1, 64)
}

func (w *writer) int(v int) { w.b = strconv.AppendInt(w.b, int64(v), 10) }

// uuid writes a random version 4 UUID, without quotes.
func (w *writer) uuid(upper bool) {
	var id [16]byte
	a, b := w.r.Uint64(), w.r.Uint64()
	for i := range 8 {
		id[i], id[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	w.b = appendUUID(w.b, id, upper)
}

// newID returns a random UUID as a string (for parent ids used twice).
func (w *writer) newID(upper bool) string {
	start := len(w.b)
	w.uuid(upper)
	s := string(w.b[start:])
	w.b = w.b[:start]
	return s
}

func appendUUID(dst []byte, id [16]byte, upper bool) []byte {
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], id[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], id[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], id[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], id[8:10])
	s[23] = '-'
	hex.Encode(s[24:], id[10:])
	if upper {
		for i, c := range s {
			if c >= 'a' && c <= 'f' {
				s[i] = c - 'a' + 'A'
			}
		}
	}
	return append(dst, s[:]...)
}

func (w *writer) sep() {
	if w.first {
		w.first = false
		return
	}
	w.b = append(w.b, ',')
}

func (w *writer) between(lo, hi float64) float64 { return lo + w.r.Float64()*(hi-lo) }

// metric is one record type of a provider.
type metric struct {
	typ      string
	unit     string
	lo, hi   float64
	decimals int
	// span is the length of an interval sample in seconds; 0 for an
	// instant sample.
	span int
	// src picks the source: 0 the watch, 1 the phone.
	src int
}

// spread returns n sample times, newest first, evenly over the body's day
// with jitter, each in its own slot so that no two are equal.
func (w *writer) spread(n int, i int) time.Time {
	slot := 86400 / max(n, 1)
	off := (n-1-i)*slot + w.r.IntN(max(slot, 1))
	return w.day.Add(time.Duration(off) * time.Second)
}

// split gives type t its share of n records.
func split(n, types, t int) int {
	q := n / types
	if t < n%types {
		q++
	}
	return q
}

// night is one night of sleep: stages[i] runs from the end of the stage
// before it (from start for the first) to ends[i].
type night struct {
	start  time.Time
	stages []string
	ends   []time.Time
}

// sleepNight returns the n stages of one night: cycles of light, deep, rem
// and short awakenings.
func (w *writer) sleepNight(n int) night {
	nt := night{start: w.day.Add(time.Duration(15+w.r.IntN(60)) * time.Minute)}
	cycle := []string{"light", "deep", "light", "rem", "awake"}
	t := nt.start
	for i := range n {
		s := cycle[i%len(cycle)]
		var d int
		switch s {
		case "light":
			d = 10 + w.r.IntN(25)
		case "deep":
			d = 15 + w.r.IntN(35)
		case "rem":
			d = 10 + w.r.IntN(25)
		default:
			d = 1 + w.r.IntN(5)
		}
		t = t.Add(time.Duration(d) * time.Minute)
		nt.stages = append(nt.stages, s)
		nt.ends = append(nt.ends, t)
	}
	return nt
}

// stat is one statistic of a workout, or one sample of a workout's log.
type stat struct {
	typ, unit string
	v         float64
	dec       int
}
