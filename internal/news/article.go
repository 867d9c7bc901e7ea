// Package news holds the newsroom's domain: articles, authors, sections and
// tags, who may see what, how lists are ordered and paged, and the errors a
// client can be given. It knows nothing of GraphQL or of MongoDB.
package news

import (
	"net/url"
	"strconv"
	"time"
)

// Status is where an article stands in the editorial workflow.
//
// SCHEDULED is never stored: a scheduled story is stored PUBLISHED with a
// future PublishedAt, so it becomes visible to readers at that instant without
// a job having to flip it, and every list query simply compares against now.
type Status string

const (
	StatusDraft     Status = "DRAFT"
	StatusScheduled Status = "SCHEDULED"
	StatusPublished Status = "PUBLISHED"
	StatusArchived  Status = "ARCHIVED"
)

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusDraft, StatusScheduled, StatusPublished, StatusArchived:
		return true
	}
	return false
}

// Article is a story as stored. Body is CommonMark; HTML and text are
// rendered from it on the way out.
type Article struct {
	ID            string     `bson:"_id"`
	Slug          string     `bson:"slug"`
	Headline      string     `bson:"headline"`
	Dek           string     `bson:"dek,omitempty"`
	Body          string     `bson:"body"`
	AuthorIDs     []string   `bson:"authorIds"`
	Section       string     `bson:"section"`
	Tags          []string   `bson:"tags"`
	FeaturedImage *Image     `bson:"featuredImage,omitempty"`
	Source        *Source    `bson:"source,omitempty"`
	StoredStatus  Status     `bson:"status"`
	PublishedAt   *time.Time `bson:"publishedAt,omitempty"`
	CreatedAt     time.Time  `bson:"createdAt"`
	UpdatedAt     time.Time  `bson:"updatedAt"`
	Version       int        `bson:"version"`
	// ImportKey names the story in the system it was migrated from
	// ("wordpress:<guid>"); the importer derives ID from it, so importing
	// the same export again updates the story instead of adding another.
	ImportKey string `bson:"importKey,omitempty"`
}

// StatusAt is the workflow status as of now: a published story whose time
// has not come yet is SCHEDULED.
func (a *Article) StatusAt(now time.Time) Status {
	if a.StoredStatus == StatusPublished && a.PublishedAt != nil && a.PublishedAt.After(now) {
		return StatusScheduled
	}
	return a.StoredStatus
}

// LiveAt reports whether readers may see the article at now.
func (a *Article) LiveAt(now time.Time) bool {
	return a.StatusAt(now) == StatusPublished
}

// Image is a picture with what a newsroom must print beside it.
type Image struct {
	URL     string `bson:"url" json:"url"`
	Alt     string `bson:"alt" json:"alt"`
	Caption string `bson:"caption,omitempty" json:"caption"`
	Credit  string `bson:"credit,omitempty" json:"credit"`
	Width   int    `bson:"width,omitempty" json:"width"`
	Height  int    `bson:"height,omitempty" json:"height"`
}

// MaxRenditionWidth bounds the widths an image service is asked for.
const MaxRenditionWidth = 4096

// RenditionURL is the image's address asking the image service for a copy
// at most width pixels wide (the `w` query parameter, as imgix, Cloudinary
// fetch URLs and most newsroom CDNs understand it). width 0 means original.
func (im *Image) RenditionURL(width int) (string, error) {
	if width == 0 {
		return im.URL, nil
	}
	if width < 1 || width > MaxRenditionWidth {
		return "", BadInput("width", "must be between 1 and %d", MaxRenditionWidth)
	}
	if im.Width > 0 && width >= im.Width {
		return im.URL, nil
	}
	u, err := url.Parse(im.URL)
	if err != nil {
		return im.URL, nil
	}
	q := u.Query()
	q.Set("w", strconv.Itoa(width))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Source credits the outlet a story reports from.
type Source struct {
	Name string `bson:"name" json:"name"`
	URL  string `bson:"url,omitempty" json:"url"`
}

// Author is a byline.
type Author struct {
	ID          string       `bson:"_id"`
	Slug        string       `bson:"slug"`
	Name        string       `bson:"name"`
	Bio         string       `bson:"bio,omitempty"`
	Avatar      *Image       `bson:"avatar,omitempty"`
	Location    string       `bson:"location,omitempty"`
	URL         string       `bson:"url,omitempty"`
	SocialLinks []SocialLink `bson:"socialLinks"`
	CreatedAt   time.Time    `bson:"createdAt"`
	UpdatedAt   time.Time    `bson:"updatedAt"`
}

// SocialLink is an author's profile on a social network.
type SocialLink struct {
	Network string `bson:"network" json:"network"`
	URL     string `bson:"url" json:"url"`
}

// TermKind tells sections from tags; both live in one taxonomy so that an
// article's section and tags load in a single round trip.
type TermKind string

const (
	KindSection TermKind = "section"
	KindTag     TermKind = "tag"
)

// Term is a section or a tag. Key is "section:politics" or "tag:housing".
type Term struct {
	Key         string   `bson:"_id"`
	Kind        TermKind `bson:"kind"`
	Slug        string   `bson:"slug"`
	Name        string   `bson:"name"`
	Description string   `bson:"description,omitempty"`
	Position    int      `bson:"position"`
}

// TermKey is the taxonomy key of a section or tag slug.
func TermKey(kind TermKind, slug string) string { return string(kind) + ":" + slug }

// Section is a term of kind section; Tag one of kind tag. Distinct types let
// the GraphQL layer bind them to distinct object types.
type (
	Section Term
	Tag     Term
)
