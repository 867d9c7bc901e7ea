package news

// SearchQuery asks for the stories passing List's filters that hold every
// one of Terms (analysed: stemmed, lower case) and every one of Phrases
// (as written; the index analyses them) standing together in one field.
// Built by internal/search from a reader's query and a filter validated by
// Service.ListQuery, never from client documents.
type SearchQuery struct {
	List    ArticleQuery
	Terms   []string
	Phrases []string
	// After is the last result of the previous page.
	After *SearchHit
	Limit int
}

// SearchHit is a story found and its relevance.
type SearchHit struct {
	ID    string
	Score float64
}

// Token is a word of a text as search matches it: its byte offsets in the
// text and the term it is reduced to.
type Token struct {
	Start, End int
	Term       string
}
