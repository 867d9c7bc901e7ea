package importer

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/newsgraph/newsgraph/internal/news"
)

func issueExample(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/issue-example.txt")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const exampleBody = "The city council voted 7-2 on Tuesday to fund a six-month pilot of late-night bus service, according to a report from the Riverside Ledger.\n\n" +
	"“We heard from hundreds of night-shift workers,” council member Dana Ortiz said."

func exampleDraft() *Draft {
	return &Draft{
		Headline:    "City council approves late-night bus pilot after months of debate",
		Body:        exampleBody,
		Source:      &news.Source{Name: "Riverside Ledger"},
		ImageCredit: "Riverside Transit Authority",
		Author: &Byline{Name: "Marcus Hale",
			Bio: "Marcus Hale has covered city hall since 2015. He lives in Riverside and also enjoys cycling."},
		Tags: []string{"riverside-ledger", "dana-ortiz"},
	}
}

func TestParseTheIssueExample(t *testing.T) {
	got, err := Parse(issueExample(t))
	if err != nil {
		t.Fatal(err)
	}
	if want := exampleDraft(); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse(issue example)\n got %+v\nwant %+v", got, want)
	}
}

// The same story however the sender's tools mangled it.
func TestParseToleratesLineEndingsQuotesAndWhitespace(t *testing.T) {
	ex := issueExample(t)
	straight := strings.NewReplacer("’", "'", "“", `"`, "”", `"`).Replace(ex)
	cases := map[string]string{
		"windows line endings": strings.ReplaceAll(ex, "\n", "\r\n"),
		"old mac line endings": strings.ReplaceAll(ex, "\n", "\r"),
		"straight quotes":      straight,
		"stray whitespace": "\uFEFF\n  \n\t" + strings.NewReplacer("\n\n", "\n \t \n\n", " ", "  ", "Hale\n", "Hale \u00A0\n").Replace(ex) +
			"\n\n \n",
		"hard-wrapped paragraph": strings.Replace(ex, "pilot of late-night", "pilot of\nlate-night", 1),
	}
	for name, text := range cases {
		got, err := Parse(text)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want := exampleDraft()
		if name == "straight quotes" {
			want.Body = `The city council voted 7-2 on Tuesday to fund a six-month pilot of late-night bus service, according to a report from the Riverside Ledger.` +
				"\n\n" + `"We heard from hundreds of night-shift workers," council member Dana Ortiz said.`
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	cases := []struct {
		name, text string
		want       Draft
	}{
		{
			name: "exclusive report, no read-more line, no byline",
			text: "Port strike ends\n\nDock workers returned on Monday, according to an exclusive report from The Marrow Times, after a deal on pay.\n\nThe port said ships would be unloaded by Friday.",
			want: Draft{Headline: "Port strike ends",
				Body:   "Dock workers returned on Monday, according to an exclusive report from The Marrow Times, after a deal on pay.\n\nThe port said ships would be unloaded by Friday.",
				Source: &news.Source{Name: "Marrow Times"}, Tags: []string{"marrow-times"}},
		},
		{
			name: "read-more line with an address wins over according-to",
			text: "Headline here\n\nA thing happened, according to a report from Someone Else.\n\nRead the Riverside Ledger's full report here: https://ledger.example/story/1\n",
			want: Draft{Headline: "Headline here", Body: "A thing happened, according to a report from Someone Else.",
				Source: &news.Source{Name: "Riverside Ledger", URL: "https://ledger.example/story/1"}, Tags: []string{"someone-else"}},
		},
		{
			name: "name line without a bio",
			text: "Short story\n\nIt rained all day.\n\nAdaeze Okafor",
			want: Draft{Headline: "Short story", Body: "It rained all day.", Author: &Byline{Name: "Adaeze Okafor"}, Tags: []string{}},
		},
		{
			name: "a short closing paragraph is not a byline",
			text: "Short story\n\nIt rained all day.\n\nThat was it.",
			want: Draft{Headline: "Short story", Body: "It rained all day.\n\nThat was it.", Tags: []string{}},
		},
		{
			name: "a bio that is about someone else is body",
			text: "Match report\n\nThe Rivets won.\n\nHarbourside Herons\n\nThe visitors never led.",
			want: Draft{Headline: "Match report", Body: "The Rivets won.\n\nHarbourside Herons\n\nThe visitors never led.",
				Tags: []string{"rivets", "harbourside-herons"}},
		},
		{
			name: "body on the line after the headline",
			text: "Headline\nFirst paragraph straight after.\n\nSecond.",
			want: Draft{Headline: "Headline", Body: "First paragraph straight after.\n\nSecond.", Tags: []string{}},
		},
		{
			name: "markup-like text is escaped",
			text: "Stars *and* stripes\n\n# not a heading, <b>not bold</b> & [not](a link) 2*3\n\n1. not a list\n\n- nor this",
			want: Draft{Headline: "Stars *and* stripes",
				Body: `\# not a heading, \<b\>not bold\</b\> \& \[not\](a link) 2\*3` + "\n\n" + `1\. not a list` + "\n\n" + `\- nor this`,
				Tags: []string{}},
		},
		{
			name: "featured photo credit with a dash",
			text: "Heat\n\nIt was hot.\n\nFeatured photo — Sara Mbatha / Riverside Courier",
			want: Draft{Headline: "Heat", Body: "It was hot.", ImageCredit: "Sara Mbatha / Riverside Courier", Tags: []string{}},
		},
	}
	for _, c := range cases {
		got, err := Parse(c.text)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, *got, c.want)
		}
	}
}

// The escaped body renders back to exactly the text that was sent.
func TestParsedBodyRendersAsWritten(t *testing.T) {
	text := "Headline\n\nStars *and* <i>stripes</i> & 5 > 3, a_b_c `code` ~~no~~ | pipe \\ slash\n\n1) first\n\n# hash\n\n+ plus\n\n=== equals"
	d, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	want := "Stars *and* <i>stripes</i> & 5 > 3, a_b_c `code` ~~no~~ | pipe \\ slash\n\n1) first\n\n# hash\n\n+ plus\n\n=== equals"
	if got := news.RenderText(d.Body); got != want {
		t.Errorf("RenderText(body)\n got %q\nwant %q", got, want)
	}
	if html := news.RenderHTML(d.Body); strings.Count(html, "<p>") != 5 || strings.Contains(html, "<i>") {
		t.Errorf("RenderHTML(body) = %s", html)
	}
}

func TestSuggestedTags(t *testing.T) {
	text := `Mayor Elena Vargas backs flood wall for the Marrow River

Mayor Elena Vargas said on Monday that the University of Riverside would study the Marrow River flood wall. Vargas added that the Riverside Transit Authority (RTA) would reroute buses.

"The Marrow River has flooded Lowfield three times," said Dr. Amir Haddad of the University of Riverside. In Lowfield, residents were cautious.

The RTA said it would publish a plan. Haddad's team starts in May.

Hannah Brightwater

Hannah Brightwater covers climate for the Courier from Castlebridge.`
	d, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	// Ranked by mentions: "Vargas added" counts for Elena Vargas and
	// "Haddad's team" for Amir Haddad; "The RTA" and "In Lowfield" count
	// although they open their sentences; titles ("Mayor", "Dr.") are not
	// part of the name; the author is not a tag.
	want := []string{"elena-vargas", "marrow-river", "university-of-riverside", "rta", "lowfield", "amir-haddad", "riverside-transit-authority"}
	if !reflect.DeepEqual(d.Tags, want) {
		t.Errorf("tags %q, want %q", d.Tags, want)
	}
	if d.Author == nil || d.Author.Name != "Hannah Brightwater" {
		t.Errorf("author %+v", d.Author)
	}
}

func TestParseRejectsTextWithoutHeadlineOrBody(t *testing.T) {
	for _, text := range []string{
		"",
		"   \r\n\t\n  ",
		"Just a headline",
		"Headline\n\n\n",
		"Headline\n\nFeatured image: Someone",
		"Headline\n\nRead the Ledger's full story here.",
		strings.Repeat("x", MaxTextBytes+1),
	} {
		d, err := Parse(text)
		var ie *news.InputError
		if !errors.As(err, &ie) || ie.Field != "text" {
			t.Errorf("Parse(%.40q) = %+v, %v; want a *news.InputError on text", text, d, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(issueExample(f))
	f.Add("Headline\r\n\r\nBody, according to an exclusive report from X.\r\n\r\nA B\r\n\r\nA B is a writer.")
	f.Add("“Quote” headline\n\n*x* [y](z) <script>1. \u2028 Read the ’s full story here.")
	f.Fuzz(func(t *testing.T, text string) {
		d, err := Parse(text)
		if err != nil {
			var ie *news.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not a *news.InputError", err)
			}
			return
		}
		if strings.TrimSpace(d.Headline) == "" || strings.TrimSpace(d.Body) == "" || strings.Contains(d.Headline, "\n") {
			t.Fatalf("Parse(%q) = headline %q, body %q", text, d.Headline, d.Body)
		}
		if len(d.Tags) > MaxTags {
			t.Fatalf("%d tags", len(d.Tags))
		}
		for _, tag := range d.Tags {
			if !news.ValidSlug(tag) {
				t.Fatalf("tag %q is not a slug", tag)
			}
		}
	})
}
