package graph

import (
	"github.com/newsgraph/newsgraph/internal/embed"
	"github.com/newsgraph/newsgraph/internal/news"
)

// Resolver holds the dependencies resolvers call; nothing else.
type Resolver struct {
	News   *news.Service
	Embeds *embed.Provider
}
