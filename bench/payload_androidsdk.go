package bench

import (
	"strconv"
	"time"
)

// Android bodies: Samsung Health and Health Connect, as the Android SDK
// writes them. Both share the source block, the record and the split of a
// session into items under its parent id; they differ in their types, their
// ids and what a workout holds.

type androidSource struct {
	appID, deviceID, deviceName, manufacturer, model, deviceType, method string
}

func (w *writer) androidSource(s androidSource) {
	w.raw(`{"appId":`)
	w.str(s.appID)
	w.raw(`,"deviceId":`)
	w.strOrNull(s.deviceID)
	w.raw(`,"deviceName":`)
	w.strOrNull(s.deviceName)
	w.raw(`,"deviceManufacturer":`)
	w.str(s.manufacturer)
	w.raw(`,"deviceModel":`)
	w.str(s.model)
	w.raw(`,"deviceType":`)
	w.str(s.deviceType)
	w.raw(`,"recordingMethod":`)
	w.strOrNull(s.method)
	w.raw("}")
}

// androidSpan writes the dates, the zone offset ("" writes null) and the
// source of an item, each with its leading comma.
func (w *writer) androidSpan(start, end time.Time, zone string, src androidSource) {
	w.raw(`,"startDate":`)
	w.time(start)
	w.raw(`,"endDate":`)
	w.time(end)
	w.raw(`,"zoneOffset":`)
	w.strOrNull(zone)
	w.raw(`,"source":`)
	w.androidSource(src)
}

// androidRecord writes one record; zone "" writes null.
func (w *writer) androidRecord(id, parent, typ string, start, end time.Time, zone string, src androidSource,
	value float64, decimals int, unit, metadata string) {
	w.sep()
	w.raw(`{"id":`)
	w.str(id)
	w.raw(`,"type":`)
	w.str(typ)
	w.androidSpan(start, end, zone, src)
	w.raw(`,"value":`)
	w.num(value, decimals)
	w.raw(`,"unit":`)
	w.str(unit)
	w.raw(`,"parentId":`)
	w.strOrNull(parent)
	w.raw(`,"metadata":`)
	if metadata == "" {
		w.raw("null")
	} else {
		w.raw(metadata)
	}
	w.raw("}")
	w.body.Records++
}

// androidMetrics writes n records split evenly across a provider's dense
// types, from the watch or the phone. Heart rate comes as series of
// seriesLen() samples, split as <parent>-s<i> with parentId <parent>; the
// other types get fresh random ids. zoneMeta gives a type's zone offset
// ("" for null) and metadata ("" for null).
func (w *writer) androidMetrics(n int, metrics []metric, watch, phone androidSource,
	seriesLen func() int, zoneMeta func(m metric) (zone, metadata string)) {
	for t, m := range metrics {
		q := split(n, len(metrics), t)
		src := watch
		if m.src == 1 {
			src = phone
		}
		zone, meta := zoneMeta(m)
		var parent string
		series, idx := 0, 0
		for i := range q {
			start := w.spread(q, i)
			end := start.Add(time.Duration(m.span) * time.Second)
			v := w.between(m.lo, m.hi)
			id := ""
			if m.typ == "HEART_RATE" {
				if series == 0 {
					parent = w.newID(false)
					series, idx = seriesLen(), 0
				}
				series--
				id = parent + "-s" + strconv.Itoa(idx)
				idx++
			} else {
				id = w.newID(false)
			}
			w.androidRecord(id, parent, m.typ, start, end, zone, src, v, m.decimals, m.unit, meta)
		}
	}
}

// androidSleep writes a night as the Android SDK splits a session: stage i
// is <parent><infix><i> with parentId <parent>, and values as given.
func (w *writer) androidSleep(parent, infix string, nt night, src androidSource, values string) {
	w.first = true
	from := nt.start
	for i, s := range nt.stages {
		w.sep()
		w.raw(`{"id":"`)
		w.raw(parent)
		w.raw(infix)
		w.int(i)
		w.raw(`","parentId":"`)
		w.raw(parent)
		w.raw(`","stage":`)
		w.str(s)
		w.androidSpan(from, nt.ends[i], w.zone, src)
		w.raw(`,"values":`)
		w.raw(values)
		w.raw(`,"metadata":null}`)
		from = nt.ends[i]
		w.body.Sleep++
	}
}

// androidWorkout writes a workout's fields up to the opening of its values
// array; parent "" writes null. The watch records it actively.
func (w *writer) androidWorkout(id, parent, typ string, start time.Time, secs int, watch androidSource) {
	watch.method = "active"
	w.raw(`{"id":`)
	w.str(id)
	w.raw(`,"parentId":`)
	w.strOrNull(parent)
	w.raw(`,"type":`)
	w.str(typ)
	w.androidSpan(start, start.Add(time.Duration(secs)*time.Second), w.zone, watch)
	w.raw(`,"title":null,"notes":null,"values":[`)
}

// androidStat writes the fields of a statistic or a sample: type, value
// and unit, in the Android SDK's order.
func (w *writer) androidStat(s stat) {
	w.raw(`"type":`)
	w.str(s.typ)
	w.raw(`,"value":`)
	w.num(s.v, s.dec)
	w.raw(`,"unit":`)
	w.str(s.unit)
}
