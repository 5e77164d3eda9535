package codec

import "strconv"

// Limits on what one item may carry, in bytes of UTF-8. Every string that
// is stored or echoed back has one: an item with a field over its limit is
// dropped and reported by the field's JSON path, like any bad item; a
// workout statistic over a limit costs only itself (a warning), and an
// sdkVersion over its limit is ignored (a warning). Real SDK data is far
// below them: HealthKit type identifiers are under 64 bytes, ids are
// 36-byte UUIDs, metadata a few hundred bytes.
const (
	MaxTypeBytes       = 128     // record, workout and statistic type
	MaxUnitBytes       = 64      // record and statistic unit
	MaxIDBytes         = 128     // id, parentId
	MaxStageBytes      = 64      // sleep stage
	MaxSourceBytes     = 255     // each string of source (names, device fields, versions)
	MaxTitleBytes      = 1 << 10 // workout title
	MaxNotesBytes      = 16 << 10
	MaxMetadataBytes   = 8 << 10 // metadata of any item and sleep values, as raw JSON
	MaxSDKVersionBytes = 64
	// maxEchoBytes bounds a value of the request quoted in an error.
	maxEchoBytes = 64
)

// field is one length to check: a field's name (its JSON path under the
// item), its length and its limit.
type field struct {
	name  string
	n     int
	limit int
}

// overLimit drops the item and reports the first field over its limit,
// and reports whether there was one.
func (b *Batch) overLimit(path itemPath, fields ...field) bool {
	for _, f := range fields {
		if f.n > f.limit {
			b.drop(path.field(f.name), f.name+" is longer than "+strconv.Itoa(f.limit)+" bytes")
			return true
		}
	}
	return false
}

// spanOverLimit checks the fields every item shares.
func (b *Batch) spanOverLimit(s *span, path itemPath) bool {
	if b.overLimit(path, field{"id", len(s.ID), MaxIDBytes}, field{"parentId", len(s.ParentID), MaxIDBytes},
		field{"metadata", len(s.Metadata), MaxMetadataBytes}) {
		return true
	}
	if s.Source == nil {
		return false
	}
	names := sourceFieldNames
	for i, p := range sourceFields(s.Source) {
		if len(*p) > MaxSourceBytes {
			return b.overLimit(path, field{"source." + names[i], len(*p), MaxSourceBytes})
		}
	}
	return false
}

// sourceFieldNames are the JSON names of sourceFields, in its order.
var sourceFieldNames = [13]string{"appId", "name", "bundleIdentifier", "version", "productType", "deviceId",
	"deviceName", "deviceManufacturer", "deviceType", "deviceModel", "deviceHardwareVersion",
	"deviceSoftwareVersion", "recordingMethod"}

// echo shortens a value of the request for an error message.
func echo(s string) string {
	if len(s) <= maxEchoBytes {
		return s
	}
	cut := maxEchoBytes
	for cut > 0 && s[cut]&0xc0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}
