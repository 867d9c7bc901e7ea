// Package telemetry carries what ties a request's logs, errors and metrics
// together: its request ID.
package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
	"net/http"
)

type requestIDKey struct{}

// RequestIDHeader is both read (from a trusted proxy) and echoed back.
const RequestIDHeader = "X-Request-ID"

// RequestID returns the request's ID, "" outside a request.
func RequestID(ctx context.Context) string {
	if rid, ok := ctx.Value(requestIDKey{}).(*requestID); ok {
		return rid.id
	}
	return ""
}

// requestID is one request's ID and the header value that returns it, in
// one allocation (a pointer goes into a context without another).
type requestID struct {
	id     string
	header [1]string
}

// NewRequestID makes a random 16-hex-digit ID from the operating system's
// randomness: for what must not collide across instances.
func NewRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newRequestID is a request's ID: 16 hex digits from the runtime's fast
// generator (unique enough to find a request in the logs; no secret).
func newRequestID() string {
	var b [16]byte
	const digits = "0123456789abcdef"
	n := mrand.Uint64()
	for i := range b {
		b[i] = digits[n>>60]
		n <<= 4
	}
	return string(b[:])
}

// canonicalRequestIDHeader is RequestIDHeader as net/http keys it.
var canonicalRequestIDHeader = http.CanonicalHeaderKey(RequestIDHeader)

// RequestIDMiddleware gives every request an ID (keeping a sane one sent by
// a proxy) and returns it in the response header, so a client quoting it can
// be matched to the server's log.
func RequestIDMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rid := stamp(w, r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, rid)))
	})
}

// StampRequestID is RequestIDMiddleware's work for a request answered
// without a context of its own (a cached read): the ID, in the response
// header and returned for the log.
func StampRequestID(w http.ResponseWriter, r *http.Request) string {
	return stamp(w, r).id
}

func stamp(w http.ResponseWriter, r *http.Request) *requestID {
	rid := &requestID{}
	if v := r.Header[canonicalRequestIDHeader]; len(v) > 0 {
		rid.id = v[0]
	}
	if !validRequestID(rid.id) {
		rid.id = newRequestID()
	}
	rid.header[0] = rid.id
	w.Header()[canonicalRequestIDHeader] = rid.header[:]
	return rid
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
