package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/telemetry"
)

// The codes clients see in extensions.code.
const (
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeConflict        = "CONFLICT"
	CodeRateLimited     = "RATE_LIMITED"
	CodeQueryTooComplex = "QUERY_TOO_COMPLEX"
	CodeInternal        = "INTERNAL_SERVER_ERROR"
)

// internalError marks an error from a resolver that is not one the domain
// defines: a driver failure, a timeout, a bug. Its text is for the log only.
type internalError struct{ err error }

func (e *internalError) Error() string { return e.err.Error() }
func (e *internalError) Unwrap() error { return e.err }

// isDomainError reports whether err is one of the errors news defines for
// clients.
func isDomainError(err error) bool {
	var (
		in       *news.InputError
		conflict *news.ConflictError
		limited  *news.RateLimitedError
	)
	return errors.As(err, &in) || errors.As(err, &conflict) || errors.As(err, &limited) ||
		errors.Is(err, news.ErrNotFound) ||
		errors.Is(err, news.ErrForbidden) || errors.Is(err, news.ErrUnauthenticated)
}

// markInternal wraps every resolver error that is not a domain error, so the
// presenter can tell "our bug or outage" from gqlgen's own input errors.
func markInternal(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if err != nil && !isDomainError(err) {
		var gqlErr *gqlerror.Error
		if !errors.As(err, &gqlErr) {
			err = &internalError{err: err}
		}
	}
	return res, err
}

// errorPresenter is the one place an error becomes what a client sees.
func errorPresenter(log *slog.Logger, m *metrics) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		e := present(ctx, log, err)
		if code, ok := e.Extensions["code"].(string); ok {
			m.countError(code)
		}
		return e
	}
}

func present(ctx context.Context, log *slog.Logger, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	var (
		in       *news.InputError
		conflict *news.ConflictError
		limited  *news.RateLimitedError
		internal *internalError
	)
	switch {
	case errors.As(err, &internal):
		return maskInternal(ctx, log, gqlErr, internal.err)
	case errors.As(err, &in):
		gqlErr.Message = in.Error()
		setCode(gqlErr, CodeBadUserInput)
		gqlErr.Extensions["field"] = in.Field
	case errors.As(err, &conflict):
		gqlErr.Message = conflict.Error()
		setCode(gqlErr, CodeConflict)
		gqlErr.Extensions["currentVersion"] = conflict.CurrentVersion
	case errors.As(err, &limited):
		gqlErr.Message = limited.Error()
		setCode(gqlErr, CodeRateLimited)
		gqlErr.Extensions["retryAfterSeconds"] = limited.RetryAfterSeconds
	case errors.Is(err, news.ErrNotFound):
		setCode(gqlErr, CodeNotFound)
	case errors.Is(err, news.ErrForbidden):
		setCode(gqlErr, CodeForbidden)
	case errors.Is(err, news.ErrUnauthenticated):
		setCode(gqlErr, CodeUnauthenticated)
	default:
		// gqlgen's own errors: parse and validation failures carry their
		// code already; what is left is input that failed to coerce
		// (a malformed Time, say), which is the client's to fix.
		if gqlErr.Extensions["code"] == nil {
			setCode(gqlErr, CodeBadUserInput)
		}
	}
	return gqlErr
}

func setCode(e *gqlerror.Error, code string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}

// maskInternal logs the real error under the request ID and gives the client
// only the ID.
func maskInternal(ctx context.Context, log *slog.Logger, e *gqlerror.Error, cause error) *gqlerror.Error {
	rid := telemetry.RequestID(ctx)
	log.ErrorContext(ctx, "request failed", "request_id", rid, "path", e.Path.String(), "err", cause)
	msg := "internal error; quote request ID " + rid + " when reporting it"
	if errors.Is(cause, context.DeadlineExceeded) && ctx.Err() != nil {
		msg = "the request took longer than the service allows; ask for less (request ID " + rid + ")"
	}
	masked := &gqlerror.Error{
		Message:   msg,
		Path:      e.Path,
		Locations: e.Locations,
		Extensions: map[string]any{
			"code":      CodeInternal,
			"requestId": rid,
		},
	}
	return masked
}

// recoverFunc turns a panic anywhere in execution into an internal error;
// the process lives on.
func recoverFunc(ctx context.Context, p any) error {
	return &internalError{err: fmt.Errorf("panic: %v", p)}
}
