package health

import "slices"

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
