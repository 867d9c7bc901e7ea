package graph

import (
	"github.com/newsgraph/newsgraph/internal/auth"
	"github.com/newsgraph/newsgraph/internal/news"
)

// Resolver holds the dependencies resolvers call; nothing else.
type Resolver struct {
	News *news.Service
	Keys *auth.Keys
	Desk *news.Desk
}
