package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/newsgraph/newsgraph/internal/trusted"
)

// trustedOnly refuses a keyless caller's unlisted document where the HTTP
// middleware cannot look: in a websocket's subscribe message.
type trustedOnly struct{ docs *trusted.Documents }

func (trustedOnly) ExtensionName() string                   { return "TrustedDocuments" }
func (trustedOnly) Validate(graphql.ExecutableSchema) error { return nil }

func (t trustedOnly) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if t.docs.Allowed(ctx, p.Query) {
		return nil
	}
	e := gqlerror.Errorf("without an API key only the website's listed operations may be run")
	e.Extensions = map[string]any{"code": trusted.Code}
	return e
}
