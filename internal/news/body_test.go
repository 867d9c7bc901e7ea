package news

import (
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// xssInputs are bodies that try to get script into the rendered page, as raw
// HTML and as Markdown. They are also the fuzz seeds.
var xssInputs = []string{
	"<script>alert(1)</script>",
	"<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
	"Hello <script>alert(1)</script> world",
	"<iframe src=\"https://evil.example\"></iframe>",
	"text <iframe src=x></iframe> text",
	"<img src=x onerror=alert(1)>",
	"<p onclick=\"alert(1)\">hi</p>",
	"<a href=\"javascript:alert(1)\">x</a>",
	"[x](javascript:alert(1))",
	"[x](JaVaScRiPt:alert(1))",
	"[x](  javascript:alert(1) )",
	"[x](java&#x09;script:alert(1))",
	"[x](&#106;avascript:alert(1))",
	"[x](javascript&#58;alert(1))",
	"[x][ref]\n\n[ref]: javascript:alert(1)",
	"<javascript:alert(1)>",
	"![x](javascript:alert(1))",
	"![x](x \"onerror=alert(1)\")",
	"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
	"[x](vbscript:msgbox(1))",
	"<svg onload=alert(1)>",
	"<style>body{background:url(javascript:alert(1))}</style>",
	"Learn JavaScript: it's fun",
	"`<script>alert(1)</script>`",
	"```html\n<script>alert(1)</script>\n```",
	"<div>\n<script>alert(1)</script>\n</div>",
	"<!-- <script>alert(1)</script> -->",
	"<scr<script>ipt>alert(1)</script>",
}

func TestRenderHTML(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // substrings that must appear
		notWant []string // substrings that must not appear (case-insensitive)
	}{
		{
			name:    "h1 becomes h2",
			in:      "# Headline inside body",
			want:    []string{"<h2>Headline inside body</h2>"},
			notWant: []string{"<h1"},
		},
		{
			name: "every level shifts",
			in:   "## Two\n\n### Three\n\n#### Four\n\n##### Five",
			want: []string{"<h3>Two</h3>", "<h4>Three</h4>", "<h5>Four</h5>", "<h6>Five</h6>"},
		},
		{
			name: "h6 stays h6",
			in:   "###### Six",
			want: []string{"<h6>Six</h6>"},
		},
		{
			name:    "setext headings shift too",
			in:      "Big\n===\n\nSmall\n-----",
			want:    []string{"<h2>Big</h2>", "<h3>Small</h3>"},
			notWant: []string{"<h1"},
		},
		{
			name:    "h1 in code is untouched text",
			in:      "`<h1>`",
			want:    []string{"<code>&lt;h1&gt;</code>"},
			notWant: []string{"<h2"},
		},
		{
			name:    "raw inline HTML does not pass through",
			in:      "Some <b>bold</b> and <span style=\"color:red\">red</span>",
			want:    []string{"<p>Some bold and red</p>"},
			notWant: []string{"<b>", "<span", "style="},
		},
		{
			name:    "raw HTML block does not pass through",
			in:      "<div class=\"box\">\nInside\n</div>\n\nAfter",
			want:    []string{"<p>After</p>"},
			notWant: []string{"<div", "Inside", "<!--"},
		},
		{
			name:    "links keep http, https, mailto and relative URLs without rel or target",
			in:      "[a](http://example.com/a) [b](https://example.com/b) [c](mailto:desk@example.com) [d](/news/x)",
			want:    []string{`<a href="http://example.com/a">a</a>`, `<a href="https://example.com/b">b</a>`, `<a href="mailto:desk@example.com">c</a>`, `<a href="/news/x">d</a>`},
			notWant: []string{"nofollow", "noopener", "target="},
		},
		{
			name:    "other URL schemes are dropped",
			in:      "[f](ftp://example.com/f) [t](tel:+123) [d](data:text/plain,hi)",
			want:    []string{"<p>f t d</p>"},
			notWant: []string{"href", "ftp:", "tel:", "data:"},
		},
		{
			name:    "http image",
			in:      `![A cat](https://img.example.com/cat.jpg "Cat")`,
			want:    []string{`<img src="https://img.example.com/cat.jpg" alt="A cat" title="Cat">`},
			notWant: []string{"<p>A cat"},
		},
		{
			name:    "non-http images become their alt text",
			in:      "![rel](/cat.jpg) ![mail](mailto:x@example.com) ![data](data:image/png;base64,AAAA) ![js](javascript:alert(1))",
			want:    []string{"<p>rel mail data js</p>"},
			notWant: []string{"<img", "src="},
		},
		{
			name: "table with alignment",
			in:   "| Team | Score |\n|:-----|------:|\n| Red | 3 |\n| Blue | 1 |",
			want: []string{
				"<table>", "<thead>", `<th align="left">Team</th>`, `<th align="right">Score</th>`,
				"<tbody>", `<td align="left">Red</td>`, `<td align="right">1</td>`, "</table>",
			},
			notWant: []string{"style="},
		},
		{
			name: "strikethrough",
			in:   "Price: ~~£10~~ £8",
			want: []string{"<del>£10</del> £8"},
		},
		{
			name:    "typographer is off",
			in:      `"Quoted" -- dashed... 'single'`,
			notWant: []string{"“", "”", "–", "—", "…", "‘", "’", "&ldquo;", "&ndash;"},
		},
		{
			name: "lists, quotes and code",
			in:   "- one\n- two\n\n1. first\n\n> quoted\n\n```go\nx := 1 < 2\n```",
			want: []string{"<ul>\n<li>one</li>", "<ol>\n<li>first</li>", "<blockquote>\n<p>quoted</p>", "<pre><code>x := 1 &lt; 2\n</code></pre>"},
		},
		{
			name:    "prose mentioning javascript: is kept but its colon is a reference",
			in:      "Learn JavaScript: the basics",
			want:    []string{"<p>Learn JavaScript&#58; the basics</p>"},
			notWant: []string{"javascript:"},
		},
		{
			name: "empty",
			in:   "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RenderHTML(tt.in)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("RenderHTML(%q) = %q, want it to contain %q", tt.in, got, w)
				}
			}
			lower := strings.ToLower(got)
			for _, nw := range tt.notWant {
				if strings.Contains(lower, strings.ToLower(nw)) {
					t.Errorf("RenderHTML(%q) = %q, must not contain %q", tt.in, got, nw)
				}
			}
		})
	}
}

func TestRenderHTMLRemovesScript(t *testing.T) {
	banned := []string{"<script", "javascript:", "<iframe", "onerror", "onclick", "onload", "<svg", "<style", "vbscript:", "data:text"}
	for _, in := range xssInputs {
		got := strings.ToLower(RenderHTML(in))
		for _, b := range banned {
			if strings.Contains(got, b) {
				t.Errorf("RenderHTML(%q) = %q contains %q", in, got, b)
			}
		}
	}
}

func TestRenderHTMLConcurrent(t *testing.T) {
	const in = "# T\n\nSome *text* with [a link](https://example.com).\n\n| a | b |\n|---|---|\n| 1 | 2 |"
	want := RenderHTML(in)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if got := RenderHTML(in); got != want {
					t.Errorf("concurrent RenderHTML = %q, want %q", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestRenderText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{"whitespace only", " \n\n\t\n", ""},
		{
			"paragraphs separated by a blank line",
			"First *para*,\nwrapped.\n\n\n\nSecond **para**.",
			"First para, wrapped.\n\nSecond para.",
		},
		{"headings are blocks", "# Title\n\nBody text.\n\n## Sub\nMore.", "Title\n\nBody text.\n\nSub\n\nMore."},
		{"link text kept, URL dropped", "See [the report](https://example.com/report \"Report\") now.", "See the report now."},
		{"reference link", "See [the report][r].\n\n[r]: https://example.com/report", "See the report."},
		{"autolink keeps its visible text", "Visit <https://example.com> today.", "Visit https://example.com today."},
		{"image alt dropped", "Before ![a long alt text](https://example.com/x.png) after.", "Before after."},
		{"image inside link", "[![alt](https://example.com/x.png) caption](https://example.com)", "caption"},
		{"entities decoded", "Fish &amp; chips &lt;b&gt; &copy; &#169; &#x41;&quot;", "Fish & chips <b> © © A\""},
		{"backslash escapes decoded", `\*not emphasis\* \# \[x\]`, "*not emphasis* # [x]"},
		{"code span is literal", "Use `a &amp; b` and `*x*`.", "Use a &amp; b and *x*."},
		{"raw HTML dropped", "Hello <b>world</b><br/>!\n\n<div>\nblock\n</div>\n\nAfter", "Hello world!\n\nAfter"},
		{"strikethrough text kept", "~~old~~ new", "old new"},
		{"emphasis without spaces added", "**Bold**face and *it*alic", "Boldface and italic"},
		{"hard line break", "one  \ntwo\\\nthree", "one two three"},
		{"spaces collapsed", "a   b\t\tc", "a b c"},
		{
			"lists",
			"- one\n- *two*\n  - nested\n\n1. first\n2. second",
			"one\n\ntwo\n\nnested\n\nfirst\n\nsecond",
		},
		{"loose list", "- one\n\n- two", "one\n\ntwo"},
		{"blockquote", "> quoted\n> text\n>\n> second", "quoted text\n\nsecond"},
		{"fenced code block", "```go\nfunc main() {\n\tx := 1 &amp; 2\n}\n```", "func main() { x := 1 &amp; 2 }"},
		{"indented code block", "Para\n\n    code  here\n    more", "Para\n\ncode here more"},
		{"thematic break dropped", "a\n\n---\n\nb", "a\n\nb"},
		{"table rows", "| Team | Score |\n|---|--:|\n| Red | **3** |\n| Blue | 1 |", "Team Score\n\nRed 3\n\nBlue 1"},
		{"typographer off", `"Quoted" -- dashed...`, `"Quoted" -- dashed...`},
		{"NUL replaced", "a\x00b", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RenderText(tt.in); got != tt.want {
				t.Errorf("RenderText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWordCount(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"It's a well-known fact — really.", 5},
		{"It’s a well‐known fact—really.", 5}, // curly apostrophe, U+2010 hyphen, unspaced em dash
		{"Wait — what?! … -", 2},
		{"Tom &amp; Jerry", 2},
		{"**Bold** and [a link](https://example.com/a/very/long/url)", 4},
		{"![a picture of many words](https://example.com/x.png) Only.", 1},
		{"# Heading\n\nOne two.\n\n- three\n- four", 5},
		{"Population: 1,000,000 in 2024.", 4},
		{"e-mail x-ray 3.14 U.S. rock 'n' roll", 7},
		{"trailing- -leading 'quoted' don't", 4},
		{"Straße café naïve", 3},
		{"a,b", 2},
		{"0\xae x", 2}, // invalid UTF-8 byte after a word
		{"| a | b |\n|---|---|\n| c | d |", 4},
	}
	for _, tt := range tests {
		if got := WordCount(tt.in); got != tt.want {
			t.Errorf("WordCount(%q) = %d, want %d (text %q)", tt.in, got, tt.want, RenderText(tt.in))
		}
	}
}

func TestReadingTimeMinutes(t *testing.T) {
	tests := []struct{ words, want int }{
		{-5, 1},
		{0, 1},
		{1, 1},
		{229, 1},
		{230, 1},
		{231, 2},
		{460, 2},
		{461, 3},
		{2300, 10},
		{int(^uint(0) >> 1), int(^uint(0)>>1)/230 + 1},
	}
	for _, tt := range tests {
		if got := ReadingTimeMinutes(tt.words); got != tt.want {
			t.Errorf("ReadingTimeMinutes(%d) = %d, want %d", tt.words, got, tt.want)
		}
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"Hello world", 50, "Hello world"},
		{"Hello world", 11, "Hello world"},
		{"Hello world again", 11, "Hello world…"},        // cut exactly at a space
		{"Hello world again", 13, "Hello world…"},        // cut inside "again"
		{"Hello world again", 8, "Hello…"},               // cut inside "world"
		{"Supercalifragilistic", 5, "Super…"},            // one word longer than max
		{"One, two, three", 5, "One…"},                   // dangling comma dropped
		{"Grüße aus Köln", 7, "Grüße…"},                  // counts runes, not bytes
		{"# Head\n\nPara *one*.", 100, "Head Para one."}, // one line, no syntax
		{"Read [this](https://example.com/x) now please", 13, "Read this now…"},
		{"Hello world", 0, ""},
		{"Hello world", -1, ""},
		{"", 10, ""},
	}
	for _, tt := range tests {
		if got := Excerpt(tt.in, tt.max); got != tt.want {
			t.Errorf("Excerpt(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func FuzzRenderHTML(f *testing.F) {
	for _, s := range xssInputs {
		f.Add(s)
	}
	f.Add("# H\n\n| a | b |\n|---|---|\n| ~~c~~ | [d](https://e.example) |\n\n![i](http://x/y.png)")
	f.Fuzz(func(t *testing.T, in string) {
		got := strings.ToLower(RenderHTML(in))
		for _, bad := range []string{"<script", "javascript:"} {
			if strings.Contains(got, bad) {
				t.Fatalf("RenderHTML(%q) = %q contains %q", in, got, bad)
			}
		}
	})
}

// FuzzRenderText checks that the plain-text helpers never panic and keep
// their shape on arbitrary input.
func FuzzRenderText(f *testing.F) {
	for _, s := range xssInputs {
		f.Add(s, 20)
	}
	f.Add("It's a well-known fact — really.\n\n- a\n- b", 10)
	f.Add("0\xae", 20) // invalid UTF-8 once made WordCount slice out of range
	f.Fuzz(func(t *testing.T, in string, max int) {
		txt := RenderText(in)
		if txt != strings.TrimSpace(txt) || strings.Contains(txt, "\n\n\n") {
			t.Fatalf("RenderText(%q) = %q: not trimmed or has a blank run", in, txt)
		}
		if n := WordCount(in); n < 0 || n > len(txt) {
			t.Fatalf("WordCount(%q) = %d for text %q", in, n, txt)
		}
		max %= 1000
		ex := Excerpt(in, max)
		if strings.ContainsAny(ex, "\n\t") {
			t.Fatalf("Excerpt(%q, %d) = %q is not one line", in, max, ex)
		}
		if utf8.ValidString(in) && !utf8.ValidString(ex) {
			t.Fatalf("Excerpt(%q, %d) = %q is not valid UTF-8", in, max, ex)
		}
		if n := utf8.RuneCountInString(ex); max >= 0 && n > max+1 {
			t.Fatalf("Excerpt(%q, %d) = %q has %d runes", in, max, ex, n)
		}
	})
}
