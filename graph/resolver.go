package graph

import (
	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/embed"
	"github.com/newsgraph/newsgraph/internal/live"
	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/preview"
	"github.com/newsgraph/newsgraph/internal/related"
	"github.com/newsgraph/newsgraph/internal/search"
	"github.com/newsgraph/newsgraph/internal/seo"
	"github.com/newsgraph/newsgraph/internal/webhook"
)

// Resolver holds the dependencies resolvers call; nothing else.
type Resolver struct {
	News           *news.Service
	Keys           *auth.Keys
	Desk           *news.Desk
	Embeds         *embed.Provider
	RelatedStories *related.Finder
	Live           *live.Hub
	Searcher       *search.Searcher
	Hooks          *webhook.Hooks
	Previews       *preview.Links
	SEO            *seo.Site
}
