package news

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Stories migrated from another CMS (newsgraph-import) are checked by the
// same rules as editors' input, but arrive with their status, publication
// time, bylines and taxonomy already settled by the importer, which creates
// authors, sections and tags as needed.

// Imported is one story from another system, ready to check.
type Imported struct {
	// Key names the story in its system ("wordpress:<guid>"); the
	// article's ID is derived from it.
	Key string
	// Input carries headline, dek, body (with BodyFormat), slug, section,
	// tags, featured image and source; AuthorIDs there are ignored.
	Input ArticleInput
	// AuthorIDs are stored author keys, in byline order.
	AuthorIDs []string
	// Status is DRAFT, PUBLISHED or SCHEDULED (PublishedAt in the future)
	// or ARCHIVED.
	Status      Status
	PublishedAt *time.Time
}

// ImportedID is the article ID of the story key names: the same on every
// import, so a second import of one export updates what the first wrote.
// It has the shape of the desk's IDs (24 hex digits).
func ImportedID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:12])
}

// ImportedArticle checks in and makes the article to store, as of now.
// Errors are *InputError naming the offending field.
func ImportedArticle(in Imported, now time.Time) (*Article, error) {
	now = now.UTC().Truncate(time.Millisecond)
	a := &Article{ID: ImportedID(in.Key), ImportKey: in.Key, AuthorIDs: in.AuthorIDs, Tags: []string{},
		CreatedAt: now, UpdatedAt: now, Version: 1}
	if a.AuthorIDs == nil {
		a.AuthorIDs = []string{}
	}
	if len(a.AuthorIDs) > MaxBylines {
		a.AuthorIDs = a.AuthorIDs[:MaxBylines]
	}
	if in.Input.Headline == nil {
		return nil, BadInput("headline", "is required")
	}
	if in.Input.Slug == nil {
		return nil, BadInput("slug", "is required")
	}
	if err := applyText(a, in.Input); err != nil {
		return nil, err
	}
	if err := applyMedia(a, in.Input); err != nil {
		return nil, err
	}
	if s := in.Input.Section; s != nil && *s != "" {
		if !ValidSlug(*s) {
			return nil, BadInput("section", "%q is not a valid slug", *s)
		}
		a.Section = *s
	}
	if len(in.Input.Tags) > MaxArticleTags {
		return nil, BadInput("tags", "at most %d tags", MaxArticleTags)
	}
	for _, t := range in.Input.Tags {
		if !ValidSlug(t) {
			return nil, BadInput("tags", "%q is not a valid slug", t)
		}
	}
	a.Tags = dedupe(append([]string{}, in.Input.Tags...))

	switch in.Status {
	case StatusDraft:
		a.StoredStatus = StatusDraft
	case StatusPublished, StatusScheduled, StatusArchived:
		if in.PublishedAt == nil {
			return nil, BadInput("publishedAt", "is required for a %s story", in.Status)
		}
		if RenderText(a.Body) == "" {
			return nil, BadInput("body", "a %s story needs a body", in.Status)
		}
		at := in.PublishedAt.UTC().Truncate(time.Millisecond)
		if at.Year() < 1900 {
			return nil, BadInput("publishedAt", "must be after the year 1900")
		}
		if in.Status == StatusScheduled && !at.After(now) {
			// A schedule that has passed went out then.
			in.Status = StatusPublished
		}
		if in.Status == StatusPublished && at.After(now) {
			return nil, BadInput("publishedAt", "a published story cannot be dated in the future (%s); import it as scheduled", at.Format(time.RFC3339))
		}
		a.StoredStatus = in.Status
		if in.Status == StatusScheduled {
			a.StoredStatus = StatusPublished // scheduled = published in the future (see Status)
		}
		a.PublishedAt = &at
	default:
		return nil, BadInput("status", "must be DRAFT, PUBLISHED, SCHEDULED or ARCHIVED, not %q", in.Status)
	}
	return a, nil
}
