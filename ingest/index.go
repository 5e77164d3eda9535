package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"wearhouse/codec"
	"wearhouse/health"
	"wearhouse/pebblestore"
)

// index adds one batch's index entries to the index batch and completes
// its run. An item that would pass a dictionary limit of its user is
// counted in the run and not indexed; an item that cannot be stored for a
// reason of its own is a *batchFault; any other error is the store's.
//
// An import's chunk (e.Import) only fills gaps: a sample already stored
// stays, and counts in run.Import.Duplicates (for points, once the batch
// is merged: IndexBatch.Merge).
func (c *Compactor) index(ib *pebblestore.IndexBatch, e *pebblestore.QueueEntry, run *pebblestore.Run, batch *codec.Batch) error {
	if c.indexHook != nil {
		c.indexHook(e)
	}
	var rj rejections
	provider := batch.Provider
	user := e.UserIID
	for i := range batch.Records {
		if i%512 == 511 {
			runtime.Gosched()
		}
		r := &batch.Records[i]
		sid, err := ib.DataSource(sourceRecord(user, provider, r.Source))
		if rj.add(err) {
			continue
		} else if err != nil {
			return err
		}
		value := r.Value
		var series uint16
		if s, ok := health.MapMetric(r.Type); ok {
			series = s.ID
			value = health.NormalizeValue(provider, s, value, r.Unit)
		} else {
			typ := r.Type
			if typ == "" {
				typ = "unknown"
			}
			if series, err = ib.CustomSeries(user, typ, r.Unit); rj.add(err) {
				continue
			} else if err != nil {
				return err
			}
			run.UnmappedCount++
		}
		p := pebblestore.Point{
			Start: r.Start.UnixMicro(), End: r.End.UnixMicro(), Value: value, Zone: r.ZoneOffset,
			ExtID: r.ID, ParentID: r.ParentID, Meta: rawJSON(r.Metadata),
		}
		if e.Import {
			ib.AddImportedPoint(user, series, sid, p, run.Seq)
		} else {
			ib.AddPoint(user, series, sid, p)
		}
		run.RecordsSaved++
	}
	for i := range batch.Workouts {
		w := &batch.Workouts[i]
		if err := c.indexWorkout(ib, user, provider, e, i, w); rj.add(err) {
			continue
		} else if errors.Is(err, errDuplicate) {
			run.Import.Duplicates++
			continue
		} else if err != nil {
			return err
		}
		run.WorkoutsSaved++
	}
	for i := range batch.Sleep {
		s := &batch.Sleep[i]
		sid, err := ib.DataSource(sourceRecord(user, provider, s.Source))
		if rj.add(err) {
			continue
		} else if err != nil {
			return err
		}
		stage, ok := parseStage(s.Stage)
		if !ok {
			stage = health.StageUnknown
			run.UnmappedCount++
		}
		rec := &pebblestore.SleepStageRecord{
			Provider: pebblestore.ProviderCode(provider), Start: s.Start.UnixMicro(), End: s.End.UnixMicro(),
			SID: sid, Stage: byte(stage), Zone: s.ZoneOffset, ExtID: s.ID, ParentID: s.ParentID,
		}
		if e.Import {
			if has, err := ib.HasSleepStage(user, rec); err != nil {
				return err
			} else if has {
				run.Import.Duplicates++
				continue
			}
		}
		if err := ib.PutSleepStage(user, rec); err != nil {
			return err
		}
		run.SleepSaved++
	}
	run.DroppedCount = batch.Dropped
	run.Items = batch.Items() + batch.Dropped
	run.Status = "completed"
	run.CompletedAt = run.StartedAt
	if rj.n > 0 {
		run.RejectedCount = rj.n
		run.Message = fmt.Sprintf("%d item(s) not indexed: %s.", rj.n, strings.Join(rj.reasons, "; "))
		c.log.Warn().Uint64("seq", e.Seq).Int("items", rj.n).Str("reason", strings.Join(rj.reasons, "; ")).
			Msg("items not indexed: past a dictionary limit of their user")
	}
	return nil
}

// rejections are the items of a batch kept out of the index by a
// dictionary limit of their user, and the limits that did it.
type rejections struct {
	n       int
	reasons []string
}

// add counts an item when err is a dictionary limit, and reports whether
// it was.
func (r *rejections) add(err error) bool {
	var le *pebblestore.LimitError
	if !errors.As(err, &le) {
		return false
	}
	r.n++
	reason := fmt.Sprintf("the user has reached the limit of %d distinct %s", le.Limit, le.What)
	if !slices.Contains(r.reasons, reason) {
		r.reasons = append(r.reasons, reason)
	}
	return true
}

var workoutDetails = []string{
	health.DetailDistance, health.DetailStepsCount, health.DetailHeartRateMin, health.DetailHeartRateAvg,
	health.DetailHeartRateMax, health.DetailAverageWatts, health.DetailAverageSpeed, health.DetailMaxSpeed,
	health.DetailTotalElevationGain, health.DetailElevHigh, health.DetailElevLow,
}

// errDuplicate is an imported workout that is stored already.
var errDuplicate = errors.New("ingest: stored already")

func (c *Compactor) indexWorkout(ib *pebblestore.IndexBatch, user uint32, provider string, e *pebblestore.QueueEntry, i int, w *codec.Workout) error {
	sid, err := ib.DataSource(sourceRecord(user, provider, w.Source))
	if err != nil {
		return err
	}
	if e.Import {
		if has, err := ib.HasWorkout(user, sid, w.Start.UnixMicro(), w.End.UnixMicro()); err != nil {
			return err
		} else if has {
			return errDuplicate
		}
	}
	var stats []health.Stat
	if w.Values != nil {
		stats = make([]health.Stat, 0, len(w.Values))
	}
	rec := &pebblestore.WorkoutRecord{
		Type: health.WorkoutType(w.Type), SDKType: w.Type, Title: w.Title, Notes: w.Notes, Zone: w.ZoneOffset,
		ExtID: w.ID, ParentID: w.ParentID, Metadata: rawJSON(w.Metadata), BatchSeq: e.Seq,
	}
	for _, st := range w.Values {
		stats = append(stats, health.Stat{Type: st.Type, Unit: st.Unit, Value: st.Value})
		rec.Statistics = append(rec.Statistics, pebblestore.WorkoutStat{Type: st.Type, Unit: st.Unit, Value: st.Value})
	}
	sum := health.SummarizeWorkout(w.Start, w.End, stats)
	rec.DurationSeconds = sum.DurationSeconds
	rec.EnergyKcal = sum.EnergyKcal
	for _, f := range workoutDetails {
		if v := sum.Detail(f); v != nil {
			if rec.Details == nil {
				rec.Details = map[string]float64{}
			}
			rec.Details[f] = *v
		}
	}
	main, err := pebblestore.EncodeWorkout(rec)
	if err != nil {
		// A value of the workout cannot be stored (a sum of its statistics
		// past the range of a float64, for one): the batch's fault.
		return &batchFault{reason: fmt.Sprintf("workout %d (of those that passed validation) cannot be stored: %v", i, err)}
	}
	var parts [5][]byte
	parts[pebblestore.PartWorkout] = main
	parts[pebblestore.PartRoute] = rawJSON(w.Route)
	parts[pebblestore.PartSamples] = rawJSON(w.Samples)
	parts[pebblestore.PartLaps] = rawJSON(w.Laps)
	parts[pebblestore.PartSegments] = rawJSON(w.Segments)
	start, end := w.Start.UnixMicro(), w.End.UnixMicro()
	if err := ib.PutWorkout(user, sid, start, end, parts); err != nil {
		return err
	}
	for _, s := range sum.SeriesSamples {
		series, ok := health.SeriesByCode(s.Series)
		if !ok {
			continue
		}
		ib.AddPoint(user, series.ID, sid, pebblestore.Point{Start: end, End: end, Value: s.Value, Zone: w.ZoneOffset})
	}
	return nil
}

// sourceRecord resolves the data source of an item (fact sheet §4.7): the
// device model is deviceModel, else productType; the source name is name,
// else deviceName, else appId, else bundleIdentifier.
func sourceRecord(user uint32, provider string, s *codec.Source) pebblestore.SourceRecord {
	r := pebblestore.SourceRecord{UserIID: user, Provider: provider}
	if s == nil {
		r.DeviceType = health.InferDeviceType("")
		return r
	}
	r.DeviceModel = firstNonEmpty(s.DeviceModel, s.ProductType)
	r.SourceName = firstNonEmpty(s.Name, s.DeviceName, s.AppID, s.BundleIdentifier)
	r.DeviceType = health.InferDeviceType(r.DeviceModel)
	if v := s.OperatingSystemVersion; v != nil {
		r.SoftwareVersion = formatVersion(v)
	}
	return r
}

func formatVersion(v *codec.OSVersion) string {
	f := func(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }
	return f(v.Major) + "." + f(v.Minor) + "." + f(v.Patch)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// rawJSON keeps a raw JSON value, dropping null and empty ones.
func rawJSON(b []byte) []byte {
	t := bytes.TrimSpace(b)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil
	}
	return bytes.Clone(t)
}

// parseStage reads a sleep stage as the SDKs name it ("in_bed"), and also
// in another case or spelling of the same name ("IN_BED", "inBed"), which
// older clients send. Anything else is stored as unknown, not lost.
func parseStage(wire string) (health.Stage, bool) {
	if st, ok := health.ParseStage(wire); ok {
		return st, true
	}
	squash := func(s string) string {
		return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "")
	}
	w := squash(wire)
	for st := health.StageInBed; st.Valid(); st++ {
		if squash(st.String()) == w {
			return st, true
		}
	}
	return 0, false
}
