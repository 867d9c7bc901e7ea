package graph

import (
	"github.com/newsgraph/newsgraph/internal/embed"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/related"
)

// Resolver holds the dependencies resolvers call; nothing else.
type Resolver struct {
	News           *news.Service
	Embeds         *embed.Provider
	RelatedStories *related.Finder
}
