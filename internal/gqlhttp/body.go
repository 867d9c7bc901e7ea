package gqlhttp

import (
	"bytes"
	"io"
	"net/http"
)

// Body is a request body read whole once, at the edge of the service, so
// that every layer after (the trusted-documents list, the response cache,
// gqlgen) can look at its bytes without reading and copying them again.
type Body struct {
	raw []byte
	r   bytes.Reader
}

// NewBody makes raw a request body, positioned at its start.
func NewBody(raw []byte) *Body {
	b := &Body{raw: raw}
	b.r.Reset(raw)
	return b
}

func (b *Body) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *Body) Close() error               { return nil }

// Bytes is the whole body, however much of it has been read.
func (b *Body) Bytes() []byte { return b.raw }

// BodyBytes returns r's whole body, read at most once: without copying
// when it is a Body, else read up to limit+1 bytes and put back as one.
// The body is left positioned at its start for the next reader.
func BodyBytes(r *http.Request, limit int64) ([]byte, error) {
	if b, ok := r.Body.(*Body); ok {
		b.r.Reset(b.raw)
		return b.raw, nil
	}
	if r.Body == nil {
		return nil, nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	r.Body = NewBody(raw)
	return raw, nil
}
