package graph

import (
	"context"
	"math"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/newsgraph/newsgraph/graph/model"
	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/related"
)

// Limits bound what one operation may ask for, so no document costs the
// service more than a page of articles should. Rejections are
// QUERY_TOO_COMPLEX with the computed figure and the limit.
type Limits struct {
	// MaxComplexity: each field costs 1; a connection or list costs its page
	// size times its children (default 3000: 100 articles of 30 fields).
	MaxComplexity int
	// MaxDepth of nested selections (default 12).
	MaxDepth int
	// MaxAliases in one operation (default 30).
	MaxAliases int
	// MaxTokens the parser reads before giving up (default 5000).
	MaxTokens int
	// Introspection and field suggestions ("did you mean ...") are on by
	// default; production may switch them off.
	NoIntrospection bool
	// PartnerBudget is the complexity a PARTNER key may spend per minute
	// (default 30000: ten full pages of 100 articles); Budget keeps the
	// account (shared through Redis when configured). No Budget, no limit.
	PartnerBudget int
	Budget        auth.Limiter
}

func (l *Limits) defaults() {
	if l.MaxComplexity == 0 {
		l.MaxComplexity = 3000
	}
	if l.MaxDepth == 0 {
		l.MaxDepth = 12
	}
	if l.MaxAliases == 0 {
		l.MaxAliases = 30
	}
	if l.MaxTokens == 0 {
		l.MaxTokens = 5000
	}
	if l.PartnerBudget == 0 {
		l.PartnerBudget = 30000
	}
}

// pageCost is what a connection or capped list costs: its page size (the
// default when not given, at most the cap) times its children.
func pageCost(first *int, def, capped, child int) int {
	n := def
	if first != nil {
		n = *first
	}
	n = min(max(n, 1), capped)
	return 1 + n*child
}

// complexityRoot prices the fields that fan out.
func complexityRoot() ComplexityRoot {
	var c ComplexityRoot
	page := func(child int, first *int, _ *string) int {
		return pageCost(first, news.DefaultPageSize, news.MaxPageSize, child)
	}
	c.Query.Articles = func(child int, first *int, after *string, _ *model.ArticleFilter, _ *model.ArticleOrder) int {
		return page(child, first, after)
	}
	c.Query.Authors = page
	c.Query.Search = func(child int, _ string, first *int, after *string, _ *model.ArticleFilter) int {
		return page(child, first, after)
	}
	c.Query.MostRead = func(child int, _ *string, _ *model.TrendWindow, first *int) int {
		return pageCost(first, news.DefaultMostRead, news.MaxMostRead, child)
	}
	// A federation gateway's entity batch costs what the same number of
	// items on a page would: 50 articles by key are priced as a page of 50.
	c.Query.__resolve_entities = func(child int, representations []map[string]any) int {
		return 1 + max(len(representations), 1)*child
	}
	c.Author.Articles = page
	c.Section.Articles = page
	c.Tag.Articles = page
	// A byline has a few names, an article a handful of tags.
	c.Article.Authors = func(child int) int { return 1 + 3*child }
	c.Article.Tags = func(child int) int { return 1 + 8*child }
	// Related stories cost queries of their own, however few are asked for.
	c.Article.Related = func(child int, first *int) int {
		return 10 + pageCost(first, related.DefaultCount, related.MaxCount, child)
	}
	return c
}

// operationLimits rejects over-deep, over-aliased or over-complex
// operations before anything executes.
type operationLimits struct {
	limits Limits
	es     graphql.ExecutableSchema
}

func (operationLimits) ExtensionName() string { return "OperationLimits" }

func (o *operationLimits) Validate(es graphql.ExecutableSchema) error {
	o.es = es
	return nil
}

func tooComplex(format string, figure string, value, limit int) *gqlerror.Error {
	e := gqlerror.Errorf(format, value, limit)
	e.Extensions = map[string]any{"code": CodeQueryTooComplex, figure: value, "limit": limit}
	return e
}

func (o *operationLimits) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	def := op.Doc.Operations.ForName(op.OperationName)
	if def == nil {
		return nil
	}
	if o.limits.NoIntrospection && selectsService(op.Doc, def.SelectionSet) {
		// The subgraph's SDL is the schema: hidden when introspection is.
		e := gqlerror.Errorf("introspection is disabled on this server, _service included")
		e.Extensions = map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}
		return e
	}
	w := walker{doc: op.Doc, maxDepth: o.limits.MaxDepth, maxAliases: o.limits.MaxAliases}
	w.walk(def.SelectionSet, 1)
	if w.depth > o.limits.MaxDepth {
		return tooComplex("operation is nested %d levels deep, more than the limit of %d", "depth", w.depth, o.limits.MaxDepth)
	}
	if w.aliases > o.limits.MaxAliases {
		return tooComplex("operation uses %d aliases, more than the limit of %d", "aliases", w.aliases, o.limits.MaxAliases)
	}
	c := complexity.Calculate(ctx, o.es, def, op.Variables)
	if c > o.limits.MaxComplexity {
		return tooComplex("operation has complexity %d, more than the limit of %d", "complexity", c, o.limits.MaxComplexity)
	}
	return o.spend(ctx, c)
}

// spend charges a partner's operation to its key's budget per minute.
func (o *operationLimits) spend(ctx context.Context, cost int) *gqlerror.Error {
	v := news.ViewerFrom(ctx)
	if v.Role != news.RolePartner || o.limits.Budget == nil {
		return nil
	}
	wait, err := o.limits.Budget.AllowN(ctx, "cost:"+v.KeyID, cost, o.limits.PartnerBudget)
	if err != nil || wait <= 0 {
		return nil // a budget outage must not take partners down
	}
	secs := int(math.Ceil(wait.Seconds()))
	e := gqlerror.Errorf("operation costs %d; this key's budget of %d a minute is spent, retry in %ds", cost, o.limits.PartnerBudget, secs)
	e.Extensions = map[string]any{"code": CodeRateLimited, "cost": cost, "budget": o.limits.PartnerBudget, "retryAfterSeconds": secs}
	return e
}

// walker measures depth and counts aliases, following fragment spreads. It
// stops as soon as a limit is passed, so a hostile document costs little.
type walker struct {
	doc                *ast.QueryDocument
	maxDepth, maxAlias int
	maxAliases         int
	depth, aliases     int
}

func (w *walker) walk(set ast.SelectionSet, depth int) {
	if depth > w.maxDepth+1 || w.aliases > w.maxAliases {
		return
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			w.depth = max(w.depth, depth)
			if s.Alias != "" && s.Alias != s.Name {
				w.aliases++
			}
			w.walk(s.SelectionSet, depth+1)
		case *ast.InlineFragment:
			w.walk(s.SelectionSet, depth)
		case *ast.FragmentSpread:
			if f := w.doc.Fragments.ForName(s.Name); f != nil {
				w.walk(f.SelectionSet, depth)
			}
		}
	}
}

// selectsService reports whether a root selection asks for _service,
// directly or through fragments.
func selectsService(doc *ast.QueryDocument, set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "_service" {
				return true
			}
		case *ast.InlineFragment:
			if selectsService(doc, s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if f := doc.Fragments.ForName(s.Name); f != nil && selectsService(doc, f.SelectionSet) {
				return true
			}
		}
	}
	return false
}
