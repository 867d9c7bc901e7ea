// Package gqlhttp makes the GraphQL endpoint speak the GraphQL-over-HTTP
// specification to the letter: the response media type follows the client's
// Accept header, and request errors get the status codes and shape each
// media type calls for. gqlgen's transports answer the same way whatever the
// client asked for; this middleware sits in front of them.
package gqlhttp

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Media types of GraphQL responses.
const (
	GraphQLResponse = "application/graphql-response+json"
	JSON            = "application/json"
)

// MediaType is the response type to use for r: application/graphql-response+json
// when the client accepts it at least as much as application/json, else
// application/json (also for */* or no Accept at all, as the spec asks of
// servers that support legacy clients).
func MediaType(r *http.Request) string {
	best, bestQ := JSON, -1.0
	for rest, more := r.Header.Get("Accept"), true; more; {
		var part string
		part, rest, more = strings.Cut(rest, ",")
		mt, q, ok := acceptPart(strings.TrimSpace(part))
		if ok && (mt == GraphQLResponse || mt == JSON) && q > bestQ {
			best, bestQ = mt, q
		}
	}
	return best
}

// acceptPart reads one media range of an Accept header and its q. The
// common "type/subtype" without parameters costs no allocation.
func acceptPart(part string) (mt string, q float64, ok bool) {
	if !strings.Contains(part, ";") {
		switch {
		case strings.EqualFold(part, JSON):
			return JSON, 1, true
		case strings.EqualFold(part, GraphQLResponse):
			return GraphQLResponse, 1, true
		}
	}
	mt, params, err := mime.ParseMediaType(part)
	if err != nil {
		return "", 0, false
	}
	q = 1.0
	if v, ok := params["q"]; ok {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			q = f
		}
	}
	return mt, q, true
}

// ContentType is MediaType with the charset.
func ContentType(r *http.Request) string { return ContentTypeHeader(r)[0] }

// ContentTypeHeader is ContentType as a header value shared between
// requests: set it as is (h["Content-Type"] = ...), never append to it.
func ContentTypeHeader(r *http.Request) []string {
	if MediaType(r) == GraphQLResponse {
		return graphQLResponseType
	}
	return jsonType
}

var graphQLResponseType, jsonType = []string{GraphQLResponse + "; charset=utf-8"}, []string{JSON + "; charset=utf-8"}

// Middleware rewrites the media type, status and body of gqlgen's answers.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if msg := invalidParameters(r); msg != "" {
			// Not a GraphQL-over-HTTP request at all: the spec's 400.
			w.Header().Set("Content-Type", ContentType(r))
			w.WriteHeader(http.StatusBadRequest)
			b, _ := json.Marshal(map[string]any{"errors": []map[string]any{{
				"message": msg, "extensions": map[string]any{"code": "BAD_REQUEST"}}}})
			_, _ = w.Write(b)
			return
		}
		rec := NewRecorder(w)
		next.ServeHTTP(rec, r)
		status, body := rec.Status(), rec.Body()
		mt := MediaType(r)
		if ct := w.Header().Get("Content-Type"); strings.HasPrefix(ct, JSON) || strings.HasPrefix(ct, GraphQLResponse) || ct == "" {
			w.Header().Set("Content-Type", mt+"; charset=utf-8")
		}
		// gqlgen answers a document that fails to parse or validate, or
		// variables that fail to coerce, with 422. The spec wants 200 under
		// application/json (the errors are in the body) and a 4xx without a
		// data entry under application/graphql-response+json.
		switch {
		case status == http.StatusUnprocessableEntity && mt == JSON:
			status = http.StatusOK
		case status == http.StatusUnprocessableEntity:
			status = http.StatusBadRequest
			fallthrough
		case status >= 400 && mt == GraphQLResponse:
			// The request never reached execution: no data entry at all.
			body = bytes.Replace(body, []byte(`,"data":null`), nil, 1)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

// invalidParameters says what is wrong with a request that carries neither a
// query nor a persisted query's hash, "" when it has one of them. A POST body
// that is not JSON is left to gqlgen, which answers it with a 400 already.
func invalidParameters(r *http.Request) string {
	var p struct {
		Query      *string `json:"query"`
		Extensions struct {
			PersistedQuery *struct {
				Hash string `json:"sha256Hash"`
			} `json:"persistedQuery"`
		} `json:"extensions"`
	}
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		if q.Has("query") || strings.Contains(q.Get("extensions"), "persistedQuery") {
			return ""
		}
		return "the request has no query parameter"
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), JSON) || r.Body == nil {
		return ""
	}
	body, err := BodyBytes(r, MaxBody)
	if err != nil || json.Unmarshal(body, &p) != nil || len(body) > MaxBody {
		return ""
	}
	if p.Query == nil && p.Extensions.PersistedQuery == nil {
		return "the request body has no query"
	}
	return ""
}

// MaxBody bounds a GraphQL request body.
const MaxBody = 1 << 20

// Recorder holds an answer back (to be put right, or cached) before it is
// sent. Headers go straight to the real writer's map.
type Recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// NewRecorder records into w's header map.
func NewRecorder(w http.ResponseWriter) *Recorder { return &Recorder{header: w.Header()} }

func (r *Recorder) Header() http.Header { return r.header }

func (r *Recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

func (r *Recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// Status is the status written, 200 when none was.
func (r *Recorder) Status() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Body is what was written.
func (r *Recorder) Body() []byte { return r.body.Bytes() }
