package news

import "context"

// A response cache needs to know what a response was built from, so that a
// write can purge it. Reads through the cached store are recorded by the
// cache itself; a component that keeps its own derived results (related
// stories, say) says so here.

// DependencyRecorder collects what the response being built depends on.
type DependencyRecorder interface {
	DependsOn(tag string)
}

type dependencyKey struct{}

// WithDependencyRecorder returns ctx carrying r.
func WithDependencyRecorder(ctx context.Context, r DependencyRecorder) context.Context {
	return context.WithValue(ctx, dependencyKey{}, r)
}

// ListsTag names "every list of articles": any article write changes it.
const ListsTag = "articles"

// DependsOnLists records that the response was computed from lists of
// articles, so any article write makes it stale.
func DependsOnLists(ctx context.Context) {
	if r, ok := ctx.Value(dependencyKey{}).(DependencyRecorder); ok {
		r.DependsOn(ListsTag)
	}
}
