package news

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors a DeskStore returns for the desk to act on; clients never see them.
var (
	// ErrSlugTaken: another article or author already has the slug.
	ErrSlugTaken = errors.New("slug taken")
	// ErrStale: the stored version is not the one the write was based on.
	ErrStale = errors.New("stale version")
)

// DeskStore is what the editorial desk needs from storage on top of reading.
type DeskStore interface {
	Store
	// InsertArticle returns ErrSlugTaken when the slug is in use.
	InsertArticle(ctx context.Context, a *Article) error
	// InsertRevision returns ErrStale when the article's version is
	// already taken by another revision.
	InsertRevision(ctx context.Context, r *Revision) error
	DeleteRevision(ctx context.Context, id string) error
	// UpdateArticle replaces the article whose version is still
	// expectedVersion (ErrStale otherwise, ErrSlugTaken on a slug clash).
	UpdateArticle(ctx context.Context, a *Article, expectedVersion int) error
	DeleteArticle(ctx context.Context, id string) error
	InsertAuthor(ctx context.Context, a *Author) error
	// AuthorByName is the author named name, ignoring case; (nil, nil)
	// when none (the oldest when several share it).
	AuthorByName(ctx context.Context, name string) (*Author, error)
	UpdateAuthor(ctx context.Context, a *Author) error
	Revisions(ctx context.Context, articleID string, limit int) ([]*Revision, error)
	Revision(ctx context.Context, articleID string, version int) (*Revision, error)
	InsertAudit(ctx context.Context, e *AuditEntry) error
	AuditEntries(ctx context.Context, limit int) ([]*AuditEntry, error)
}

// Actor is who made a change: the API key, by ID and by the name it was
// given.
type Actor struct {
	KeyID string `bson:"keyId"`
	Name  string `bson:"name"`
}

// Revision is an article as one save left it: every save is kept, so no
// edit is ever lost, even one that later lost a race.
type Revision struct {
	ID        string    `bson:"_id"`
	ArticleID string    `bson:"articleId"`
	Version   int       `bson:"version"`
	SavedAt   time.Time `bson:"savedAt"`
	SavedBy   Actor     `bson:"savedBy"`
	Operation string    `bson:"operation"`
	Article   Article   `bson:"article"`
}

// AuditEntry records one mutation: who, what, when, on which article or
// author.
type AuditEntry struct {
	ID        string    `bson:"_id"`
	At        time.Time `bson:"at"`
	By        Actor     `bson:"by"`
	Operation string    `bson:"operation"`
	ArticleID string    `bson:"articleId,omitempty"`
	AuthorID  string    `bson:"authorId,omitempty"`
	Version   int       `bson:"version,omitempty"`
}

// Operations as recorded in revisions and the audit log.
const (
	OpCreateArticle   = "createArticle"
	OpUpdateArticle   = "updateArticle"
	OpPublishArticle  = "publishArticle"
	OpUnpublish       = "unpublishArticle"
	OpDeleteArticle   = "deleteArticle"
	OpRestoreRevision = "restoreRevision"
	OpCreateAuthor    = "createAuthor"
	OpUpdateAuthor    = "updateAuthor"
)

// MaxRevisions bounds how many revisions one request lists.
const MaxRevisions = 100

// Desk is the newsroom's write side: it validates what editors send, saves
// it with optimistic concurrency, keeps every save as a revision, records
// every mutation in the audit log and tells the listener after each write
// landed. There are no multi-document transactions (FerretDB), so each write
// is ordered to fail safe: a save claims its revision before it touches the
// article (see save), and the audit entry comes last, so a failure in between
// loses at worst a log line, never a story.
type Desk struct {
	store    DeskStore
	listener Listener
	now      func() time.Time
}

// NewDesk builds the desk. listener may be Listeners{}.
func NewDesk(store DeskStore, listener Listener) *Desk {
	return &Desk{store: store, listener: listener, now: time.Now}
}

func (d *Desk) clock() time.Time { return d.now().UTC().Truncate(time.Millisecond) }

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func actor(ctx context.Context) Actor {
	v := ViewerFrom(ctx)
	return Actor{KeyID: v.KeyID, Name: v.KeyName}
}

// maxSlugSuffix bounds the -2, -3 ... tried for a generated slug.
const maxSlugSuffix = 50

// slugFrom is the slug generated from a headline or name; text with no
// Latin letters or digits gets kind-<end of id>.
func slugFrom(text, kind, id string) string {
	if s := Slugify(text); s != "" {
		return s
	}
	return kind + "-" + id[len(id)-8:]
}

// insertUnique runs insert, and when the slug is taken and was generated
// (not given), tries slug-2, slug-3 ... A given slug that is taken is the
// client's to change.
func insertUnique(slug *string, given bool, insert func() error) error {
	base := *slug
	for n := 2; ; n++ {
		err := insert()
		if !errors.Is(err, ErrSlugTaken) {
			return err
		}
		if given || n > maxSlugSuffix {
			return BadInput("input.slug", "%q is taken", base)
		}
		*slug = SuffixedSlug(base, n)
	}
}

// SuffixedSlug is base with -n on the end, as WordPress and the desk make
// a taken slug unique, shortened first where needed to stay a valid slug.
func SuffixedSlug(base string, n int) string {
	suffix := fmt.Sprintf("-%d", n)
	return strings.TrimRight(base[:min(len(base), MaxSlugLen-len(suffix))], "-") + suffix
}

// CreateArticle stores a new DRAFT.
func (d *Desk) CreateArticle(ctx context.Context, in ArticleInput) (*Article, error) {
	now := d.clock()
	a := &Article{ID: newID(), AuthorIDs: []string{}, Tags: []string{}, StoredStatus: StatusDraft,
		CreatedAt: now, UpdatedAt: now, Version: 1}
	if in.Headline == nil {
		return nil, BadInput("input.headline", "is required")
	}
	if err := d.apply(ctx, a, in); err != nil {
		return nil, err
	}
	if in.Slug == nil {
		a.Slug = slugFrom(a.Headline, "article", a.ID)
	}
	if err := insertUnique(&a.Slug, in.Slug != nil, func() error { return d.store.InsertArticle(ctx, a) }); err != nil {
		return nil, err
	}
	// A new article's first revision cannot be contested.
	if err := d.store.InsertRevision(ctx, newRevision(ctx, OpCreateArticle, a)); err != nil {
		return nil, fmt.Errorf("article %s created but its revision not recorded: %w", a.ID, err)
	}
	return a, d.landed(ctx, OpCreateArticle, nil, a)
}

// UpdateArticle applies in to the article if it is still at expectedVersion;
// otherwise nothing is written and the client gets the current version.
func (d *Desk) UpdateArticle(ctx context.Context, id string, expectedVersion int, in ArticleInput) (*Article, error) {
	cur, err := d.article(ctx, "id", id)
	if err != nil {
		return nil, err
	}
	if cur.Version != expectedVersion {
		return nil, &ConflictError{CurrentVersion: cur.Version}
	}
	next := *cur
	if err := d.apply(ctx, &next, in); err != nil {
		return nil, err
	}
	if next.Slug != cur.Slug && cur.StoredStatus != StatusDraft {
		return nil, BadInput("input.slug", "is fixed once the article has been published")
	}
	return d.save(ctx, OpUpdateArticle, cur, &next)
}

// PublishArticle makes the article PUBLISHED at `at`: a future moment
// schedules it (readers see it from then on), none means now, or, for a story
// that was already out, its original publication time.
func (d *Desk) PublishArticle(ctx context.Context, id string, at *time.Time) (*Article, error) {
	cur, err := d.article(ctx, "id", id)
	if err != nil {
		return nil, err
	}
	now := d.clock()
	when := now
	switch {
	case at != nil:
		if at.Year() < 1900 || at.After(now.AddDate(10, 0, 0)) {
			return nil, BadInput("at", "must be between the year 1900 and ten years from now")
		}
		when = at.UTC().Truncate(time.Millisecond)
	case cur.PublishedAt != nil && !cur.PublishedAt.After(now):
		when = *cur.PublishedAt
	}
	if RenderText(cur.Body) == "" {
		return nil, BadInput("id", "the article has no body yet")
	}
	next := *cur
	next.StoredStatus = StatusPublished
	next.PublishedAt = &when
	return d.save(ctx, OpPublishArticle, cur, &next)
}

// UnpublishArticle takes the article away from readers: a live story becomes
// ARCHIVED (it keeps its slug and publication time, since readers may have
// linked to it), a scheduled one goes back to DRAFT. A draft or an archived
// story is returned as it is.
func (d *Desk) UnpublishArticle(ctx context.Context, id string) (*Article, error) {
	cur, err := d.article(ctx, "id", id)
	if err != nil {
		return nil, err
	}
	next := *cur
	switch cur.StatusAt(d.now()) {
	case StatusPublished:
		next.StoredStatus = StatusArchived
	case StatusScheduled:
		next.StoredStatus, next.PublishedAt = StatusDraft, nil
	default:
		return cur, nil
	}
	return d.save(ctx, OpUnpublish, cur, &next)
}

// DeleteArticle removes the article for good; its revisions and audit trail
// stay.
func (d *Desk) DeleteArticle(ctx context.Context, id string) (string, error) {
	cur, err := d.article(ctx, "id", id)
	if err != nil {
		return "", err
	}
	if err := d.store.DeleteArticle(ctx, cur.ID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return "", ErrNotFound
		}
		return "", err
	}
	return id, d.landed(ctx, OpDeleteArticle, cur, nil)
}

// RestoreRevision makes an earlier revision's content current again, as a
// new version; the workflow status stays as it is.
func (d *Desk) RestoreRevision(ctx context.Context, id string, version int) (*Article, error) {
	cur, err := d.article(ctx, "articleId", id)
	if err != nil {
		return nil, err
	}
	rev, err := d.store.Revision(ctx, cur.ID, version)
	if errors.Is(err, ErrNotFound) {
		return nil, BadInput("revision", "the article has no revision %d", version)
	}
	if err != nil {
		return nil, err
	}
	old := rev.Article
	next := *cur
	next.Headline, next.Dek, next.Body = old.Headline, old.Dek, old.Body
	next.AuthorIDs, next.Section, next.Tags = old.AuthorIDs, old.Section, old.Tags
	next.FeaturedImage, next.Source = old.FeaturedImage, old.Source
	if cur.StoredStatus == StatusDraft {
		next.Slug = old.Slug
	}
	return d.save(ctx, OpRestoreRevision, cur, &next)
}

// Revisions lists an article's saves, newest first.
func (d *Desk) Revisions(ctx context.Context, a *Article, first *int) ([]*Revision, error) {
	limit := 20
	if first != nil {
		if *first < 0 || *first > MaxRevisions {
			return nil, BadInput("first", "must be between 0 and %d", MaxRevisions)
		}
		limit = *first
	}
	if limit == 0 {
		return []*Revision{}, nil
	}
	return d.store.Revisions(ctx, a.ID, limit)
}

// AuditLog lists the latest mutations, newest first.
func (d *Desk) AuditLog(ctx context.Context, first *int) ([]*AuditEntry, error) {
	limit := 50
	if first != nil {
		if *first < 1 || *first > MaxPageSize {
			return nil, BadInput("first", "must be between 1 and %d", MaxPageSize)
		}
		limit = *first
	}
	return d.store.AuditEntries(ctx, limit)
}

// article loads the article a global ID names; NOT_FOUND when there is none.
func (d *Desk) article(ctx context.Context, field, id string) (*Article, error) {
	key, err := ParseGlobalIDOf(field, NodeArticle, id)
	if err != nil {
		return nil, err
	}
	return d.store.ArticleByID(ctx, key)
}

// save writes next over cur if nobody saved in between, then records it.
//
// The revision is written first and claims the new version: the unique
// (articleId, version) index lets exactly one of two racing saves have it,
// even on a server whose findAndModify is not atomic (FerretDB on SQLite is
// not). Only the claimant then updates the article, still with the version in
// the filter, which on MongoDB alone would suffice.
func (d *Desk) save(ctx context.Context, op string, cur, next *Article) (*Article, error) {
	next.Version = cur.Version + 1
	next.UpdatedAt = d.clock()
	rev := newRevision(ctx, op, next)
	if err := d.claim(ctx, rev, cur); err != nil {
		return nil, err
	}
	err := d.store.UpdateArticle(ctx, next, cur.Version)
	if err != nil {
		// Give the version back so the article is not stuck behind a
		// revision it never reached.
		if derr := d.store.DeleteRevision(ctx, rev.ID); derr != nil {
			err = errors.Join(err, derr)
		}
	}
	switch {
	case errors.Is(err, ErrStale):
		return nil, d.conflict(ctx, cur)
	case errors.Is(err, ErrSlugTaken):
		return nil, BadInput("input.slug", "%q is taken", next.Slug)
	case err != nil:
		return nil, err
	}
	return next, d.landed(ctx, op, cur, next)
}

// abandonedClaim is how old a revision claiming a version the article never
// reached must be before a save may take the version over (the process that
// claimed it died between its two writes).
const abandonedClaim = time.Minute

// claim stores rev, which succeeds for one save per version.
func (d *Desk) claim(ctx context.Context, rev *Revision, cur *Article) error {
	err := d.store.InsertRevision(ctx, rev)
	if !errors.Is(err, ErrStale) {
		return err
	}
	held, herr := d.store.Revision(ctx, rev.ArticleID, rev.Version)
	if herr == nil && d.now().Sub(held.SavedAt) > abandonedClaim {
		if now, aerr := d.store.ArticleByID(ctx, cur.ID); aerr == nil && now.Version == cur.Version {
			if derr := d.store.DeleteRevision(ctx, held.ID); derr == nil {
				return d.store.InsertRevision(ctx, rev)
			}
		}
	}
	return d.conflict(ctx, cur)
}

// conflict is the answer to a save based on cur that lost a race: the
// current version is at least the one the winner claimed.
func (d *Desk) conflict(ctx context.Context, cur *Article) error {
	now, err := d.store.ArticleByID(ctx, cur.ID)
	if err != nil {
		return err
	}
	return &ConflictError{CurrentVersion: max(now.Version, cur.Version+1)}
}

func newRevision(ctx context.Context, op string, a *Article) *Revision {
	return &Revision{ID: fmt.Sprintf("%s:%d", a.ID, a.Version), ArticleID: a.ID, Version: a.Version,
		SavedAt: a.UpdatedAt, SavedBy: actor(ctx), Operation: op, Article: *a}
}

// landed tells the listener of an article write that is in the database and
// audits it.
func (d *Desk) landed(ctx context.Context, op string, before, after *Article) error {
	d.listener.ArticleChanged(ctx, before, after)
	e := &AuditEntry{ID: newID(), At: d.clock(), By: actor(ctx), Operation: op}
	if after != nil {
		e.ArticleID, e.Version = after.ID, after.Version
	} else {
		e.ArticleID, e.Version = before.ID, before.Version
	}
	return d.audit(ctx, e)
}

func (d *Desk) audit(ctx context.Context, e *AuditEntry) error {
	if err := d.store.InsertAudit(ctx, e); err != nil {
		return fmt.Errorf("%s saved but not audited: %w", e.Operation, err)
	}
	return nil
}

// CreateAuthor stores a new byline.
func (d *Desk) CreateAuthor(ctx context.Context, in AuthorInput) (*Author, error) {
	now := d.clock()
	a := &Author{ID: newID(), SocialLinks: []SocialLink{}, CreatedAt: now, UpdatedAt: now}
	if in.Name == nil {
		return nil, BadInput("input.name", "is required")
	}
	if err := applyAuthor(a, in); err != nil {
		return nil, err
	}
	if in.Slug == nil {
		a.Slug = slugFrom(a.Name, "author", a.ID)
	}
	if err := insertUnique(&a.Slug, in.Slug != nil, func() error { return d.store.InsertAuthor(ctx, a) }); err != nil {
		return nil, err
	}
	d.listener.AuthorChanged(ctx, nil, a)
	return a, d.audit(ctx, &AuditEntry{ID: newID(), At: now, By: actor(ctx), Operation: OpCreateAuthor, AuthorID: a.ID})
}

// UpdateAuthor changes what in gives.
func (d *Desk) UpdateAuthor(ctx context.Context, id string, in AuthorInput) (*Author, error) {
	key, err := ParseGlobalIDOf("id", NodeAuthor, id)
	if err != nil {
		return nil, err
	}
	cur, err := d.store.AuthorByID(ctx, key)
	if err != nil {
		return nil, err
	}
	next := *cur
	if err := applyAuthor(&next, in); err != nil {
		return nil, err
	}
	next.UpdatedAt = d.clock()
	if err := d.store.UpdateAuthor(ctx, &next); errors.Is(err, ErrSlugTaken) {
		return nil, BadInput("input.slug", "%q is taken", next.Slug)
	} else if err != nil {
		return nil, err
	}
	d.listener.AuthorChanged(ctx, cur, &next)
	return &next, d.audit(ctx, &AuditEntry{ID: newID(), At: next.UpdatedAt, By: actor(ctx), Operation: OpUpdateAuthor, AuthorID: cur.ID})
}
