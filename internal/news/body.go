package news

import (
	"bufio"
	"bytes"
	stdhtml "html"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Article bodies are stored as CommonMark Markdown. This file turns them into
// sanitised HTML for pages and into plain text for feeds, snippets and word
// counts.

// bodyExtensions are the Markdown dialect of article bodies: CommonMark plus
// GFM strikethrough and tables. The typographer is deliberately not enabled:
// bodies should show the quotes and dashes the editor typed. Table alignment
// is rendered as an align attribute because the sanitiser drops style
// attributes.
func bodyExtensions() goldmark.Option {
	return goldmark.WithExtensions(
		extension.Strikethrough,
		extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
	)
}

// bodyMarkdown renders bodies to HTML. It is built once: a goldmark.Markdown
// is immutable after construction and safe for concurrent use, and building
// one sets up every parser and renderer, too costly to repeat per article.
//
// Raw HTML is left to goldmark's default (no html.WithUnsafe), which replaces
// it by an "omitted" comment that the sanitiser then strips.
var bodyMarkdown = goldmark.New(
	bodyExtensions(),
	goldmark.WithParserOptions(
		parser.WithASTTransformers(util.Prioritized(bodyTransformer{}, 1000)),
	),
)

// bodyTextParser parses bodies for RenderText. It is the same dialect without
// bodyTransformer, whose changes only matter for HTML (and which would leave
// the alt text of a rejected image in the text).
var bodyTextParser = goldmark.New(bodyExtensions()).Parser()

// bodyPolicy is built once at package init: a bluemonday.Policy must not be
// modified after first use but is safe for concurrent sanitising, and building
// one compiles a lot of regexps.
//
// It runs after goldmark even though goldmark already drops raw HTML and
// javascript:/vbscript:/file:/data: URLs, as defence in depth (e.g. against a
// future renderer option or extension that lets something through).
var bodyPolicy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	// Links in bodies are editorial choices, not user-submitted spam, so they
	// are not marked rel="nofollow".
	p.RequireNoFollowOnLinks(false)
	// Links open in the same tab; without target="_blank" there is also no
	// need for rel="noopener".
	p.AddTargetBlankToFullyQualifiedLinks(false)
	// UGCPolicy already allows exactly these schemes (plus relative URLs);
	// AllowURLSchemes only ever adds, so stating them here documents the
	// allow-list rather than narrowing it.
	p.AllowURLSchemes("http", "https", "mailto")
	return p
}()

// bodyTransformer adjusts the parsed Markdown before rendering.
type bodyTransformer struct{}

// Transform shifts headings down one level and neutralises images whose
// source is not an absolute http(s) URL.
//
// Headings: the page's <h1> is the headline, so a body's top-level "# X" must
// be an <h2>; "## X" becomes <h3> and so on, capped at <h6>. Doing it on the
// AST (rather than rewriting the HTML) also catches setext headings and can't
// be fooled by "<h1" inside code.
//
// Images: the sanitiser's scheme allow-list is shared by all URL attributes,
// so it would accept <img src="mailto:..."> or a relative src. Images that
// don't point to an absolute http(s) URL are replaced by their alt text.
func (bodyTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	var badImages []*ast.Image
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			n.Level = min(n.Level+1, 6)
		case *ast.Image:
			if !isHTTPURL(n.Destination) {
				badImages = append(badImages, n)
			}
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	// The tree is modified only after the walk, which must not see it change.
	for _, img := range badImages {
		parent := img.Parent()
		for c := img.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, img, c) // moves c out of img
			c = next
		}
		parent.RemoveChild(parent, img)
	}
}

// isHTTPURL reports whether dest is an absolute http or https URL with a host.
func isHTTPURL(dest []byte) bool {
	u, err := url.Parse(string(dest))
	if err != nil || u.Host == "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme == "http" || scheme == "https"
}

// javascriptColon matches the text "javascript:" in any letter case.
var javascriptColon = regexp.MustCompile(`(?i)javascript:`)

// RenderHTML renders an article body (CommonMark plus GFM tables and
// strikethrough) to sanitised HTML. Raw HTML in the Markdown is dropped, the
// result is passed through a bluemonday UGC policy, headings start at <h2>
// and images only load from http(s) URLs.
//
// The sanitiser has already removed every javascript: URL; any
// "javascript:" still in the output is prose (an article about the language,
// say, or a query string). Its colon is written as the character reference
// "&#58;", which displays identically in text and attribute values alike, so
// that the output never contains the literal string and simple scanners (and
// our fuzz test) can rely on that.
func RenderHTML(markdown string) string {
	var buf bytes.Buffer
	if err := bodyMarkdown.Convert([]byte(markdown), &buf); err != nil {
		// Converting into a bytes.Buffer cannot fail with the built-in
		// renderers; render nothing rather than something half-checked.
		return ""
	}
	out := bodyPolicy.SanitizeBytes(buf.Bytes())
	out = javascriptColon.ReplaceAllFunc(out, func(m []byte) []byte {
		return append(m[:len(m)-1:len(m)-1], "&#58;"...)
	})
	return string(out)
}

// RenderText renders an article body to plain text: the text of each block
// (paragraph, heading, list item, blockquote paragraph, code block, table
// row) on one line with runs of white space collapsed, blocks separated by a
// blank line. Link text is kept but URLs are dropped, images (and their alt
// text) and raw HTML are dropped, entities and backslash escapes are decoded,
// and the result is trimmed.
func RenderText(markdown string) string {
	src := []byte(markdown)
	doc := bodyTextParser.Parse(text.NewReader(src))
	t := textCollector{source: src}
	_ = ast.Walk(doc, t.visit)
	return strings.Join(t.blocks, "\n\n")
}

// textCollector gathers RenderText's blocks while walking the AST.
type textCollector struct {
	source []byte
	blocks []string
	cur    bytes.Buffer
}

func (t *textCollector) visit(n ast.Node, entering bool) (ast.WalkStatus, error) {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock, *ast.Heading, *extast.TableRow, *extast.TableHeader:
		// Blocks whose children are inlines. (List items, blockquotes and
		// tables are containers: their text lives in these.)
		if entering {
			t.cur.Reset()
		} else {
			t.flush()
		}
	case *ast.CodeBlock, *ast.FencedCodeBlock:
		if entering {
			t.cur.Reset()
			lines := n.Lines()
			for i := range lines.Len() {
				seg := lines.At(i)
				t.cur.Write(seg.Value(t.source))
			}
			t.flush()
		}
		return ast.WalkSkipChildren, nil
	case *ast.HTMLBlock, *ast.RawHTML, *ast.Image:
		return ast.WalkSkipChildren, nil
	case *extast.TableCell:
		if !entering {
			t.cur.WriteByte(' ')
		}
	case *ast.AutoLink:
		// The label is what a reader sees; it happens to be the URL.
		if entering {
			t.cur.Write(n.Label(t.source))
		}
		return ast.WalkSkipChildren, nil
	case *ast.CodeSpan:
		// Code is literal: no escapes or entities are decoded inside it.
		if entering {
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				if tx, ok := c.(*ast.Text); ok {
					t.cur.Write(tx.Segment.Value(t.source))
				}
			}
		}
		return ast.WalkSkipChildren, nil
	case *ast.Text:
		if entering {
			if n.IsRaw() {
				t.cur.Write(n.Segment.Value(t.source))
			} else {
				t.decode(n.Segment.Value(t.source))
			}
			if n.SoftLineBreak() || n.HardLineBreak() {
				t.cur.WriteByte(' ')
			}
		}
	case *ast.String:
		if entering {
			if n.IsCode() || n.IsRaw() {
				t.cur.Write(n.Value)
			} else {
				t.decode(n.Value)
			}
		}
	}
	return ast.WalkContinue, nil
}

// decode appends Markdown inline text to cur with backslash escapes and
// entity references resolved. It reuses goldmark's own writer, which emits
// HTML-escaped text, and then unescapes that HTML; since every '&' the writer
// emits is one it escaped, the round trip is exact.
func (t *textCollector) decode(b []byte) {
	if bytes.IndexByte(b, '&') < 0 && bytes.IndexByte(b, '\\') < 0 && bytes.IndexByte(b, 0) < 0 {
		t.cur.Write(b)
		return
	}
	var esc bytes.Buffer
	w := bufio.NewWriter(&esc)
	html.DefaultWriter.Write(w, b)
	_ = w.Flush()
	t.cur.WriteString(stdhtml.UnescapeString(esc.String()))
}

// flush ends the current block: white space collapsed, empty blocks skipped.
func (t *textCollector) flush() {
	s := strings.Join(strings.Fields(t.cur.String()), " ")
	t.cur.Reset()
	if s != "" {
		t.blocks = append(t.blocks, s)
	}
}

// WordCount counts the words in the plain text of an article body.
//
// A word is a run of letters, digits and combining marks; runs joined by a
// single apostrophe, hyphen, underscore or full stop count as one word
// ("it's", "well-known", "U.S", "3.14", "example.com"), as do digit groups
// joined by a comma ("1,000"). Anything else, e.g. an em dash or a lone "-",
// separates words and is not itself a word.
func WordCount(markdown string) int {
	return countWords(RenderText(markdown))
}

func countWords(s string) int {
	words := 0
	inWord := false
	var prev rune // last rune of the current word
	for i := 0; i < len(s); {
		// Not utf8.RuneLen(r): an invalid byte decodes to U+FFFD, which
		// re-encodes as 3 bytes but occupies 1.
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case isWordRune(r):
			if !inWord {
				words++
				inWord = true
			}
			prev = r
		case inWord && isWordJoiner(prev, r, s[i:]):
			// Stay in the word: the joiner sits between two word runes.
		default:
			inWord = false
		}
	}
	return words
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r) || unicode.Is(unicode.M, r)
}

// isWordJoiner reports whether r, found right after word rune prev and
// followed by rest, joins two parts of one word.
func isWordJoiner(prev, r rune, rest string) bool {
	next, size := utf8.DecodeRuneInString(rest)
	if size == 0 || !isWordRune(next) {
		return false
	}
	switch r {
	case '\'', '\u2019', '\u02BC', // apostrophes: ' ’ ʼ
		'-', '\u2010', '\u2011', // hyphens: - ‐ ‑
		'_', '.':
		return true
	case ',':
		return unicode.IsDigit(prev) && unicode.IsDigit(next)
	}
	return false
}

// wordsPerMinute is a common adult reading speed for news prose.
const wordsPerMinute = 230

// ReadingTimeMinutes estimates the reading time of a body of the given
// number of words: ceil(words/230), but at least 1 so that no article claims
// to take "0 min".
func ReadingTimeMinutes(words int) int {
	if words <= wordsPerMinute {
		return 1
	}
	// Not (words+229)/230, which overflows near math.MaxInt.
	minutes := words / wordsPerMinute
	if words%wordsPerMinute != 0 {
		minutes++
	}
	return minutes
}

// Excerpt returns the start of an article body's plain text on one line: at
// most maxRunes runes of it, cut at a word boundary, with "…" appended when
// anything was cut (so a cut excerpt is up to maxRunes+1 runes). A single
// word longer than maxRunes is cut inside the word. Punctuation left dangling
// at the cut (a trailing comma, colon, dash...) is dropped before the "…".
// maxRunes <= 0 gives "".
func Excerpt(markdown string, maxRunes int) string {
	if maxRunes <= 0 {
		return ""
	}
	s := strings.Join(strings.Fields(RenderText(markdown)), " ")
	if utf8.RuneCountInString(s) <= maxRunes {
		return s
	}
	// end is the byte offset just past the first maxRunes runes.
	end, n := 0, 0
	for i := range s {
		if n == maxRunes {
			end = i
			break
		}
		n++
	}
	cut := s[:end]
	if s[end] != ' ' { // cut falls inside a word: back up to its start
		if sp := strings.LastIndexByte(cut, ' '); sp > 0 {
			cut = cut[:sp]
		}
	}
	trimmed := strings.TrimRightFunc(cut, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;:-–—([{", r)
	})
	if trimmed != "" {
		cut = trimmed
	}
	return cut + "…"
}
