package index

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
)

// catchUpSkew is how far before the watermark a catch-up reads: a write
// stamped a little earlier than another may land a little later, and
// clocks of several writers differ.
const catchUpSkew = 2 * time.Minute

// ArticleChanged implements news.Listener: the desk's write is in this
// instance's index before the write returns (the listener runs before the
// cache's, so no reader can repopulate the cache from an index that does
// not have it yet).
func (ix *Index) ArticleChanged(ctx context.Context, before, after *news.Article) {
	var err error
	switch {
	case after != nil:
		err = ix.apply(context.WithoutCancel(ctx), []*news.Article{after}, nil, false)
	case before != nil:
		err = ix.apply(context.WithoutCancel(ctx), nil, []string{before.ID}, false)
	}
	if err != nil {
		ix.log.Error("query index write failed; the next catch-up (on the embedded default, the next start) repairs it", "err", err)
	}
}

// AuthorChanged implements news.Listener: the index holds author IDs only.
func (ix *Index) AuthorChanged(ctx context.Context, before, after *news.Author) {}

// Refresh re-reads articles by _id from MongoDB and indexes what it finds
// (dropping what is gone). The cache calls it when another instance's
// invalidation arrives, before confirming it, so by the time that write
// returns every instance's index has it. all means "everything may have
// changed" (a bulk load): a catch-up runs in the background.
func (ix *Index) Refresh(ctx context.Context, ids []string, all bool) {
	if all {
		go func() {
			if err := ix.CatchUp(context.WithoutCancel(ctx)); err != nil {
				ix.log.Warn("query index catch-up failed", "err", err)
			}
		}()
	}
	if ix.opts.Source == nil || len(ids) == 0 {
		return
	}
	var upserts []*news.Article
	var gone []string
	for _, id := range ids {
		a, err := ix.opts.Source.ArticleByID(ctx, id)
		switch {
		case errors.Is(err, news.ErrNotFound):
			gone = append(gone, id)
		case err != nil:
			ix.log.Warn("query index refresh: article unreadable; the next catch-up repairs it", "id", id, "err", err)
		default:
			upserts = append(upserts, a)
		}
	}
	if err := ix.apply(ctx, upserts, gone, false); err != nil {
		ix.log.Error("query index refresh failed", "err", err)
	}
}

// Settled is closed once Start's first rebuild or catch-up is over, so a
// caller counting database round trips (the tests) can leave it out.
func (ix *Index) Settled() <-chan struct{} { return ix.settled }

// Start brings the index up to date in the background and keeps it so
// until ctx ends: an index never built is rebuilt from MongoDB (Ping says
// "indexing" meanwhile); one on disk is usable at once and catches up.
// Then it catches up every Options.CatchUpEvery.
func (ix *Index) Start(ctx context.Context) {
	go func() {
		defer close(ix.done)
		if ix.opts.Source == nil {
			ix.ready.Store(true)
			close(ix.settled)
			return
		}
		if !ix.Built() {
			if err := ix.Rebuild(ctx); err != nil {
				if ctx.Err() == nil {
					ix.log.Error("query index rebuild failed; retrying at the next catch-up", "err", err)
				}
			}
		} else if err := ix.CatchUp(ctx); err != nil && ctx.Err() == nil {
			ix.log.Warn("query index catch-up failed", "err", err)
		}
		close(ix.settled)
		if ix.opts.CatchUpEvery < 0 {
			return
		}
		t := time.NewTicker(ix.opts.CatchUpEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var err error
			if ix.Built() {
				err = ix.CatchUp(ctx)
			} else {
				err = ix.Rebuild(ctx)
			}
			if err != nil && ctx.Err() == nil {
				ix.log.Warn("query index catch-up failed", "err", err)
			}
		}
	}()
}

// Wait blocks until Start's background work has stopped.
func (ix *Index) Wait() { <-ix.done }

// CatchUp indexes what changed in MongoDB since the watermark (less a
// skew): stories updated since, and stories deleted since.
func (ix *Index) CatchUp(ctx context.Context) error {
	if ix.opts.Source == nil {
		return nil
	}
	ix.catching.Lock()
	defer ix.catching.Unlock()
	defer ix.trackWrites()()
	since := ix.Watermark().Add(-catchUpSkew)
	started := time.Now()
	n := 0
	err := ix.opts.Source.ScanArticles(ctx, &since, func(batch []*news.Article) error {
		n += len(batch)
		return ix.apply(ctx, batch, nil, true)
	})
	if err != nil {
		return err
	}
	gone, err := ix.opts.Source.DeletedArticlesSince(ctx, since)
	if err != nil {
		return err
	}
	if err := ix.apply(ctx, nil, gone, true); err != nil {
		return err
	}
	if n > 0 || len(gone) > 0 {
		ix.log.Debug("query index caught up", "since", since, "updated", n, "deleted", len(gone),
			"took", time.Since(started).String())
	}
	return nil
}

// trackWrites records, until the returned func runs, the IDs that the
// listener and Refresh write: a scan's copy of them, read from MongoDB
// before that write, is older and must not replace it. Held under
// ix.catching, so one scan tracks at a time.
func (ix *Index) trackWrites() (stop func()) {
	ix.mu.Lock()
	ix.touched = map[string]bool{}
	ix.mu.Unlock()
	return func() {
		ix.mu.Lock()
		ix.touched = nil
		ix.mu.Unlock()
	}
}

// Rebuild fills the index from every story in MongoDB, in batches, with
// progress in the log; stories written meanwhile keep their newer copy, and
// deletions made meanwhile are applied at the end. Stories in the index
// that MongoDB no longer holds are dropped.
func (ix *Index) Rebuild(ctx context.Context) error {
	if ix.opts.Source == nil {
		return errors.New("query index rebuild: no source")
	}
	ix.catching.Lock()
	defer ix.catching.Unlock()
	defer ix.trackWrites()()
	started := time.Now()
	stale, err := ix.allIDs()
	if err != nil {
		return err
	}
	ix.log.Info("query index: rebuilding from MongoDB", "dir", ix.dir)
	n, lastLog := 0, time.Now()
	err = ix.opts.Source.ScanArticles(ctx, nil, func(batch []*news.Article) error {
		for _, a := range batch {
			delete(stale, a.ID)
		}
		if err := ix.apply(ctx, batch, nil, true); err != nil {
			return err
		}
		n += len(batch)
		if time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			ix.log.Info("query index: rebuilding", "stories", n, "elapsed", time.Since(started).Round(time.Second).String())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("query index rebuild: %w", err)
	}
	ix.mu.Lock()
	var drop []string
	for id := range stale {
		if !ix.touched[id] {
			drop = append(drop, id)
		}
	}
	ix.mu.Unlock()
	gone, err := ix.opts.Source.DeletedArticlesSince(ctx, started.Add(-catchUpSkew))
	if err != nil {
		return fmt.Errorf("query index rebuild: %w", err)
	}
	if err := ix.apply(ctx, nil, append(drop, gone...), true); err != nil {
		return err
	}
	if err := ix.bleve.SetInternal(keyBuilt, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		return fmt.Errorf("query index rebuild: %w", err)
	}
	ix.ready.Store(true)
	ix.log.Info("query index: rebuilt", "stories", n, "took", time.Since(started).Round(time.Millisecond).String())
	return nil
}
