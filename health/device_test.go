package health

import (
	"slices"
	"strings"
	"testing"
)

// factSheetDeviceKeywords is the keyword part of Open Wearables' device-type
// inference as its documentation states it, in order: a model containing
// (case-insensitively) one of the words is of the type.
var factSheetDeviceKeywords = []struct {
	words []string
	want  string
}{
	{[]string{"watch"}, "watch"},
	{[]string{"band", "vivosmart", "vivofit"}, "band"},
	{[]string{"ring", "oura"}, "ring"},
	{[]string{"phone"}, "phone"},
	{[]string{"scale", "index"}, "scale"},
	{[]string{"forerunner", "fenix", "venu", "epix", "enduro", "instinct", "tactix", "approach"}, "watch"},
	{[]string{"vantage", "grit x", "pacer", "ignite", "unite"}, "watch"},
	{[]string{"suunto", "vertical", "race", "peak"}, "watch"},
	{[]string{"whoop"}, "band"},
}

func TestInferDeviceTypeKeywords(t *testing.T) {
	n := 0
	for _, k := range factSheetDeviceKeywords {
		for _, w := range k.words {
			n++
			for _, model := range []string{w, strings.ToUpper(w), "X " + strings.ToUpper(w[:1]) + w[1:] + " 2"} {
				if got := InferDeviceType(model); got != k.want {
					t.Errorf("InferDeviceType(%q) = %q, want %q", model, got, k.want)
				}
			}
		}
	}
	// The rules hold the same words, with the same types, in the same order.
	var got, want []string
	for _, r := range deviceRules {
		for _, w := range r.Keywords {
			got = append(got, w+"="+r.Type)
		}
	}
	for _, k := range factSheetDeviceKeywords {
		for _, w := range k.words {
			want = append(want, w+"="+k.want)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("keyword rules = %v\nwant %v", got, want)
	}
	if len(want) != n {
		t.Fatal("miscounted")
	}
}

func TestInferDeviceType(t *testing.T) {
	cases := []struct{ model, want string }{
		{"", DeviceUnknown},
		{"   ", DeviceOther},
		{"unknown", DeviceOther},
		// Apple product types, case-sensitive prefixes.
		{"Watch6,1", DeviceWatch},
		{"Watch3,3", DeviceWatch},
		{"iPhone15,2", DevicePhone},
		{"iPad13,1", DevicePhone},
		{"IPAD13,1", DeviceOther},
		{"iphone", DevicePhone}, // by the "phone" keyword
		// Prefixes come before keywords, keywords in order.
		{"Watch band", DeviceWatch},
		{"iPhone ring", DevicePhone},
		{"Galaxy Watch Ring", DeviceWatch},
		{"Smart Band Ring", DeviceBand},
		{"Oura Ring Gen3", DeviceRing},
		{"Ring Phone", DeviceRing},
		{"Phone Scale", DevicePhone},
		{"Scale Forerunner", DeviceScale},
		// Real models.
		{"Galaxy Watch7", DeviceWatch},
		{"SM-R960", DeviceOther},
		{"SM-R390", DeviceOther},
		{"Pixel 8", DeviceOther},
		{"Pixel Watch 2", DeviceWatch},
		{"Mi Smart Band 8", DeviceBand},
		{"Galaxy Ring", DeviceRing},
		{"Withings Body+ Scale", DeviceScale},
		{"Index S2", DeviceScale},
		{"Forerunner 965", DeviceWatch},
		{"fēnix 7", DeviceOther}, // accents are not folded
		{"Polar Grit X Pro", DeviceWatch},
		{"Polar Grit 2", DeviceOther},
		{"Suunto 9 Peak", DeviceWatch},
		{"WHOOP 4.0", DeviceBand},
		{"Touring bike", DeviceRing}, // substring matches, as Open Wearables
	}
	for _, c := range cases {
		if got := InferDeviceType(c.model); got != c.want {
			t.Errorf("InferDeviceType(%q) = %q, want %q", c.model, got, c.want)
		}
	}
}

func TestDeviceTypePriority(t *testing.T) {
	want := map[string]int{"watch": 1, "band": 2, "ring": 3, "phone": 4, "scale": 5, "other": 6, "unknown": 99, "tablet": 99, "": 99}
	for typ, p := range want {
		if got := DeviceTypePriority(typ); got != p {
			t.Errorf("DeviceTypePriority(%q) = %d, want %d", typ, got, p)
		}
	}
	if len(deviceTypePriority) != 7 {
		t.Errorf("%d device types, want 7", len(deviceTypePriority))
	}
}

func TestProviderTable(t *testing.T) {
	// The rows as stored keys and the fact sheet's source priority have
	// them: the codes are persisted.
	for _, c := range []struct {
		name     string
		code     byte
		priority int
	}{
		{"apple", 1, 1},
		{"samsung", 2, 2},
		{"google", 3, 3},
	} {
		if got := ProviderCode(c.name); got != c.code {
			t.Errorf("ProviderCode(%q) = %d, want %d", c.name, got, c.code)
		}
		if got := ProviderName(c.code); got != c.name {
			t.Errorf("ProviderName(%d) = %q, want %q", c.code, got, c.name)
		}
		if got := ProviderPriority(c.name); got != c.priority {
			t.Errorf("ProviderPriority(%q) = %d, want %d", c.name, got, c.priority)
		}
	}
	for _, name := range []string{"", "unknown", "Apple", "garmin"} {
		if ProviderCode(name) != 0 || ProviderPriority(name) != 99 {
			t.Errorf("%q: code %d, priority %d; want 0, 99", name, ProviderCode(name), ProviderPriority(name))
		}
	}
	for _, code := range []byte{0, 4, 255} {
		if got := ProviderName(code); got != "unknown" {
			t.Errorf("ProviderName(%d) = %q, want unknown", code, got)
		}
	}
	if got := Providers(); !slices.Equal(got, []string{"apple", "samsung", "google"}) {
		t.Errorf("Providers() = %v", got)
	}
	if got := ProviderCodes(); !slices.Equal(got, []byte{1, 2, 3}) {
		t.Errorf("ProviderCodes() = %v", got)
	}
	// The slices are the caller's.
	Providers()[0] = "x"
	ProviderCodes()[0] = 9
	if Providers()[0] != "apple" || ProviderCodes()[0] != 1 {
		t.Error("a returned slice is shared")
	}
}
