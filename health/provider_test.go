package health

import (
	"slices"
	"testing"
)

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
