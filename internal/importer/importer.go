// Package importer turns the plain-text stories newsrooms and wire partners
// send into drafts: headline, body, source attribution, image credit, byline
// and suggested tags. Parse is a pure function; creating the draft (matching
// or creating the author, storing the article) is the editors' write path.
package importer

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Draft is a parsed story, ready to become a DRAFT article.
type Draft struct {
	Headline string `json:"headline"`
	// Body is CommonMark: the story's paragraphs, with characters Markdown
	// would read as markup escaped so the text shows as it was written.
	Body string `json:"body"`
	// Source is the outlet the story reports from, when it names one.
	Source *news.Source `json:"source,omitempty"`
	// ImageCredit is the featured image's credit ("Featured image: ...").
	ImageCredit string `json:"imageCredit,omitempty"`
	// Author is the closing byline block, when there is one.
	Author *Byline `json:"author,omitempty"`
	// Tags are suggested tag slugs, most mentioned first.
	Tags []string `json:"tags"`
}

// Byline is the author a story's closing block names.
type Byline struct {
	Name string `json:"name"`
	Bio  string `json:"bio,omitempty"`
}

// MaxTags bounds the suggested tags: an editor reviews them, and a long
// list of weak guesses is worse than a short one.
const MaxTags = 8

// MaxTextBytes bounds what Parse accepts: far above any story, low enough
// that a pasted mistake cannot make the parser work for long.
const MaxTextBytes = 1 << 20

var (
	// "Read the Riverside Ledger's full story here." (optionally with the
	// address after it). The outlet is group 1, an address group 2.
	readHere = regexp.MustCompile(`(?i)^read\s+(?:the\s+)?(.+?)'s?\s+(?:full\s+|original\s+|complete\s+)?(?:report|story|article|coverage)\s+here\b[\s.:!]*(https?://\S+?)?[\s.]*$`)
	// "... according to an exclusive report from the Riverside Ledger."
	accordingTo = regexp.MustCompile(`(?i)according\s+to\s+(?:an?\s+|the\s+)?(?:exclusive\s+|new\s+|recent\s+|separate\s+|earlier\s+)?report\s+(?:from|by|in)\s+(.+?)\s*(?:[.,;:!?)]|$)`)
	// "Featured image: Riverside Transit Authority"
	featuredImage = regexp.MustCompile(`(?i)^featured\s+(?:image|photo|picture)\s*[:\-–—]\s*(.+)$`)
)

// Parse reads a plain-text story: the headline on the first line, then
// paragraphs separated by blank lines. Along the way:
//   - "Read the X's full report here" is dropped from the body and X becomes
//     the source; so does X in "according to (an exclusive) report from X",
//     which stays in the body, being part of the story.
//   - "Featured image: Y" is dropped from the body; Y is the image credit.
//   - A closing block of a short name line and then a bio paragraph is the
//     byline, not body text.
//
// Curly and straight quotes, Windows and old Mac line endings, tabs and
// stray spaces are all accepted. Text without a headline or without a body
// is a *news.InputError on "text".
func Parse(text string) (*Draft, error) {
	if len(text) > MaxTextBytes {
		return nil, news.BadInput("text", "is %d bytes; at most %d", len(text), MaxTextBytes)
	}
	blocks := paragraphs(normalise(text))
	if len(blocks) == 0 {
		return nil, news.BadInput("text", "is empty: the first line must be the headline")
	}
	d := &Draft{Tags: []string{}}
	// The headline is the first line; the rest of its block, if the sender
	// left no blank line after it, is body.
	first := blocks[0]
	d.Headline = first[0]
	blocks[0] = first[1:]

	var body [][]string
	for _, b := range blocks {
		if len(b) == 0 {
			continue
		}
		line := strings.Join(b, " ")
		plain := straightQuotes(line)
		if m := readHere.FindStringSubmatch(plain); m != nil {
			d.Source = &news.Source{Name: outletName(m[1]), URL: m[2]}
			continue
		}
		if m := featuredImage.FindStringSubmatch(line); m != nil {
			d.ImageCredit = strings.TrimSpace(m[1])
			continue
		}
		body = append(body, b)
	}
	body, d.Author = byline(body)
	if len(body) == 0 {
		return nil, news.BadInput("text", "has no body: put the story's paragraphs after the headline, separated by blank lines")
	}

	paras := make([]string, len(body))
	for i, b := range body {
		paras[i] = strings.Join(b, " ")
		if d.Source == nil {
			if m := accordingTo.FindStringSubmatch(straightQuotes(paras[i])); m != nil {
				if name := outletName(m[1]); name != "" {
					d.Source = &news.Source{Name: name}
				}
			}
		}
	}
	escaped := make([]string, len(paras))
	for i, p := range paras {
		escaped[i] = markdownText(p)
	}
	d.Body = strings.Join(escaped, "\n\n")
	d.Tags = suggestTags(d.Headline, paras, d.Author)
	return d, nil
}

// normalise makes line endings "\n", every other kind of white space a
// plain space, and drops invisible characters senders' tools leave behind
// (byte order marks, zero-width spaces, soft hyphens) and invalid UTF-8.
func normalise(text string) string {
	text = strings.ToValidUTF8(text, "")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\u2028' || r == '\u2029':
			return '\n'
		case r == '\uFEFF' || r == '\u200B' || r == '\u200C' || r == '\u200D' || r == '\u00AD' || r == '\u2060':
			return -1
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, text)
}

// paragraphs splits text into blocks at blank lines; each block is its
// lines, trimmed, with runs of spaces collapsed.
func paragraphs(text string) [][]string {
	var blocks [][]string
	var cur []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			if len(cur) > 0 {
				blocks = append(blocks, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		blocks = append(blocks, cur)
	}
	return blocks
}

// straightQuotes turns typographic quotes into ASCII ones, for matching only:
// the body keeps the sender's quotes.
var straightQuotes = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u02BC", "'", "\u201C", `"`, "\u201D", `"`).Replace

// outletName tidies a captured outlet: no leading "the", no wrapping quotes.
func outletName(s string) string {
	s = strings.Trim(strings.TrimSpace(s), `"' `)
	if len(s) > 4 && strings.EqualFold(s[:4], "the ") {
		s = s[4:]
	}
	return strings.TrimSpace(s)
}

// byline takes the closing byline block off the body: a name line (a few
// capitalised words, no sentence punctuation) followed by a bio paragraph
// that names the person or speaks of them, or a name line alone at the
// very end. The body must keep at least one paragraph.
func byline(body [][]string) ([][]string, *Byline) {
	n := len(body)
	if n >= 3 && isNameLine(body[n-2]) {
		name := body[n-2][0]
		bio := strings.Join(body[n-1], " ")
		if speaksOf(bio, name) {
			return body[:n-2], &Byline{Name: name, Bio: bio}
		}
	}
	if n >= 2 && isNameLine(body[n-1]) {
		return body[:n-1], &Byline{Name: body[n-1][0]}
	}
	return body, nil
}

// isNameLine: one line of two to five words, each starting with a capital
// letter (or a particle like "de" or "van"), without sentence punctuation;
// the only full stops a name has are in initials ("J. R. Okafor").
func isNameLine(block []string) bool {
	if len(block) != 1 || utf8.RuneCountInString(block[0]) > 60 || strings.ContainsAny(block[0], ",;:!?\"“”()") {
		return false
	}
	words := strings.Fields(block[0])
	if len(words) < 2 || len(words) > 5 {
		return false
	}
	for _, w := range words {
		if strings.Contains(w, ".") && (!strings.HasSuffix(w, ".") || utf8.RuneCountInString(w) > 3) {
			return false
		}
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) && !particles[strings.ToLower(w)] {
			return false
		}
	}
	return true
}

var particles = map[string]bool{"de": true, "da": true, "del": true, "van": true, "von": true, "der": true, "la": true, "le": true, "di": true, "du": true, "bin": true, "al": true}

// speaksOf reports whether a bio is about the named person: it mentions one
// of their names or opens with a pronoun.
func speaksOf(bio, name string) bool {
	lower := strings.ToLower(bio)
	for _, w := range strings.Fields(name) {
		if len(w) > 2 && strings.Contains(lower, strings.ToLower(strings.Trim(w, "."))) {
			return true
		}
	}
	first, _, _ := strings.Cut(lower, " ")
	switch first {
	case "he", "she", "they", "a", "an":
		return true
	}
	return false
}

// markdownText escapes what CommonMark would take for markup, so a plain
// paragraph renders as exactly its text: emphasis, code, links, raw HTML,
// entities, tables and strikethrough anywhere, and headings, lists, block
// quotes and thematic breaks at the start.
func markdownText(p string) string {
	var b strings.Builder
	for i, r := range p {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '&', '|', '~', '!':
			b.WriteByte('\\')
		case '#', '-', '+', '=':
			if i == 0 {
				b.WriteByte('\\')
			}
		case '.', ')':
			// "1. Item" and "1) Item" start ordered lists.
			if isDigits(p[:i]) {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isDigits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
