package news

// SearchQuery asks for the live stories holding every one of Terms (stems)
// and passing the list's filters. Built by internal/search from a query
// and a filter validated by Service.ListQuery, never from client documents.
type SearchQuery struct {
	List  ArticleQuery
	Terms []string
}

// SearchCorpus is what BM25 needs to know of all live stories: how many
// there are and their bodies' summed length in words.
type SearchCorpus struct {
	Stories int
	Length  int64
}
