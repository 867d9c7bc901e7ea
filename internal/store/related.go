package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/newsgraph/newsgraph/internal/news"
)

// livePublished matches what readers see at q.Now, without the story itself.
func livePublished(q news.SharingQuery) bson.D {
	return bson.D{
		{Key: "status", Value: string(news.StatusPublished)},
		{Key: "publishedAt", Value: bson.D{{Key: "$lte", Value: q.Now}}},
		{Key: "_id", Value: bson.D{{Key: "$ne", Value: q.Exclude}}},
	}
}

// ArticlesSharingTags is one find: the newest live stories carrying any of
// q.Tags. On MongoDB the {tags, publishedAt} index serves it (one index
// range per tag, merged in publication order), reading about q.Limit
// documents.
func (s *Store) ArticlesSharingTags(ctx context.Context, q news.SharingQuery) ([]*news.Article, error) {
	filter := append(bson.D{{Key: "tags", Value: bson.D{{Key: "$in", Value: q.Tags}}}}, livePublished(q)...)
	return findAll[news.Article](ctx, s, s.articles, filter, newestFirst(q.Limit))
}

// ArticlesSharingDesk is one find: the newest live stories in q.Section or
// by any of q.AuthorIDs. On MongoDB each $or branch has its index
// ({section, publishedAt}, {authorIds, publishedAt}) and the planner merges
// them in publication order.
func (s *Store) ArticlesSharingDesk(ctx context.Context, q news.SharingQuery) ([]*news.Article, error) {
	var or bson.A
	if q.Section != "" {
		or = append(or, bson.D{{Key: "section", Value: q.Section}})
	}
	if len(q.AuthorIDs) > 0 {
		or = append(or, bson.D{{Key: "authorIds", Value: bson.D{{Key: "$in", Value: q.AuthorIDs}}}})
	}
	if len(or) == 0 {
		return nil, nil
	}
	filter := append(bson.D{{Key: "$or", Value: or}}, livePublished(q)...)
	return findAll[news.Article](ctx, s, s.articles, filter, newestFirst(q.Limit))
}

func newestFirst(limit int) *options.FindOptionsBuilder {
	return options.Find().
		SetSort(bson.D{{Key: "publishedAt", Value: -1}, {Key: "_id", Value: -1}}).
		SetLimit(singleBatch(limit))
}

// TagFrequencies counts live stories per tag with one aggregation
// ($match, $unwind, $group) and counts live stories with one count. It reads
// every live story's tags, so callers cache it.
func (s *Store) TagFrequencies(ctx context.Context, now time.Time) (*news.TagFrequencies, error) {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	live := liveAt(now)
	cur, err := s.articles.Aggregate(ctx, bson.A{
		bson.D{{Key: "$match", Value: live}},
		bson.D{{Key: "$project", Value: bson.D{{Key: "tags", Value: 1}}}},
		bson.D{{Key: "$unwind", Value: "$tags"}},
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$tags"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	})
	if err != nil {
		return nil, fmt.Errorf("articles tag frequencies: %w", err)
	}
	var rows []struct {
		Tag string `bson:"_id"`
		N   int    `bson:"n"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, fmt.Errorf("articles tag frequencies decode: %w", err)
	}
	n, err := s.articles.CountDocuments(ctx, live)
	if err != nil {
		return nil, fmt.Errorf("articles count: %w", err)
	}
	out := &news.TagFrequencies{Stories: int(n), Tagged: make(map[string]int, len(rows))}
	for _, r := range rows {
		out.Tagged[r.Tag] = r.N
	}
	return out, nil
}
