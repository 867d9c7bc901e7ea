package news

import (
	"encoding/base64"
	"encoding/json"
	"time"
)

// Page sizes: what a client gets without asking, and the most it may ask for.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// OrderField is what a list of articles is sorted by. Ties are always broken
// by ID, so the order is total and keyset cursors never skip or repeat.
type OrderField string

const (
	OrderPublishedAt OrderField = "PUBLISHED_AT"
	OrderUpdatedAt   OrderField = "UPDATED_AT"
)

// Order is a sort field and direction.
type Order struct {
	Field OrderField
	Desc  bool
}

// NewestFirst is the default order of every article list.
var NewestFirst = Order{Field: OrderPublishedAt, Desc: true}

// Cursor marks a position in an ordered list: the sort value and the ID of
// the last item seen, plus the order it belongs to so that a cursor from one
// ordering cannot be replayed against another.
type Cursor struct {
	Field OrderField `json:"f,omitempty"`
	Desc  bool       `json:"d,omitempty"`
	// Time is the sort value for time orders (Unix milliseconds, the
	// database's precision); Text the sort value for name orders.
	Time int64  `json:"t,omitempty"`
	Text string `json:"s,omitempty"`
	ID   string `json:"i"`
}

// Encode makes the opaque string a client passes back as `after`.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses an `after` argument. field names the argument.
func DecodeCursor(field, s string) (Cursor, error) {
	var c Cursor
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(raw, &c) != nil || c.ID == "" {
		return Cursor{}, BadInput(field, "not a cursor this API issued")
	}
	return c, nil
}

// PageArgs are a connection's `first` and `after` as the client sent them.
type PageArgs struct {
	First *int
	After *string
}

// Limit validates `first` and returns how many items to return.
func (p PageArgs) Limit() (int, error) {
	if p.First == nil {
		return DefaultPageSize, nil
	}
	n := *p.First
	if n < 0 {
		return 0, BadInput("first", "must not be negative")
	}
	if n > MaxPageSize {
		return 0, BadInput("first", "must be at most %d, got %d", MaxPageSize, n)
	}
	return n, nil
}

// ArticleFilter is what a client may narrow a list of articles by.
type ArticleFilter struct {
	Section         *string
	Tags            []string
	Author          *string
	PublishedAfter  *time.Time
	PublishedBefore *time.Time
	Status          *Status
}

// ArticleQuery is a validated, resolved list request, ready for the store:
// slugs have been checked, the author slug turned into an ID, visibility
// decided. Built only by Service.Articles.
type ArticleQuery struct {
	// Status to list. PUBLISHED means live now (published at or before Now);
	// SCHEDULED means stored PUBLISHED with PublishedAt after Now.
	Status          Status
	Now             time.Time
	Section         string
	Tags            []string
	AuthorID        string
	PublishedAfter  *time.Time
	PublishedBefore *time.Time
	Order           Order
	After           *Cursor
	// Limit is how many to fetch: one more than the page size, so the store
	// answers "is there a next page" in the same round trip.
	Limit int
}

// AuthorQuery is a page of authors ordered by name.
type AuthorQuery struct {
	After *Cursor
	Limit int
}

// PageInfo is the Relay page info.
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

// ArticleEdge is an article with its cursor.
type ArticleEdge struct {
	Cursor string
	Node   *Article
}

// ArticleConnection is a page of articles.
type ArticleConnection struct {
	Edges    []*ArticleEdge
	PageInfo *PageInfo
}

// AuthorEdge is an author with its cursor.
type AuthorEdge struct {
	Cursor string
	Node   *Author
}

// AuthorConnection is a page of authors.
type AuthorConnection struct {
	Edges    []*AuthorEdge
	PageInfo *PageInfo
}

// cutPage trims the store's limit+1 rows to the page, encodes each row's
// cursor and fills the page info.
func cutPage[T any](rows []T, pageSize int, after bool, cursorOf func(T) Cursor) ([]T, []string, *PageInfo) {
	info := &PageInfo{HasPreviousPage: after}
	if len(rows) > pageSize {
		rows = rows[:pageSize]
		info.HasNextPage = true
	}
	cursors := make([]string, len(rows))
	for i, r := range rows {
		cursors[i] = cursorOf(r).Encode()
	}
	if n := len(cursors); n > 0 {
		info.StartCursor = &cursors[0]
		info.EndCursor = &cursors[n-1]
	}
	return rows, cursors, info
}

func newArticleConnection(rows []*Article, pageSize int, after bool, o Order) *ArticleConnection {
	rows, cursors, info := cutPage(rows, pageSize, after, func(a *Article) Cursor { return ArticleCursor(a, o) })
	c := &ArticleConnection{Edges: make([]*ArticleEdge, len(rows)), PageInfo: info}
	for i, r := range rows {
		c.Edges[i] = &ArticleEdge{Cursor: cursors[i], Node: r}
	}
	return c
}

func newAuthorConnection(rows []*Author, pageSize int, after bool) *AuthorConnection {
	rows, cursors, info := cutPage(rows, pageSize, after, AuthorCursor)
	c := &AuthorConnection{Edges: make([]*AuthorEdge, len(rows)), PageInfo: info}
	for i, r := range rows {
		c.Edges[i] = &AuthorEdge{Cursor: cursors[i], Node: r}
	}
	return c
}

// ArticleCursor is the cursor of a in order o.
func ArticleCursor(a *Article, o Order) Cursor {
	c := Cursor{Field: o.Field, Desc: o.Desc, ID: a.ID}
	switch o.Field {
	case OrderUpdatedAt:
		c.Time = a.UpdatedAt.UnixMilli()
	default:
		if a.PublishedAt != nil {
			c.Time = a.PublishedAt.UnixMilli()
		}
	}
	return c
}

// AuthorCursor is the cursor of a in the by-name order of authors.
func AuthorCursor(a *Author) Cursor {
	return Cursor{Field: "NAME", Text: a.Name, ID: a.ID}
}
