package news

import (
	"strings"
	"testing"
)

func TestCanonicalBodyKeepsStructureAndDropsWhatReadersMustNotGet(t *testing.T) {
	cases := []struct {
		name, in string
		format   BodyInputFormat
		want     []string
	}{
		{"markdown", "## Budget\n\nThe council *approved* it, says [the minutes](https://example.org/m).\n\n- one\n- two",
			BodyMarkdown, []string{"## Budget", "*approved*", "[the minutes](https://example.org/m)", "- one"}},
		{"html", `<h2>Budget</h2><p>The council <strong>approved</strong> it.</p><ul><li>one</li></ul>`,
			BodyHTML, []string{"## Budget", "**approved**", "- one"}},
		{"text", "First line with *stars* and <b>tags</b>.\n\nSecond.", BodyText,
			[]string{"First line with \\*stars", "&lt;b&gt;tags&lt;/b&gt;", "Second."}},
	}
	for _, c := range cases {
		got, err := CanonicalBody(c.in, c.format)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", c.name, got, w)
			}
		}
	}
}

func TestCanonicalTextRendersAsTyped(t *testing.T) {
	got, err := CanonicalBody("Use *stars* and <b>tags</b> & 1 < 2.", BodyText)
	if err != nil {
		t.Fatal(err)
	}
	if html := RenderHTML(got); !strings.Contains(html, "Use *stars* and &lt;b&gt;tags&lt;/b&gt; &amp; 1 &lt; 2.") {
		t.Fatalf("stored %q renders as %q", got, html)
	}
}
