// Package graph is the GraphQL layer: the generated executor, thin resolvers
// that translate GraphQL to calls on internal/news, and the one place errors
// become GraphQL errors. gqlgen writes generated.go and model/ from
// ../schema.graphqls (`go generate ./...` at the repository root).
package graph
