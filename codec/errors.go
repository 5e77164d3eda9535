package codec

import "fmt"

// Kind classifies a decoding failure so that the HTTP layer can map it to a
// status code in one place.
type Kind int

const (
	// KindInvalid is malformed input: the HTTP layer answers 400.
	KindInvalid Kind = iota + 1
	// KindTooLarge is input over a size or item limit: 413.
	KindTooLarge
)

// Error is a decoding failure that rejects a whole body.
type Error struct {
	Kind   Kind
	Detail string
}

func (e *Error) Error() string { return e.Detail }

func invalidf(format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Detail: fmt.Sprintf(format, args...)}
}

// ItemError reports one dropped item, or one dropped field, by its JSON path.
type ItemError struct {
	Path   string `json:"path"`
	Detail string `json:"detail"`
}
