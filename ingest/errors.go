package ingest

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies a refusal so that the HTTP layer maps it to a status in
// one place.
type Kind int

// Refusal kinds.
const (
	KindOverloaded   Kind = iota + 1 // 503 with Retry-After
	KindDiskFull                     // 507
	KindUnknownUser                  // 404
	KindConflict                     // 422: Idempotency-Key reused with another body
	KindRevokedToken                 // 401: an SDK token of an erased user
	KindExists                       // 409: a user with this e-mail exists already
	KindTooLarge                     // 413: an upload over its limit
	KindBadUpload                    // 400: an upload that is not what its route takes
)

// ErrNotFound is a user (or the connection, workout or sleep session of a
// user) that a write concerns and that does not exist; each route names
// what was not found.
var ErrNotFound = errors.New("ingest: not found")

// Error is a refused batch. Nothing of it was stored.
type Error struct {
	Kind       Kind
	Detail     string
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Detail }

func refuse(kind Kind, retry time.Duration, format string, args ...any) *Error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...), RetryAfter: retry}
}
