package pebblestore

import (
	"encoding/hex"
	"math"
)

// The ids clients know events by are the hex of the key fields that name
// them, 8 bytes each: a workout's data source, start and end (WorkoutRef),
// a sleep session's provider code, start and end. The read path writes
// them; these parse them back for the read and write paths alike.

// ParseWorkoutID reads a workout id.
func ParseWorkoutID(id string) (WorkoutRef, bool) {
	v, ok := parseHexID(id, 3)
	if !ok || v[0] > math.MaxUint32 {
		return WorkoutRef{}, false
	}
	return WorkoutRef{SID: uint32(v[0]), Start: int64(v[1]), End: int64(v[2])}, true
}

// ParseSleepID reads a sleep session id: its provider code, start and end
// (Unix µs).
func ParseSleepID(id string) (provider byte, start, end int64, ok bool) {
	v, ok := parseHexID(id, 3)
	if !ok || v[0] == 0 || v[0] > 3 {
		return 0, 0, 0, false
	}
	return byte(v[0]), int64(v[1]), int64(v[2]), true
}

func parseHexID(s string, n int) ([]uint64, bool) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 8*n {
		return nil, false
	}
	out := make([]uint64, n)
	for i := range out {
		for j := 0; j < 8; j++ {
			out[i] = out[i]<<8 | uint64(b[i*8+j])
		}
	}
	return out, true
}
