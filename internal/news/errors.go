package news

import (
	"errors"
	"fmt"
)

// The errors a client may be told about. The GraphQL layer maps each to an
// extensions.code in one place (graph/errors.go); anything else is internal
// and is never shown.
var (
	// ErrNotFound: the thing asked for does not exist (or may not be seen).
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the caller is known but their role does not allow this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated: the credentials sent are missing, unknown or revoked.
	ErrUnauthenticated = errors.New("unauthenticated")
)

// InputError is bad client input, naming the argument or input field at
// fault ("first", "filter.section") so a client can point at it.
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Reason }

// BadInput builds an InputError.
func BadInput(field, format string, args ...any) error {
	return &InputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Forbidden wraps ErrForbidden with a reason a client can read.
func Forbidden(reason string) error {
	return fmt.Errorf("%w: %s", ErrForbidden, reason)
}

// ConflictError: an edit was based on a version that is no longer current.
// Nothing was written; the client re-reads CurrentVersion and merges.
type ConflictError struct {
	CurrentVersion int
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("the article has changed since you read it; it is now at version %d", e.CurrentVersion)
}

// RateLimitedError: the caller's key has used up its requests for now.
type RateLimitedError struct {
	// RetryAfterSeconds is when the next request will be allowed, rounded up.
	RetryAfterSeconds int
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limit exceeded; retry in %d seconds", e.RetryAfterSeconds)
}
