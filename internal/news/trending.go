package news

import (
	"context"
	"errors"
)

// Trending counts readers' views and ranks articles by them.
type Trending interface {
	// Viewed counts one reader's view of a. It must not block the request.
	Viewed(ctx context.Context, a *Article)
	// Top returns the IDs of the most-viewed articles over the last `hours`
	// hours, in section (all sections when ""), most viewed first.
	Top(ctx context.Context, section string, hours, n int) ([]string, error)
}

type noTrending struct{}

func (noTrending) Viewed(context.Context, *Article) {}
func (noTrending) Top(context.Context, string, int, int) ([]string, error) {
	return nil, nil
}

// TrendWindow is how far back MostRead looks.
type TrendWindow string

const (
	WindowHour TrendWindow = "HOUR"
	WindowDay  TrendWindow = "DAY"
	WindowWeek TrendWindow = "WEEK"
)

// hours is the number of hourly buckets a window spans. HOUR spans the
// current and the previous bucket, so it never looks at a nearly empty
// hour just after the clock turns.
func (w TrendWindow) hours() int {
	switch w {
	case WindowHour:
		return 2
	case WindowWeek:
		return 7 * 24
	default:
		return 24
	}
}

// Most-read list sizes.
const (
	DefaultMostRead = 10
	MaxMostRead     = 50
)

// MostRead lists the articles readers viewed most over the window, in one
// section or all, leaving out anything no longer visible to readers.
func (s *Service) MostRead(ctx context.Context, section *string, window TrendWindow, first *int) ([]*Article, error) {
	n := DefaultMostRead
	if first != nil {
		n = *first
		if n < 1 || n > MaxMostRead {
			return nil, BadInput("first", "must be between 1 and %d", MaxMostRead)
		}
	}
	slug := ""
	if section != nil {
		sec, err := s.Section(ctx, *section)
		if err != nil {
			return nil, err
		}
		if sec == nil {
			return nil, BadInput("section", "no section %q", *section)
		}
		slug = sec.Slug
	}
	// Ask for more than needed: some top articles may have been unpublished.
	ids, err := s.trending.Top(ctx, slug, window.hours(), 2*n)
	if err != nil {
		return nil, err
	}
	found, err := s.store.ArticlesByIDs(ctx, ids)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	now := s.now()
	out := make([]*Article, 0, n)
	for _, id := range ids {
		if a := found[id]; a != nil && a.LiveAt(now) && len(out) < n {
			out = append(out, a)
		}
	}
	return out, nil
}
