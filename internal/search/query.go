package search

import (
	"strings"
	"unicode/utf8"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Limits on what a reader may ask.
const (
	MaxQueryRunes = 200
	// MaxQueryTerms bounds the terms one query requires: every one is an
	// index range the database intersects.
	MaxQueryTerms = 12
)

// parsedQuery is a reader's query: the stems every result must hold, and
// the quoted phrases, each a run of stems that must stand together.
type parsedQuery struct {
	terms   []string
	phrases [][]string
}

// parse reads a query: words, and "quoted phrases" (straight or curly
// quotes; an unclosed quote runs to the end).
func parse(q string) (*parsedQuery, error) {
	q = strings.TrimSpace(q)
	if n := utf8.RuneCountInString(q); n > MaxQueryRunes {
		return nil, news.BadInput("query", "is %d characters; at most %d", n, MaxQueryRunes)
	}
	q = strings.NewReplacer("\u201C", `"`, "\u201D", `"`, "\u201E", `"`).Replace(q)
	p := &parsedQuery{}
	seen := map[string]bool{}
	add := func(stems []string) {
		for _, s := range stems {
			if !seen[s] {
				seen[s] = true
				p.terms = append(p.terms, s)
			}
		}
	}
	for i, part := range strings.Split(q, `"`) {
		stems := Stems(part, nil)
		if i%2 == 1 && len(stems) > 1 {
			p.phrases = append(p.phrases, stems)
		}
		add(stems)
	}
	if len(p.terms) == 0 {
		return nil, news.BadInput("query", "has no words to search for (common words such as \"the\" are ignored)")
	}
	if len(p.terms) > MaxQueryTerms {
		return nil, news.BadInput("query", "has %d distinct words; at most %d", len(p.terms), MaxQueryTerms)
	}
	return p, nil
}

// hasPhrase reports whether stems holds phrase as a run.
func hasPhrase(stems, phrase []string) bool {
	for i := 0; i+len(phrase) <= len(stems); i++ {
		match := true
		for j, s := range phrase {
			if stems[i+j] != s {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
