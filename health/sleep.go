package health

// Sleep: the stage vocabulary of the SDK and the building of sleep sessions
// from stored stages.
//
// Sessions are a pure function of the full set of stored stages of one
// (user, provider). Nothing depends on the order in which stages arrived, so
// the same night sent whole, split into batches, newest first, twice, or
// interleaved with other data always gives the same sessions with the same
// metrics. The rules, in the order BuildSessions applies them:
//
//  1. Only stages that hold time are used: an interval whose End is not after
//     its Start, or whose Stage is not one of the seven stages, is ignored
//     (it stays stored; it just contributes no time).
//  2. Times are taken in UTC, the stages are sorted canonically (start, then
//     stages that can start a session before awake and unknown, then end,
//     stage, source, zone offset) and exact duplicates are dropped.
//  3. Grouping walks the sorted stages once. A session is opened by a stage
//     that can start one (in_bed, sleeping, light, deep, rem; never awake or
//     unknown). A stage joins the open session when it starts at most
//     SessionGap (120 minutes) after the latest end of the session's stages
//     so far; a gap of exactly 120 minutes joins, 121 minutes does not. Every
//     stage that joins extends the session's reach, whatever its stage. A
//     stage farther away opens a new session if it can start one; an awake or
//     unknown stage that is in no session's reach belongs to no session. Since
//     the input is sorted by start, an awake stage that begins before the
//     first stage able to open the session is not part of it.
//  4. Cleaning (fact sheet §4.6 step 7a): if the session has no sleeping,
//     light, deep or rem stage, its in_bed stages are relabelled sleeping
//     (devices that record only time in bed); else if it has light, deep or
//     rem stages, in_bed, sleeping and unknown are dropped; else in_bed and
//     unknown are dropped. What remains is clipped in canonical order so that
//     earlier stages win: a stage starting before the end of the previous
//     ones is moved to start there, and a stage left empty is dropped. The
//     cleaned stages never overlap, so no minute counts twice.
//  5. Metrics: minutes per stage are the sums over the cleaned stages; total
//     sleep is sleeping + light + deep + rem. Time in bed is the length of the
//     union of the session's in_bed and sleeping stages (as stored, before
//     cleaning) and its cleaned stages: when detailed stages exist, in_bed and
//     sleeping only give the time in bed, and a minute covered by several of
//     them counts once. This is never less than Open Wearables'
//     max(union of in_bed, total sleep + awake) and equals it in every worked
//     example of the specification; it differs only when in_bed covers part
//     of the night, where the union also counts the uncovered minutes.
//     Efficiency is total sleep / time in bed × 100 (0 when time in bed is 0).
//  6. The session runs from the start of its first cleaned stage to the end of
//     its last one. Its Source is the data source that contributes the most
//     cleaned sleep time (light, deep, rem or sleeping; ties go to the
//     smallest source key), that is the source of its detailed stages. Its
//     ZoneOffset is the first non-empty zone offset of its stages in
//     canonical order.
//
// Differences from Open Wearables' sleep path, on purpose: there is no open
// session state, no per-user lock and no stage is skipped for arriving late;
// sessions are kept per (user, provider) across that provider's devices.

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SessionGap is the largest gap between stages of one session: stages more
// than this apart start a new session.
const SessionGap = 120 * time.Minute

// Stage is a sleep stage as sent by the SDKs in data.sleep[].stage.
type Stage uint8

// The sleep stages. The zero value is not a stage.
const (
	StageInvalid  Stage = iota // not a stage; ParseStage never returns it with true
	StageInBed                 // "in_bed": in bed, asleep or not
	StageSleeping              // "sleeping": asleep, stage not specified
	StageAwake                 // "awake"
	StageLight                 // "light": light or core sleep
	StageDeep                  // "deep"
	StageRem                   // "rem"
	StageUnknown               // "unknown": stored, but never counted in a session
)

// stageWire holds the wire value of each stage, indexed by Stage.
var stageWire = [...]string{
	StageInBed:    "in_bed",
	StageSleeping: "sleeping",
	StageAwake:    "awake",
	StageLight:    "light",
	StageDeep:     "deep",
	StageRem:      "rem",
	StageUnknown:  "unknown",
}

// Stages lists every stage in a fixed order.
var Stages = []Stage{StageInBed, StageSleeping, StageAwake, StageLight, StageDeep, StageRem, StageUnknown}

// ParseStage maps a wire value to its stage. The match is exact and
// lower-case, as Open Wearables': "LIGHT" or "asleep" are not stages.
func ParseStage(wire string) (Stage, bool) {
	for _, s := range Stages {
		if stageWire[s] == wire {
			return s, true
		}
	}
	return StageInvalid, false
}

// String returns the wire value of the stage, or "Stage(n)" for a value that
// is not a stage.
func (s Stage) String() string {
	if s.Valid() {
		return stageWire[s]
	}
	return "Stage(" + strconv.Itoa(int(s)) + ")"
}

// Valid reports whether s is one of the seven stages.
func (s Stage) Valid() bool { return s >= StageInBed && s <= StageUnknown }

// CanStartSession reports whether a stage may open a session: every stage but
// awake and unknown.
func (s Stage) CanStartSession() bool {
	switch s {
	case StageInBed, StageSleeping, StageLight, StageDeep, StageRem:
		return true
	}
	return false
}

// IsDetailed reports whether the stage is a detailed sleep stage (light, deep,
// rem).
func (s Stage) IsDetailed() bool { return s == StageLight || s == StageDeep || s == StageRem }

// IsAsleep reports whether time in the stage counts as sleep (sleeping, light,
// deep, rem).
func (s Stage) IsAsleep() bool { return s == StageSleeping || s.IsDetailed() }

// SleepInterval is one stored sleep stage.
type SleepInterval struct {
	Stage      Stage
	Start, End time.Time
	Source     string // key of the data source that wrote it; opaque here
	ZoneOffset string // "+HH:MM", or empty
}

// Session is one night (or nap) of sleep built from stored stages.
//
// Minutes are exact (seconds / 60, not rounded) and Efficiency is a percent,
// not rounded: the read API rounds them for display (Open Wearables stores
// whole minutes, seconds // 60, and an efficiency with two decimals). All
// times are in UTC; ZoneOffset gives the local offset.
type Session struct {
	Start, End time.Time
	Source     string          // data source of its detailed stages
	Stages     []SleepInterval // cleaned: sorted, non-overlapping, no in_bed or unknown
	ZoneOffset string

	LightMinutes      float64
	DeepMinutes       float64
	RemMinutes        float64
	AwakeMinutes      float64
	SleepingMinutes   float64 // asleep with no stage given
	TotalSleepMinutes float64 // sleeping + light + deep + rem
	TimeInBedMinutes  float64
	Efficiency        float64 // TotalSleepMinutes / TimeInBedMinutes × 100; 0 when no time in bed
}

// Duration is the length of the session's window, End − Start.
func (s *Session) Duration() time.Duration { return s.End.Sub(s.Start) }

// Interruptions counts the awake spells between the first and the last
// asleep stage of the session; adjacent awake stages are one spell, and
// awake time before falling asleep or after the final wake-up is none.
func (s *Session) Interruptions() int {
	first, last := -1, -1
	for i := range s.Stages {
		if s.Stages[i].Stage != StageAwake {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	n := 0
	for i := first + 1; i < last; i++ {
		if s.Stages[i].Stage == StageAwake && s.Stages[i-1].Stage != StageAwake {
			n++
		}
	}
	return n
}

// BuildSessions builds the sleep sessions of one (user, provider) from all of
// its stored stages, in any order and possibly with duplicates. The result is
// sorted by start and depends only on the set of stages given. The input is
// not modified. See the rules at the top of this file.
func BuildSessions(stages []SleepInterval) []Session {
	in := make([]SleepInterval, 0, len(stages))
	for _, s := range stages {
		if !s.Stage.Valid() || !s.End.After(s.Start) {
			continue
		}
		s.Start, s.End = s.Start.UTC(), s.End.UTC()
		in = append(in, s)
	}
	slices.SortFunc(in, sleepCompare)
	in = slices.CompactFunc(in, func(a, b SleepInterval) bool { return sleepCompare(a, b) == 0 })

	var sessions []Session
	var members []SleepInterval
	var reach time.Time // latest end of the open session's stages
	for _, s := range in {
		if len(members) > 0 && !s.Start.After(reach.Add(SessionGap)) {
			members = append(members, s)
			if s.End.After(reach) {
				reach = s.End
			}
			continue
		}
		if !s.Stage.CanStartSession() {
			continue
		}
		if len(members) > 0 {
			sessions = append(sessions, sessionFrom(members))
		}
		members = []SleepInterval{s}
		reach = s.End
	}
	if len(members) > 0 {
		sessions = append(sessions, sessionFrom(members))
	}
	return sessions
}

// sleepCompare is the canonical order of stages: start; at the same start,
// stages that can open a session first; then end, stage, source and zone
// offset. Times must be in UTC.
func sleepCompare(a, b SleepInterval) int {
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	if ca, cb := a.Stage.CanStartSession(), b.Stage.CanStartSession(); ca != cb {
		if ca {
			return -1
		}
		return 1
	}
	if c := a.End.Compare(b.End); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Stage, b.Stage); c != 0 {
		return c
	}
	if c := strings.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	return strings.Compare(a.ZoneOffset, b.ZoneOffset)
}

// sessionFrom cleans the stages of one session (canonically sorted, without
// duplicates) and computes its window and metrics.
func sessionFrom(members []SleepInterval) Session {
	var hasAsleep, hasDetailed bool
	for _, m := range members {
		hasAsleep = hasAsleep || m.Stage.IsAsleep()
		hasDetailed = hasDetailed || m.Stage.IsDetailed()
	}

	// Keep the stages that count, then clip overlaps: earlier stages win.
	kept := make([]SleepInterval, 0, len(members))
	for _, m := range members {
		switch {
		case m.Stage == StageUnknown:
			continue
		case m.Stage == StageInBed:
			if hasAsleep {
				continue
			}
			m.Stage = StageSleeping // only time in bed was recorded
		case m.Stage == StageSleeping && hasDetailed:
			continue
		}
		kept = append(kept, m)
	}
	slices.SortFunc(kept, sleepCompare) // relabelling may change the order of ties
	cleaned := kept[:0]
	var cursor time.Time
	for i, k := range kept {
		if i > 0 && k.Start.Before(cursor) {
			k.Start = cursor
		}
		if !k.End.After(k.Start) {
			continue
		}
		cleaned = append(cleaned, k)
		cursor = k.End
	}

	var sess Session
	var per [StageUnknown + 1]time.Duration
	bySource := map[string]time.Duration{}
	for _, c := range cleaned {
		d := c.End.Sub(c.Start)
		per[c.Stage] += d
		if c.Stage.IsAsleep() {
			bySource[c.Source] += d
		}
	}
	if len(bySource) == 0 { // every asleep stage was covered by awake ones
		for _, c := range cleaned {
			bySource[c.Source] += c.End.Sub(c.Start)
		}
	}
	var best time.Duration
	first := true
	for src, d := range bySource {
		if first || d > best || (d == best && src < sess.Source) {
			sess.Source, best, first = src, d, false
		}
	}

	// Time in bed: union of stored in_bed and sleeping stages and the cleaned
	// stages.
	bed := make([]SleepInterval, 0, len(members)+len(cleaned))
	for _, m := range members {
		if m.Stage == StageInBed || m.Stage == StageSleeping {
			bed = append(bed, m)
		}
	}
	bed = append(bed, cleaned...)
	inBed := sleepUnion(bed)

	for _, m := range members {
		if m.ZoneOffset != "" {
			sess.ZoneOffset = m.ZoneOffset
			break
		}
	}
	if len(cleaned) > 0 {
		sess.Start, sess.End = cleaned[0].Start, cleaned[len(cleaned)-1].End
		sess.Stages = cleaned
	} else { // cannot happen with stages that hold time; kept for safety
		sess.Start, sess.End = members[0].Start, members[0].End
		for _, m := range members {
			if m.End.After(sess.End) {
				sess.End = m.End
			}
		}
	}

	asleep := per[StageSleeping] + per[StageLight] + per[StageDeep] + per[StageRem]
	sess.LightMinutes = sleepMinutes(per[StageLight])
	sess.DeepMinutes = sleepMinutes(per[StageDeep])
	sess.RemMinutes = sleepMinutes(per[StageRem])
	sess.AwakeMinutes = sleepMinutes(per[StageAwake])
	sess.SleepingMinutes = sleepMinutes(per[StageSleeping])
	sess.TotalSleepMinutes = sleepMinutes(asleep)
	sess.TimeInBedMinutes = sleepMinutes(inBed)
	if inBed > 0 {
		sess.Efficiency = float64(asleep) / float64(inBed) * 100
	}
	return sess
}

// sleepUnion is the total length covered by the intervals, each instant
// counted once.
func sleepUnion(iv []SleepInterval) time.Duration {
	slices.SortFunc(iv, func(a, b SleepInterval) int { return a.Start.Compare(b.Start) })
	var total time.Duration
	var curStart, curEnd time.Time
	for i, x := range iv {
		if i == 0 || x.Start.After(curEnd) {
			if i > 0 {
				total += curEnd.Sub(curStart)
			}
			curStart, curEnd = x.Start, x.End
			continue
		}
		if x.End.After(curEnd) {
			curEnd = x.End
		}
	}
	if len(iv) > 0 {
		total += curEnd.Sub(curStart)
	}
	return total
}

// sleepMinutes converts a duration to minutes.
func sleepMinutes(d time.Duration) float64 { return float64(d) / float64(time.Minute) }
