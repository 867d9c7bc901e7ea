package news

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Store is what the newsroom needs from storage. Implementations return
// ErrNotFound for a missing single item and leave missing keys out of maps.
// Every method takes the request's context; the store adds its own deadline.
type Store interface {
	ArticleByID(ctx context.Context, id string) (*Article, error)
	ArticleBySlug(ctx context.Context, slug string) (*Article, error)
	ArticlesByIDs(ctx context.Context, ids []string) (map[string]*Article, error)
	Articles(ctx context.Context, q ArticleQuery) ([]*Article, error)
	AuthorByID(ctx context.Context, id string) (*Author, error)
	AuthorBySlug(ctx context.Context, slug string) (*Author, error)
	Authors(ctx context.Context, q AuthorQuery) ([]*Author, error)
	AuthorsByIDs(ctx context.Context, ids []string) (map[string]*Author, error)
	TermsByKeys(ctx context.Context, keys []string) (map[string]*Term, error)
	Sections(ctx context.Context) ([]*Term, error)
}

// MaxFilterTags bounds how many tags one filter may name.
const MaxFilterTags = 10

// Service applies the newsroom's rules for reading: who sees what, how lists
// are validated, ordered and paged. Resolvers call it and nothing else.
type Service struct {
	store    Store
	baseURL  string
	now      func() time.Time
	trending Trending
}

// Option configures a Service.
type Option func(*Service)

// WithTrending counts readers' views and answers MostRead from t.
func WithTrending(t Trending) Option { return func(s *Service) { s.trending = t } }

// NewService builds the read side over a store. baseURL is the public site
// address canonical URLs are built on.
func NewService(store Store, baseURL string, opts ...Option) *Service {
	s := &Service{store: store, baseURL: strings.TrimRight(baseURL, "/"), now: time.Now, trending: noTrending{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Store returns the store the service reads from (dataloaders batch on it).
func (s *Service) Store() Store { return s.store }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// CanonicalURL is the story's address on the newsroom's website.
func (s *Service) CanonicalURL(a *Article) string {
	if a.Section == "" {
		return s.baseURL + "/" + a.Slug
	}
	return s.baseURL + "/" + a.Section + "/" + a.Slug
}

// visible reports whether the viewer in ctx may see a.
func (s *Service) visible(ctx context.Context, a *Article) bool {
	return ViewerFrom(ctx).SeesUnpublished() || a.LiveAt(s.now())
}

// Article finds one article by global ID or slug, exactly one of which must
// be given. A missing or invisible article is (nil, nil): to a reader a draft
// does not exist.
func (s *Service) Article(ctx context.Context, id, slug *string) (*Article, error) {
	a, err := findByIDOrSlug(ctx, NodeArticle, id, slug, s.store.ArticleByID, s.store.ArticleBySlug)
	if a == nil || err != nil || !s.visible(ctx, a) {
		return nil, err
	}
	if !ViewerFrom(ctx).SeesUnpublished() && a.LiveAt(s.now()) {
		s.trending.Viewed(ctx, a)
	}
	return a, nil
}

// findByIDOrSlug looks a node up by exactly one of a global ID and a slug;
// (nil, nil) when there is no such node.
func findByIDOrSlug[T any](ctx context.Context, kind string, id, slug *string,
	byID, bySlug func(context.Context, string) (*T, error)) (*T, error) {
	if (id == nil) == (slug == nil) {
		return nil, BadInput("id", "give exactly one of id and slug")
	}
	var (
		v   *T
		err error
	)
	if id != nil {
		key, perr := ParseGlobalIDOf("id", kind, *id)
		if perr != nil {
			return nil, perr
		}
		v, err = byID(ctx, key)
	} else {
		if !ValidSlug(*slug) {
			return nil, nil
		}
		v, err = bySlug(ctx, *slug)
	}
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// Articles lists articles by a client's filter and order.
func (s *Service) Articles(ctx context.Context, p PageArgs, f *ArticleFilter, o *Order) (*ArticleConnection, error) {
	q := ArticleQuery{Status: StatusPublished, Order: NewestFirst}
	if o != nil {
		q.Order = *o
	}
	if f != nil {
		if err := s.resolveFilter(ctx, f, o, &q); err != nil {
			return nil, err
		}
	}
	return s.page(ctx, p, q)
}

// ListQuery validates a filter as Articles does and returns the query for
// what the viewer may see of it now (readers: live stories). Search builds
// on it; it covers published stories only, so it refuses filter.status.
func (s *Service) ListQuery(ctx context.Context, f *ArticleFilter) (ArticleQuery, error) {
	q := ArticleQuery{Status: StatusPublished, Order: NewestFirst, Now: s.now()}
	if f == nil {
		return q, nil
	}
	if f.Status != nil {
		return q, BadInput("filter.status", "search covers published stories only")
	}
	return q, s.resolveFilter(ctx, f, nil, &q)
}

func (s *Service) resolveFilter(ctx context.Context, f *ArticleFilter, o *Order, q *ArticleQuery) error {
	if f.Status != nil {
		if !ViewerFrom(ctx).SeesUnpublished() {
			return Forbidden("filter.status is for editors; readers always get published articles")
		}
		q.Status = *f.Status
		if q.Status == StatusDraft {
			// Drafts have no publication time to sort on.
			if o == nil {
				q.Order = Order{Field: OrderUpdatedAt, Desc: true}
			} else if o.Field == OrderPublishedAt {
				return BadInput("orderBy.field", "drafts have no publication time; order them by UPDATED_AT")
			}
		}
	}
	if f.PublishedAfter != nil && f.PublishedBefore != nil && !f.PublishedAfter.Before(*f.PublishedBefore) {
		return BadInput("filter.publishedAfter", "must be before filter.publishedBefore")
	}
	q.PublishedAfter, q.PublishedBefore = f.PublishedAfter, f.PublishedBefore

	if len(f.Tags) > MaxFilterTags {
		return BadInput("filter.tags", "at most %d tags", MaxFilterTags)
	}
	var keys []string
	if f.Section != nil {
		if !ValidSlug(*f.Section) {
			return BadInput("filter.section", "no section %q", *f.Section)
		}
		q.Section = *f.Section
		keys = append(keys, TermKey(KindSection, q.Section))
	}
	for _, t := range f.Tags {
		if !ValidSlug(t) {
			return BadInput("filter.tags", "no tag %q", t)
		}
		keys = append(keys, TermKey(KindTag, t))
	}
	q.Tags = f.Tags
	if len(keys) > 0 {
		found, err := s.store.TermsByKeys(ctx, keys)
		if err != nil {
			return err
		}
		if q.Section != "" && found[keys[0]] == nil {
			return BadInput("filter.section", "no section %q", q.Section)
		}
		for _, t := range f.Tags {
			if found[TermKey(KindTag, t)] == nil {
				return BadInput("filter.tags", "no tag %q", t)
			}
		}
	}
	if f.Author != nil {
		if !ValidSlug(*f.Author) {
			return BadInput("filter.author", "no author %q", *f.Author)
		}
		a, err := s.store.AuthorBySlug(ctx, *f.Author)
		if errors.Is(err, ErrNotFound) {
			return BadInput("filter.author", "no author %q", *f.Author)
		}
		if err != nil {
			return err
		}
		q.AuthorID = a.ID
	}
	return nil
}

// ArticlesInSection, ArticlesTagged and ArticlesBy list what readers see of
// a section, a tag or an author that is already known to exist.
func (s *Service) ArticlesInSection(ctx context.Context, slug string, p PageArgs) (*ArticleConnection, error) {
	return s.page(ctx, p, ArticleQuery{Status: StatusPublished, Order: NewestFirst, Section: slug})
}

func (s *Service) ArticlesTagged(ctx context.Context, slug string, p PageArgs) (*ArticleConnection, error) {
	return s.page(ctx, p, ArticleQuery{Status: StatusPublished, Order: NewestFirst, Tags: []string{slug}})
}

func (s *Service) ArticlesBy(ctx context.Context, authorID string, p PageArgs) (*ArticleConnection, error) {
	return s.page(ctx, p, ArticleQuery{Status: StatusPublished, Order: NewestFirst, AuthorID: authorID})
}

func (s *Service) page(ctx context.Context, p PageArgs, q ArticleQuery) (*ArticleConnection, error) {
	limit, err := p.Limit()
	if err != nil {
		return nil, err
	}
	if p.After != nil {
		c, err := DecodeCursor("after", *p.After)
		if err != nil {
			return nil, err
		}
		if c.Field != q.Order.Field || c.Desc != q.Order.Desc {
			return nil, BadInput("after", "cursor belongs to a different ordering")
		}
		q.After = &c
	}
	q.Now = s.now()
	q.Limit = limit + 1
	rows, err := s.store.Articles(PageOutlines(ctx, limit), q)
	if err != nil {
		return nil, err
	}
	return newArticleConnection(rows, limit, p.After != nil, q.Order), nil
}

// Author finds one author by global ID or slug; (nil, nil) when unknown.
func (s *Service) Author(ctx context.Context, id, slug *string) (*Author, error) {
	return findByIDOrSlug(ctx, NodeAuthor, id, slug, s.store.AuthorByID, s.store.AuthorBySlug)
}

// Authors pages through all authors by name.
func (s *Service) Authors(ctx context.Context, p PageArgs) (*AuthorConnection, error) {
	limit, err := p.Limit()
	if err != nil {
		return nil, err
	}
	q := AuthorQuery{Limit: limit + 1}
	if p.After != nil {
		c, err := DecodeCursor("after", *p.After)
		if err != nil {
			return nil, err
		}
		if c.Field != "NAME" {
			return nil, BadInput("after", "cursor belongs to a different list")
		}
		q.After = &c
	}
	rows, err := s.store.Authors(ctx, q)
	if err != nil {
		return nil, err
	}
	return newAuthorConnection(rows, limit, p.After != nil), nil
}

func (s *Service) term(ctx context.Context, kind TermKind, slug string) (*Term, error) {
	if !ValidSlug(slug) {
		return nil, nil
	}
	key := TermKey(kind, slug)
	found, err := s.store.TermsByKeys(ctx, []string{key})
	if err != nil {
		return nil, err
	}
	return found[key], nil
}

// Section finds a section by slug; (nil, nil) when unknown.
func (s *Service) Section(ctx context.Context, slug string) (*Section, error) {
	t, err := s.term(ctx, KindSection, slug)
	return (*Section)(t), err
}

// Tag finds a tag by slug; (nil, nil) when unknown.
func (s *Service) Tag(ctx context.Context, slug string) (*Tag, error) {
	t, err := s.term(ctx, KindTag, slug)
	return (*Tag)(t), err
}

// Sections lists every section in the newsroom's order.
func (s *Service) Sections(ctx context.Context) ([]*Section, error) {
	terms, err := s.store.Sections(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Section, len(terms))
	for i, t := range terms {
		out[i] = (*Section)(t)
	}
	return out, nil
}

// Node resolves a global ID to the object it names; (nil, nil) when absent.
func (s *Service) Node(ctx context.Context, id string) (Node, error) {
	kind, key, err := ParseGlobalID("id", id)
	if err != nil {
		return nil, err
	}
	// Each case returns a bare nil, never a typed nil pointer, so a caller's
	// `node == nil` check holds.
	switch kind {
	case NodeArticle:
		if a, err := s.Article(ctx, &id, nil); a != nil || err != nil {
			return a, err
		}
	case NodeAuthor:
		if a, err := s.Author(ctx, &id, nil); a != nil || err != nil {
			return a, err
		}
	case NodeSection:
		if t, err := s.Section(ctx, key); t != nil || err != nil {
			return t, err
		}
	case NodeTag:
		if t, err := s.Tag(ctx, key); t != nil || err != nil {
			return t, err
		}
	}
	return nil, nil
}

// ArticlesByIDs looks a batch of articles up by global ID, as a federation
// gateway asks for them: one store call for the batch, the answer in the
// order asked, nil where an ID names nothing or something the viewer may
// not see (to a reader, a draft does not exist).
func (s *Service) ArticlesByIDs(ctx context.Context, ids []string) ([]*Article, error) {
	keys := parseIDs(NodeArticle, ids)
	found, err := s.store.ArticlesByIDs(ctx, compact(keys))
	if err != nil {
		return nil, err
	}
	out := make([]*Article, len(ids))
	for i, k := range keys {
		if a := found[k]; a != nil && s.visible(ctx, a) {
			out[i] = a
		}
	}
	return out, nil
}

// AuthorsByIDs is ArticlesByIDs for authors.
func (s *Service) AuthorsByIDs(ctx context.Context, ids []string) ([]*Author, error) {
	keys := parseIDs(NodeAuthor, ids)
	found, err := s.store.AuthorsByIDs(ctx, compact(keys))
	if err != nil {
		return nil, err
	}
	out := make([]*Author, len(ids))
	for i, k := range keys {
		out[i] = found[k]
	}
	return out, nil
}

// TermsBySlugs looks a batch of sections or tags up by slug in one store
// call; nil where a slug names none.
func (s *Service) TermsBySlugs(ctx context.Context, kind TermKind, slugs []string) ([]*Term, error) {
	keys := make([]string, len(slugs))
	for i, slug := range slugs {
		if ValidSlug(slug) {
			keys[i] = TermKey(kind, slug)
		}
	}
	found, err := s.store.TermsByKeys(ctx, compact(keys))
	if err != nil {
		return nil, err
	}
	out := make([]*Term, len(slugs))
	for i, k := range keys {
		out[i] = found[k]
	}
	return out, nil
}

// parseIDs turns global IDs of one kind into store keys; "" for an ID that
// is malformed or of another kind (it names nothing here).
func parseIDs(kind string, ids []string) []string {
	keys := make([]string, len(ids))
	for i, id := range ids {
		if k, err := ParseGlobalIDOf("id", kind, id); err == nil {
			keys[i] = k
		}
	}
	return keys
}

// compact is keys without the empty ones and repeats.
func compact(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
