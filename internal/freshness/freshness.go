// Package freshness serves finished response bytes with HTTP validators, so
// feed readers, oEmbed consumers and CDNs revalidate cheaply: an ETag that is
// a hash of the bytes, Last-Modified, and 304 Not Modified when the client's
// copy is current.
package freshness

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Representation is a finished response body and how it may be cached.
type Representation struct {
	Body        []byte
	ContentType string
	// LastModified is when the content last changed; zero leaves the header
	// out (an empty feed has no such moment).
	LastModified time.Time
	// CacheControl is the Cache-Control header, e.g. "public, max-age=60".
	CacheControl string
}

// ETag is the strong validator of body: the same bytes, the same tag, on
// every instance, so a CDN in front of several instances revalidates too.
func ETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

// Serve writes rep, or 304 when the request's validators match it. As RFC
// 9110 says, If-None-Match wins over If-Modified-Since when both are sent.
func Serve(w http.ResponseWriter, r *http.Request, rep Representation) {
	tag := ETag(rep.Body)
	h := w.Header()
	h.Set("ETag", tag)
	h.Set("Cache-Control", rep.CacheControl)
	if !rep.LastModified.IsZero() {
		h.Set("Last-Modified", rep.LastModified.UTC().Format(http.TimeFormat))
	}
	if notModified(r, tag, rep.LastModified) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", rep.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(rep.Body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(rep.Body)
	}
}

func notModified(r *http.Request, tag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		return matchesETag(inm, tag)
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || modified.IsZero() {
		return false
	}
	since, err := http.ParseTime(ims)
	if err != nil {
		return false
	}
	// HTTP dates have whole seconds.
	return !modified.Truncate(time.Second).After(since)
}

// matchesETag applies the weak comparison If-None-Match calls for.
func matchesETag(header, tag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" || strings.TrimPrefix(candidate, "W/") == tag {
			return true
		}
	}
	return false
}
