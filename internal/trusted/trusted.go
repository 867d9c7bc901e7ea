// Package trusted holds the website's trusted documents: the operations,
// listed in a manifest GraphQL Code Generator's client preset writes
// (persisted-documents.json: {"<sha256 hex>": "<document>"}), that callers
// without a key may run. Everything else a keyless caller sends is refused
// before it is parsed, so the public endpoint executes only what the
// newsroom's own frontends were built with. Key holders are not restricted.
package trusted

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/gqlhttp"
	"github.com/newsgraph/newsgraph/internal/news"
)

// Code is the extensions.code of a refusal (Apollo's name for it).
const Code = "PERSISTED_QUERY_NOT_ALLOWED"

// Documents is the manifest in force. It is swapped whole on Reload, so a
// request sees either the old list or the new one, never half of each.
type Documents struct {
	path     string
	byHash   atomic.Pointer[map[string]string]
	refused  prometheus.Counter
	reloaded []func()
}

// OnReload has f called after every reload that put a new list in force
// (the response cache forgets what it answered under the old one). Call
// it while wiring, before the first Reload that may follow.
func (d *Documents) OnReload(f func()) {
	if d != nil {
		d.reloaded = append(d.reloaded, f)
	}
}

// Load reads the manifest at path. A manifest that is not valid, or whose keys are not the SHA-256
// of their documents, is an error: a wrong list must not start a service.
func Load(path string) (*Documents, error) {
	d := &Documents{path: path, refused: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "newsgraph_trusted_documents_refused_total",
		Help: "Requests without a key refused because their document is not in TRUSTED_DOCUMENTS.",
	})}
	if err := d.Reload(); err != nil {
		return nil, err
	}
	return d, nil
}

// Register puts the refusal count and the list's size on /metrics.
func (d *Documents) Register(reg prometheus.Registerer) {
	if d == nil || reg == nil {
		return
	}
	reg.MustRegister(d.refused, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "newsgraph_trusted_documents",
		Help: "Documents listed in the TRUSTED_DOCUMENTS manifest in force.",
	}, func() float64 { return float64(d.Len()) }))
}

// Reload reads the manifest again and puts it in force at once; on any
// error the list in force stays as it was.
func (d *Documents) Reload() error {
	raw, err := os.ReadFile(d.path)
	if err != nil {
		return fmt.Errorf("TRUSTED_DOCUMENTS: %w", err)
	}
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("TRUSTED_DOCUMENTS %s: not a JSON object of hash to document: %w", d.path, err)
	}
	list := make(map[string]string, len(m))
	for h, doc := range m {
		if hashOf(doc) != strings.ToLower(h) {
			return fmt.Errorf("TRUSTED_DOCUMENTS %s: key %s is not the SHA-256 of its document (set hashAlgorithm: 'sha256' in the codegen config)", d.path, h)
		}
		list[strings.ToLower(h)] = doc
	}
	d.byHash.Store(&list)
	for _, f := range d.reloaded {
		f()
	}
	return nil
}

// Len is how many documents are listed.
func (d *Documents) Len() int { return len(*d.byHash.Load()) }

func hashOf(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

// Middleware lets a keyless request through only with a listed document,
// and fills in the document's text when it came by hash alone (gqlgen knows
// nothing of documentId, and its APQ store need not hold the list). It sits
// after the key check and before the response cache and parsing. A nil
// Documents (TRUSTED_DOCUMENTS unset) restricts nothing.
func (d *Documents) Middleware(next http.Handler) http.Handler {
	if d == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if keyed(r.Context()) || (r.Method != http.MethodGet && r.Method != http.MethodPost) ||
			strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			next.ServeHTTP(w, r)
			return
		}
		if !d.admit(r) {
			d.refuse(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// params are the parts of a GraphQL-over-HTTP request the list looks at.
type params struct {
	Query      string `json:"query"`
	DocumentID string `json:"documentId"`
	Extensions struct {
		PersistedQuery struct {
			Hash string `json:"sha256Hash"`
		} `json:"persistedQuery"`
	} `json:"extensions"`
}

// admit says whether r carries a listed document, rewriting it to carry the
// text when it named the document by hash.
func (d *Documents) admit(r *http.Request) bool {
	var p params
	var body map[string]json.RawMessage
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		p.Query, p.DocumentID = q.Get("query"), q.Get("documentId")
		if ext := q.Get("extensions"); ext != "" && json.Unmarshal([]byte(ext), &p.Extensions) != nil {
			return false
		}
	} else {
		raw, err := gqlhttp.BodyBytes(r, gqlhttp.MaxBody)
		if err != nil || len(raw) > gqlhttp.MaxBody || json.Unmarshal(raw, &p) != nil || json.Unmarshal(raw, &body) != nil {
			return false
		}
	}
	hash := p.Extensions.PersistedQuery.Hash
	if p.DocumentID != "" {
		hash = strings.TrimPrefix(p.DocumentID, "sha256:")
	}
	list := *d.byHash.Load()
	if hash == "" {
		_, ok := list[hashOf(p.Query)]
		return p.Query != "" && ok
	}
	doc, ok := list[strings.ToLower(hash)]
	if !ok || (p.Query != "" && p.Query != doc) {
		return false
	}
	if p.Query == "" || p.DocumentID != "" {
		setQuery(r, body, doc)
	}
	return true
}

// setQuery puts the listed text into the request in place of its
// documentId, keeping everything else (variables, operationName, the
// persistedQuery extension, which gqlgen checks against the text).
func setQuery(r *http.Request, body map[string]json.RawMessage, doc string) {
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		q.Del("documentId")
		q.Set("query", doc)
		r.URL.RawQuery = q.Encode()
		return
	}
	delete(body, "documentId")
	body["query"], _ = json.Marshal(doc)
	raw, _ := json.Marshal(body)
	r.Body = gqlhttp.NewBody(raw)
	r.ContentLength = int64(len(raw))
}

func (d *Documents) refuse(w http.ResponseWriter, r *http.Request) {
	d.refused.Inc()
	w.Header().Set("Content-Type", gqlhttp.ContentType(r))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	b, _ := json.Marshal(map[string]any{"errors": []map[string]any{{
		"message": "without an API key only the website's listed operations may be run: send a listed document, " +
			"or its SHA-256 as documentId or extensions.persistedQuery.sha256Hash",
		"extensions": map[string]any{"code": Code}}}})
	_, _ = w.Write(b)
}

// keyed says the caller sent a key: a valid one is not restricted, and a
// refused one is answered UNAUTHENTICATED without executing anything.
func keyed(ctx context.Context) bool {
	return news.ViewerFrom(ctx).KeyID != "" || auth.Refusal(ctx) != nil
}

// Allowed reports whether a keyless caller may run query (a subscription's
// document arriving over a websocket, which the middleware cannot see).
func (d *Documents) Allowed(ctx context.Context, query string) bool {
	if d == nil || keyed(ctx) {
		return true
	}
	_, ok := (*d.byHash.Load())[hashOf(query)]
	if !ok {
		d.refused.Inc()
	}
	return ok
}
