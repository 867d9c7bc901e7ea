package search

import (
	"slices"
	"strings"
	"testing"

	"github.com/newsgraph/newsgraph/internal/news"
)

func TestStemsMatchWordForms(t *testing.T) {
	for _, pair := range [][2]string{
		{"councils voted", "council votes"},
		{"flooding floods", "flooded flood"},
		{"The Council’s buses", "council's bus"},
		{"Running RUNS", "run runs"},
	} {
		a, b := Stems(pair[0], nil), Stems(pair[1], nil)
		if !slices.Equal(a, b) || len(a) == 0 {
			t.Errorf("%q → %v, %q → %v", pair[0], a, pair[1], b)
		}
	}
	if s := Stems("the and of a to in was", nil); len(s) != 0 {
		t.Errorf("stop words kept: %v", s)
	}
	if s := Stems("late-night bus 7-2", nil); !slices.Equal(s, []string{"late", "night", "bus", "7", "2"}) {
		t.Errorf("late-night bus 7-2 → %v", s)
	}
}

func TestParseReadsPhrasesAndRefusesNothing(t *testing.T) {
	q, err := parse(`“flood wall” council`)
	if err != nil || len(q.phrases) != 1 || !slices.Equal(q.phrases[0], []string{"flood", "wall"}) ||
		!slices.Equal(q.terms, []string{"flood", "wall", "council"}) {
		t.Fatalf("%+v %v", q, err)
	}
	for _, bad := range []string{"", " ", "the of", strings.Repeat("x", MaxQueryRunes+1)} {
		var ie *news.InputError
		if _, err := parse(bad); err == nil || !errorsAs(err, &ie) || ie.Field != "query" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func errorsAs(err error, ie **news.InputError) bool {
	e, ok := err.(*news.InputError)
	*ie = e
	return ok
}

func TestSnippetEscapesAndMarks(t *testing.T) {
	a := &news.Article{Headline: "H", Body: strings.Repeat("filler words here. ", 20) +
		"The council & the mayor voted 5 < 6 on the flood wall. " + strings.Repeat("more text after. ", 20)}
	q, _ := parse("councils flooding")
	s := snippet(a, q, map[string]string{})
	for _, want := range []string{"<mark>council</mark>", "&amp;", "&lt; 6", "<mark>flood</mark>", "…"} {
		if !strings.Contains(s, want) {
			t.Errorf("snippet lacks %q: %s", want, s)
		}
	}
}
