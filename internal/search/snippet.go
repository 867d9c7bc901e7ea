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
// matched word in <mark>...</mark>; "…" where it is cut. It is cut from
// the hydrated story, analysed as the index analyses it, so the index
// stores no text.
func snippet(a *news.Article, terms []string, analyze func(string) []news.Token) string {
	wanted := map[string]bool{}
	for _, t := range terms {
		wanted[t] = true
	}
	texts := []string{news.RenderText(a.Body), a.Dek, a.Headline}
	for _, text := range texts {
		tokens := analyze(text)
		for i, w := range tokens {
			if wanted[w.Term] {
				return excerpt(text, tokens, max(0, i-snippetWords/3), wanted)
			}
		}
	}
	text := texts[0]
	if text == "" {
		text = a.Headline
	}
	return excerpt(text, analyze(text), 0, wanted)
}

// excerpt writes snippetWords words of text from word `from` on. Stop
// words are not tokens, so they are counted as part of the gaps.
func excerpt(text string, ws []news.Token, from int, wanted map[string]bool) string {
	if len(ws) == 0 {
		return html.EscapeString(text)
	}
	to := min(len(ws), from+snippetWords)
	var b strings.Builder
	start := ws[from].Start
	if from > 0 {
		// Back to the start of the word before, so the excerpt does not
		// begin in the middle of a stop word.
		start = ws[from-1].End
		b.WriteString("…")
	}
	pos := start
	for _, w := range ws[from:to] {
		b.WriteString(html.EscapeString(text[pos:w.Start]))
		if wanted[w.Term] {
			b.WriteString("<mark>" + html.EscapeString(text[w.Start:w.End]) + "</mark>")
		} else {
			b.WriteString(html.EscapeString(text[w.Start:w.End]))
		}
		pos = w.End
	}
	if to < len(ws) {
		b.WriteString(html.EscapeString(strings.TrimRight(text[pos:ws[to].Start], " ")))
		b.WriteString("…")
	} else {
		b.WriteString(html.EscapeString(text[pos:]))
	}
	return strings.Join(strings.Fields(b.String()), " ")
}
