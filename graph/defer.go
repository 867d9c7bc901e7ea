package graph

import (
	"context"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// @defer is delivered incrementally only to clients that asked for it
// (Accept: multipart/mixed on a POST). gqlgen's GET and POST transports send
// the first part alone, so a plain-JSON client would get `related: null`
// with `hasNext: true` and the response cache would keep that half answer.
// Those clients get the operation run without deferral instead: one
// complete response, the same bytes as if they had not written @defer.

type wholeKey struct{}

// whole marks the requests of a transport that can carry one response only.
type whole struct{ graphql.Transport }

func (t whole) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.Transport.Do(w, r.WithContext(context.WithValue(r.Context(), wholeKey{}, true)), exec)
}

// incremental is gqlgen's multipart/mixed transport, marked uncacheable:
// its parts are a stream for one client, never something a CDN may keep.
type incremental struct{ transport.MultipartMixed }

func (t incremental) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.MultipartMixed.Do(noStore{w}, r, exec)
}

// noStore overrides the transport's "no-cache" (which a shared cache may
// still store and revalidate) as the headers go out.
type noStore struct{ http.ResponseWriter }

func (n noStore) WriteHeader(code int) {
	n.Header().Set("Cache-Control", "private, no-store")
	n.ResponseWriter.WriteHeader(code)
}

func (n noStore) Write(p []byte) (int, error) {
	n.Header().Set("Cache-Control", "private, no-store")
	return n.ResponseWriter.Write(p)
}

func (n noStore) Flush() { http.NewResponseController(n.ResponseWriter).Flush() }

func (n noStore) Unwrap() http.ResponseWriter { return n.ResponseWriter }

// undeferred runs @defer operations undeferred for whole-response transports.
type undeferred struct{}

func (undeferred) ExtensionName() string                   { return "Undeferred" }
func (undeferred) Validate(graphql.ExecutableSchema) error { return nil }
func (undeferred) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if ctx.Value(wholeKey{}) == nil || op.Doc == nil || !mentionsDefer(op.Doc) {
		return nil
	}
	// The parsed document is shared through the query cache with clients
	// that do want parts, so the copy is what changes.
	doc := &ast.QueryDocument{Position: op.Doc.Position, Comment: op.Doc.Comment}
	for _, o := range op.Doc.Operations {
		c := *o
		c.SelectionSet = withoutDefer(o.SelectionSet)
		doc.Operations = append(doc.Operations, &c)
		if o == op.Operation {
			op.Operation = &c
		}
	}
	for _, f := range op.Doc.Fragments {
		c := *f
		c.SelectionSet = withoutDefer(f.SelectionSet)
		doc.Fragments = append(doc.Fragments, &c)
	}
	op.Doc = doc
	return nil
}

// mentionsDefer is a cheap look at the source before any copying.
func mentionsDefer(doc *ast.QueryDocument) bool {
	for _, o := range doc.Operations {
		if o.Position != nil && o.Position.Src != nil {
			return strings.Contains(o.Position.Src.Input, "defer")
		}
	}
	return true
}

func withoutDefer(set ast.SelectionSet) ast.SelectionSet {
	if set == nil {
		return nil
	}
	out := make(ast.SelectionSet, len(set))
	for i, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			c := *s
			c.SelectionSet = withoutDefer(s.SelectionSet)
			out[i] = &c
		case *ast.InlineFragment:
			c := *s
			c.Directives = dropDefer(s.Directives)
			c.SelectionSet = withoutDefer(s.SelectionSet)
			out[i] = &c
		case *ast.FragmentSpread:
			c := *s
			c.Directives = dropDefer(s.Directives)
			out[i] = &c
		default:
			out[i] = sel
		}
	}
	return out
}

func dropDefer(ds ast.DirectiveList) ast.DirectiveList {
	var out ast.DirectiveList
	for _, d := range ds {
		if d.Name != "defer" {
			out = append(out, d)
		}
	}
	return out
}
