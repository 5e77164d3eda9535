package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// decodeSlow runs when the typed decode failed. It decodes the body as a
// generic tree with encoding/json (which reports byte offsets), rejects what
// must reject the whole body, and decodes each item on its own so that one
// bad item costs only itself.
func decodeSlow(body []byte, maxItems int) (*Batch, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, jsonError(err, dec.InputOffset(), len(body))
	}
	if rest := dec.InputOffset(); len(bytes.TrimLeft(body[rest:], " \t\r\n")) > 0 {
		off := int(rest) + len(body[rest:]) - len(bytes.TrimLeft(body[rest:], " \t\r\n"))
		return nil, invalidf("Request body is not valid JSON: unexpected data after the top-level value (byte offset %d).", off)
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return nil, invalidf("Request body must be a JSON object (byte offset %d).", len(body)-len(bytes.TrimLeft(body, " \t\r\n")))
	}
	b := &Batch{}
	if err := b.envelope(numberless(obj["provider"]), numberless(obj["sdkVersion"]), obj["syncTimestamp"]); err != nil {
		return nil, err
	}
	var data map[string]any
	switch d := obj["data"].(type) {
	case nil:
		return b, nil
	case map[string]any:
		data = d
	default:
		return nil, invalidf("data must be an object.")
	}
	lists := map[string][]any{}
	n := 0
	for _, name := range []string{"records", "sleep", "workouts"} {
		switch l := data[name].(type) {
		case nil:
		case []any:
			lists[name] = l
			n += len(l)
		default:
			return nil, invalidf("data.%s must be an array.", name)
		}
	}
	if err := checkItems(n, maxItems); err != nil {
		return nil, err
	}
	records := decodeList(b, lists["records"], "records", recordStrings, Record{span: skipped}, nil)
	sleep := decodeList(b, lists["sleep"], "sleep", sleepStrings, SleepStage{span: skipped}, nil)
	workouts := decodeList(b, lists["workouts"], "workouts", workoutStrings, Workout{span: skipped}, filterStatistics)
	// The placeholders keep the indexes of the body, so that keep reports
	// each item by its place in the body, and skips them.
	b.keep(records, sleep, workouts)
	return b, nil
}

// decodeList decodes the items of one collection of the generic tree. An
// item that cannot be kept has been reported and stands as skip. prepare,
// when set, first cleans an object item in place.
func decodeList[T any](b *Batch, items []any, coll string, stringFields []string, skip T,
	prepare func(b *Batch, m map[string]any, path string)) []T {
	var out []T
	for i, item := range items {
		path := "data." + coll + "[" + strconv.Itoa(i) + "]"
		if m, ok := item.(map[string]any); ok && prepare != nil {
			prepare(b, m, path)
		}
		var v T
		if !decodeItem(b, item, path, stringFields, &v) {
			v = skip
		}
		out = append(out, v)
	}
	return out
}

// droppedStatistic marks a statistic the slow path already reported.
const droppedStatistic = "\x00dropped"

// skipped is the span of an item already dropped by the slow path, so that
// keep does not report it a second time while indexes stay those of the
// body.
var skipped = span{StartRaw: skipMarker}

type skipMarkerType struct{}

var skipMarker any = skipMarkerType{}

var (
	commonStrings  = []string{"id", "parentId"}
	recordStrings  = append([]string{"type", "unit"}, commonStrings...)
	sleepStrings   = append([]string{"stage"}, commonStrings...)
	workoutStrings = append([]string{"type", "title", "notes"}, commonStrings...)
)

// decodeItem checks the field types of one generic item and decodes it into
// dst. It reports the item and returns false when it cannot be kept.
func decodeItem(b *Batch, item any, path string, stringFields []string, dst any) bool {
	m, ok := item.(map[string]any)
	if !ok {
		b.drop(path, "item must be an object")
		return false
	}
	for _, f := range stringFields {
		if v, present := m[f]; present && v != nil {
			if _, isString := v.(string); !isString {
				b.drop(path+"."+f, f+" must be a string")
				return false
			}
		}
	}
	if src, present := m["source"]; present && src != nil {
		if _, isObject := src.(map[string]any); !isObject {
			b.warn(path+".source", "source ignored: must be an object")
			delete(m, "source")
		}
	}
	raw, err := json.Marshal(m)
	if err == nil {
		err = strictJSON.Unmarshal(raw, dst)
	}
	if err != nil {
		if _, present := m["source"]; present {
			// A malformed source costs the source, not the item. A failed
			// decode leaves dst half filled: start again from zero.
			delete(m, "source")
			reflect.ValueOf(dst).Elem().SetZero()
			if raw, err2 := json.Marshal(m); err2 == nil && strictJSON.Unmarshal(raw, dst) == nil {
				b.warn(path+".source", "source ignored: a field has the wrong type")
				return true
			}
		}
		reflect.ValueOf(dst).Elem().SetZero()
		b.drop(path, "item has a field of the wrong type")
		return false
	}
	return true
}

// filterStatistics drops, in place, workout statistics that are not
// objects with a string type and unit.
func filterStatistics(b *Batch, m map[string]any, path string) {
	vals, ok := m["values"].([]any)
	if !ok {
		if m["values"] != nil {
			b.warn(path+".values", "values ignored: must be an array")
			delete(m, "values")
		}
		return
	}
	// A bad statistic is replaced by a placeholder that keep skips
	// silently, so that the statistics after it keep their body index.
	kept := make([]any, 0, len(vals))
	for j, v := range vals {
		spath := path + ".values[" + strconv.Itoa(j) + "]"
		st, ok := v.(map[string]any)
		switch {
		case !ok:
			b.warn(spath, "statistic dropped: must be an object")
		case func() bool { t, ok := st["type"].(string); return !ok || t == "" }():
			b.warn(spath+".type", "statistic dropped: type must be a string")
		case st["unit"] != nil && func() bool { _, ok := st["unit"].(string); return !ok }():
			b.warn(spath+".unit", "statistic dropped: unit must be a string")
		default:
			kept = append(kept, st)
			continue
		}
		kept = append(kept, map[string]any{"type": droppedStatistic})
	}
	m["values"] = kept
}

// numberless turns a json.Number into its text so that the envelope check
// can show it.
func numberless(v any) any {
	if n, ok := v.(json.Number); ok {
		return string(n)
	}
	return v
}

func jsonError(err error, offset int64, size int) error {
	switch e := err.(type) {
	case *json.SyntaxError:
		// Offset counts the bytes read, the bad one included.
		return invalidf("Request body is not valid JSON: %s (byte offset %d).", e.Error(), max(e.Offset-1, 0))
	case *json.UnmarshalTypeError:
		return invalidf("Request body is not valid JSON: %s (byte offset %d).", e.Error(), e.Offset)
	default:
		if err.Error() == "EOF" {
			return invalidf("Request body is empty; expected a JSON object.")
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// The decoder's offset is still at the value's start; the
			// body ended at its last byte.
			return invalidf("Request body is not valid JSON: it ends before its value is complete (byte offset %d).", size)
		}
		return invalidf("Request body is not valid JSON: %s (byte offset %d).", strings.TrimPrefix(err.Error(), "json: "), offset)
	}
}
