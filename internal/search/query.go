package search

import (
	"strings"
	"unicode/utf8"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Limits on what a reader may ask.
const (
	MaxQueryRunes = 200
	// MaxQueryTerms bounds the terms one query requires: each is a posting
	// list the index intersects.
	MaxQueryTerms = 12
)

// parsedQuery is a reader's query: the terms every result must hold, and
// the quoted phrases, each of which must stand together in one field.
type parsedQuery struct {
	terms   []string
	phrases []string
}

// parse reads a query: words, and "quoted phrases" (straight or curly
// quotes; an unclosed quote runs to the end). Words are analysed as the
// index analyses stories, so the checks below see what will be matched.
func parse(q string, analyze func(string) []news.Token) (*parsedQuery, error) {
	q = strings.TrimSpace(q)
	if n := utf8.RuneCountInString(q); n > MaxQueryRunes {
		return nil, news.BadInput("query", "is %d characters; at most %d", n, MaxQueryRunes)
	}
	q = strings.NewReplacer("\u201C", `"`, "\u201D", `"`, "\u201E", `"`).Replace(q)
	p := &parsedQuery{}
	seen := map[string]bool{}
	for i, part := range strings.Split(q, `"`) {
		tokens := analyze(part)
		if i%2 == 1 && len(tokens) > 1 {
			p.phrases = append(p.phrases, part)
		}
		for _, t := range tokens {
			if !seen[t.Term] {
				seen[t.Term] = true
				p.terms = append(p.terms, t.Term)
			}
		}
	}
	if len(p.terms) == 0 {
		return nil, news.BadInput("query", "has no words to search for (common words such as \"the\" are ignored)")
	}
	if len(p.terms) > MaxQueryTerms {
		return nil, news.BadInput("query", "has %d distinct words; at most %d", len(p.terms), MaxQueryTerms)
	}
	return p, nil
}
