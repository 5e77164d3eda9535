package health

// Data sources: the device types and the SDK providers, and the default
// preference between sources of each.

import (
	"slices"
	"strings"
)

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

// The SDK providers wearhouse accepts, lower-cased as the envelope's
// provider is compared.
const (
	ProviderApple   = "apple"
	ProviderSamsung = "samsung"
	ProviderGoogle  = "google"
)

// providerTable lists the SDK providers in order of preference (fact sheet
// §5.3: when two data sources report the same thing, Apple's is preferred,
// then Samsung's, then Google's), each with the one-byte code that stands
// for it in stored keys. Codes are persisted and must never change; a new
// provider only ever gets a new code.
var providerTable = []struct {
	Name     string
	Code     byte
	Priority int
}{
	{ProviderApple, 1, 1},
	{ProviderSamsung, 2, 2},
	{ProviderGoogle, 3, 3},
}

// UnknownProviderPriority is the priority of a provider not in the table:
// after every known one.
const UnknownProviderPriority = 99

// Providers returns the names of the SDK providers, in order of preference.
func Providers() []string {
	out := make([]string, len(providerTable))
	for i, p := range providerTable {
		out[i] = p.Name
	}
	return out
}

// ProviderPriority is the default preference of a provider, lower
// preferred; UnknownProviderPriority for a name not in the table.
func ProviderPriority(name string) int {
	for _, p := range providerTable {
		if p.Name == name {
			return p.Priority
		}
	}
	return UnknownProviderPriority
}

// ProviderCode is the one-byte code of a provider in stored keys; 0 for a
// name not in the table.
func ProviderCode(name string) byte {
	for _, p := range providerTable {
		if p.Name == name {
			return p.Code
		}
	}
	return 0
}

// ProviderName is the inverse of ProviderCode: "unknown" for a code not in
// the table.
func ProviderName(code byte) string {
	for _, p := range providerTable {
		if p.Code == code {
			return p.Name
		}
	}
	return "unknown"
}

// ProviderCodes returns the codes of the SDK providers, in code order.
func ProviderCodes() []byte {
	out := make([]byte, len(providerTable))
	for i, p := range providerTable {
		out[i] = p.Code
	}
	slices.Sort(out)
	return out
}
