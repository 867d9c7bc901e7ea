// Package search finds published stories by what they say: English words,
// stemmed and without stop words, ranked with BM25 (headline weighted above
// dek above body), with quoted phrases, the article filters and a marked
// snippet. MongoDB's $text is not available on FerretDB, so each stored
// article carries searchTerms, its unique stems, under a multikey index:
// a query fetches the live stories holding every term in one indexed find
// and ranks them here.
package search

import (
	"strings"
	"unicode"

	"github.com/kljensen/snowball/english"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Field weights: a word in the headline says more about what a story is
// about than one in the dek, and that more than one in the body.
const (
	weightHeadline = 3
	weightDek      = 2
	weightBody     = 1
)

// span is a word in a text: where it is, and its stem ("" for a stop word).
type span struct {
	start, end int
	stem       string
}

// words splits text into words (letters and digits; an apostrophe inside a
// word belongs to it, so "council's" is one word) and stems each. stems
// memoises stemming across calls for one query.
func words(text string, stems map[string]string) []span {
	var out []span
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := strings.ToLower(strings.NewReplacer("\u2019", "'", "\u2018", "'").Replace(text[start:end]))
		w = strings.Trim(w, "'")
		out = append(out, span{start: start, end: end, stem: stem(w, stems)})
		start = -1
	}
	for i, r := range text {
		inWord := unicode.IsLetter(r) || unicode.IsDigit(r) ||
			((r == '\'' || r == '\u2019') && start >= 0)
		if inWord && start < 0 {
			start = i
		} else if !inWord {
			flush(i)
		}
	}
	flush(len(text))
	return out
}

// stem is the word's English stem, "" for a stop word or nothing.
func stem(w string, memo map[string]string) string {
	if s, ok := memo[w]; ok {
		return s
	}
	s := ""
	if w != "" && !english.IsStopWord(w) && !extraStopWords[w] {
		if x, ok := stemExceptions[w]; ok {
			s = x
		} else {
			s = english.Stem(w, false)
		}
	}
	if memo != nil {
		memo[w] = s
	}
	return s
}

// extraStopWords are words too common in news to tell stories apart that
// the Snowball list does not have.
var extraStopWords = map[string]bool{"s": true, "said": true, "says": true, "also": true, "would": true, "could": true}

// stemExceptions are plurals Porter2 gets wrong that a newsroom writes
// often ("buses" would stem to "buse" and miss "bus").
var stemExceptions = map[string]string{"buses": "bus", "busses": "bus", "gases": "gas"}

// Stems are a text's stems in order, without stop words.
func Stems(text string, memo map[string]string) []string {
	ws := words(text, memo)
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		if w.stem != "" {
			out = append(out, w.stem)
		}
	}
	return out
}

// Index is what a stored article carries for search: its unique stems and
// its body's length in words (BM25's document length).
type Index struct {
	Terms      []string
	BodyLength int
}

// IndexOf works out an article's search index; the store writes it with
// every article it saves.
func IndexOf(a *news.Article) Index {
	memo := map[string]string{}
	seen := map[string]bool{}
	ix := Index{Terms: []string{}}
	for i, f := range fieldsOf(a) {
		stems := Stems(f.text, memo)
		if i == bodyField {
			ix.BodyLength = len(stems)
		}
		for _, s := range stems {
			if !seen[s] {
				seen[s] = true
				ix.Terms = append(ix.Terms, s)
			}
		}
	}
	return ix
}

type field struct {
	text   string
	weight int
}

// bodyField is the body's place in fieldsOf.
const bodyField = 2

func fieldsOf(a *news.Article) [3]field {
	return [3]field{{a.Headline, weightHeadline}, {a.Dek, weightDek}, {news.RenderText(a.Body), weightBody}}
}
