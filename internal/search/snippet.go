package search

import (
	"html"
	"strings"

	"github.com/newsgraph/newsgraph/internal/news"
)

// snippetWords is about how long an excerpt is: two lines of a result list.
const snippetWords = 30

// snippet is an excerpt of the story around its first matched word (the
// body's, else the dek's, else the headline's), HTML-escaped, with every
// matched word in <mark>...</mark>; "…" where it is cut.
func snippet(a *news.Article, pq *parsedQuery, memo map[string]string) string {
	wanted := map[string]bool{}
	for _, t := range pq.terms {
		wanted[t] = true
	}
	fields := fieldsOf(a)
	texts := []string{fields[2].text, fields[1].text, fields[0].text}
	for _, text := range texts {
		ws := words(text, memo)
		for i, w := range ws {
			if wanted[w.stem] {
				return excerpt(text, ws, max(0, i-snippetWords/3), wanted)
			}
		}
	}
	text := texts[0]
	if text == "" {
		text = a.Headline
	}
	return excerpt(text, words(text, memo), 0, wanted)
}

// excerpt writes snippetWords words of text from word `from` on.
func excerpt(text string, ws []span, from int, wanted map[string]bool) string {
	if len(ws) == 0 {
		return html.EscapeString(text)
	}
	to := min(len(ws), from+snippetWords)
	var b strings.Builder
	start := ws[from].start
	if from > 0 {
		b.WriteString("…")
	}
	pos := start
	for _, w := range ws[from:to] {
		b.WriteString(html.EscapeString(text[pos:w.start]))
		if wanted[w.stem] {
			b.WriteString("<mark>" + html.EscapeString(text[w.start:w.end]) + "</mark>")
		} else {
			b.WriteString(html.EscapeString(text[w.start:w.end]))
		}
		pos = w.end
	}
	if to < len(ws) {
		b.WriteString(html.EscapeString(strings.TrimRight(text[pos:ws[to].start], " ")))
		b.WriteString("…")
	} else {
		b.WriteString(html.EscapeString(text[pos:]))
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
