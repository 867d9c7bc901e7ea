package telemetry

import (
	"log/slog"
	"net/http"
)

// InternalError logs err with the request ID and tells the client only the
// ID: nothing internal (driver text) reaches a client of a plain HTTP route,
// as graph/errors.go ensures for GraphQL.
func InternalError(w http.ResponseWriter, r *http.Request, log *slog.Logger, what string, err error) {
	id := RequestID(r.Context())
	log.ErrorContext(r.Context(), what+" failed", "err", err, "request_id", id)
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "internal error; request ID "+id, http.StatusInternalServerError)
}
