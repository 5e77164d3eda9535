package health

import "strings"

// The device types a data source is classified as.
const (
	DeviceWatch   = "watch"
	DeviceBand    = "band"
	DeviceRing    = "ring"
	DevicePhone   = "phone"
	DeviceScale   = "scale"
	DeviceOther   = "other"
	DeviceUnknown = "unknown"
)

// deviceTypePriority is the default preference between device types when two
// sources report the same thing: lower is preferred.
var deviceTypePriority = []struct {
	Type     string
	Priority int
}{
	{DeviceWatch, 1},
	{DeviceBand, 2},
	{DeviceRing, 3},
	{DevicePhone, 4},
	{DeviceScale, 5},
	{DeviceOther, 6},
	{DeviceUnknown, 99},
}

// DeviceTypePriority returns the default priority of a device type, lower
// preferred; a type not listed ranks like DeviceUnknown.
func DeviceTypePriority(deviceType string) int {
	for _, p := range deviceTypePriority {
		if p.Type == deviceType {
			return p.Priority
		}
	}
	return 99
}

// deviceRules classifies a device model string, as Open Wearables does. The
// rules are tried in order and the first match wins. Prefix rules compare
// case-sensitively (Apple product types such as "Watch6,1", "iPhone15,2");
// keyword rules look for a substring of the lower-cased model. A model that
// matches nothing is DeviceOther, so Samsung model codes such as "SM-R960"
// are "other", not "watch".
var deviceRules = []struct {
	Prefix   string   // case-sensitive prefix of the model
	Keywords []string // or: any of these in the lower-cased model
	Type     string
}{
	{Prefix: "Watch", Type: DeviceWatch},
	{Prefix: "iPhone", Type: DevicePhone},
	{Prefix: "iPad", Type: DevicePhone}, // an iPad ranks as a phone
	{Keywords: []string{"watch"}, Type: DeviceWatch},
	{Keywords: []string{"band", "vivosmart", "vivofit"}, Type: DeviceBand},
	{Keywords: []string{"ring", "oura"}, Type: DeviceRing},
	{Keywords: []string{"phone"}, Type: DevicePhone},
	{Keywords: []string{"scale", "index"}, Type: DeviceScale},
	// Garmin
	{Keywords: []string{"forerunner", "fenix", "venu", "epix", "enduro", "instinct", "tactix", "approach"}, Type: DeviceWatch},
	// Polar
	{Keywords: []string{"vantage", "grit x", "pacer", "ignite", "unite"}, Type: DeviceWatch},
	// Suunto
	{Keywords: []string{"suunto", "vertical", "race", "peak"}, Type: DeviceWatch},
	{Keywords: []string{"whoop"}, Type: DeviceBand},
}

// InferDeviceType classifies a data source by its device model string: watch,
// band, ring, phone, scale or other, and unknown when the model is empty.
func InferDeviceType(deviceModel string) string {
	if deviceModel == "" {
		return DeviceUnknown
	}
	lower := ""
	for _, r := range deviceRules {
		if r.Prefix != "" {
			if strings.HasPrefix(deviceModel, r.Prefix) {
				return r.Type
			}
			continue
		}
		if lower == "" {
			lower = strings.ToLower(deviceModel)
		}
		for _, k := range r.Keywords {
			if strings.Contains(lower, k) {
				return r.Type
			}
		}
	}
	return DeviceOther
}
