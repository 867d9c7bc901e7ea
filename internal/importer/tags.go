package importer

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/newsgraph/newsgraph/internal/news"
)

// suggestTags proposes tags for the people, organisations and places a
// story names, found the way a reader spots them in English text: runs of
// capitalised words ("Riverside Transit Authority", "Dana Ortiz"), joined
// across "of", "the", "and", "for" ("University of Riverside"). A lone
// capitalised word counts only where it is not the first word of a sentence
// (which is capitalised anyway), and a later lone surname ("Ortiz said")
// counts for the full name seen before it. Titles, weekdays and months are
// not names. Only the headline and the body are read: the credit names who
// took the picture and the bio the reporter, neither is what the story is
// about. Ranked by mentions, then first mention; at most MaxTags.
func suggestTags(headline string, paras []string, author *Byline) []string {
	type candidate struct {
		name  string
		count int
		first int
	}
	bySlug := map[string]*candidate{}
	var order []*candidate
	lastWord := map[string]*candidate{} // surname → full name seen earlier
	skip := map[string]bool{}
	if author != nil {
		skip[news.Slugify(author.Name)] = true
	}
	add := func(m mention) {
		name := m.name
		words := strings.Fields(name)
		if len(words) == 1 {
			if c := lastWord[strings.ToLower(name)]; c != nil {
				c.count++
				return
			}
			if m.opensSentence {
				return
			}
		}
		slug := news.Slugify(name)
		if slug == "" || skip[slug] {
			return
		}
		c := bySlug[slug]
		if c == nil {
			c = &candidate{name: name, first: len(order)}
			bySlug[slug] = c
			order = append(order, c)
		}
		c.count++
		if len(words) > 1 {
			lastWord[strings.ToLower(words[len(words)-1])] = c
		}
	}
	for _, text := range append([]string{headline}, paras...) {
		for _, s := range sentences(text) {
			for _, m := range names(s) {
				add(m)
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].count != order[j].count {
			return order[i].count > order[j].count
		}
		return order[i].first < order[j].first
	})
	tags := []string{}
	for _, c := range order {
		if len(tags) == MaxTags {
			break
		}
		tags = append(tags, news.Slugify(c.name))
	}
	return tags
}

// sentences splits a paragraph after ., ! and ? (and a closing quote), good
// enough to know which capitals start a sentence.
func sentences(p string) [][]string {
	var out [][]string
	var cur []string
	for _, w := range strings.Fields(p) {
		cur = append(cur, w)
		t := strings.TrimRight(w, `"'”’)»`)
		if strings.HasSuffix(t, ".") || strings.HasSuffix(t, "!") || strings.HasSuffix(t, "?") {
			if !isInitial(t) {
				out = append(out, cur)
				cur = nil
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// isInitial is "J." or "St." or "Dr.": a full stop that ends no sentence.
func isInitial(w string) bool {
	w = strings.TrimLeft(w, `"'“‘(«`)
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.IsUpper(r) && utf8.RuneCountInString(w) <= 3
}

// mention is a run of capitalised words; opensSentence says it starts the
// sentence, where a lone capitalised word proves nothing.
type mention struct {
	name          string
	opensSentence bool
}

// names finds the runs of capitalised words in one sentence.
func names(sentence []string) []mention {
	var out []mention
	var run []string
	runStart := 0
	flush := func() {
		// Connectors do not end a name.
		for len(run) > 0 && connectors[strings.ToLower(run[len(run)-1])] {
			run = run[:len(run)-1]
		}
		// A sentence's first word is capitalised whatever it is; a name
		// after a leading "The" or "In" is not at the start any more.
		opens := runStart == 0
		for len(run) > 0 && (titles[strings.ToLower(strings.TrimSuffix(run[0], "."))] || common[strings.ToLower(run[0])]) {
			run, opens = run[1:], false
		}
		if len(run) > 0 {
			out = append(out, mention{strings.Join(run, " "), opens})
		}
		run = nil
	}
	for i, raw := range sentence {
		quoted := strings.IndexFunc(raw, isWordRune) > 0 // "“We" or "(RTA"
		w := strings.TrimFunc(raw, func(r rune) bool { return !isWordRune(r) })
		possessive := false
		for _, suffix := range []string{"'s", "’s", "'", "’"} {
			if strings.HasSuffix(w, suffix) && len(w) > len(suffix) {
				w, possessive = strings.TrimSuffix(w, suffix), true
				break
			}
		}
		if quoted && len(run) > 0 {
			flush()
		}
		r, _ := utf8.DecodeRuneInString(w)
		switch {
		case w != "" && unicode.IsUpper(r):
			if len(run) == 0 {
				runStart = i
			}
			run = append(run, w)
		case len(run) > 0 && joins(run, w) && !endsPhrase(raw):
			run = append(run, w)
		default:
			flush()
		}
		if len(run) > 0 && (possessive || endsPhrase(raw)) {
			flush()
		}
	}
	flush()
	return out
}

// joins reports whether connector w continues the name in run: after a
// single word ("University of", "Port of the") but not after a full name, so
// "Amir Haddad of the University of Riverside" is two names, not one.
func joins(run []string, w string) bool {
	w = strings.ToLower(w)
	if !connectors[w] {
		return false
	}
	words := 0
	for _, r := range run {
		if !connectors[strings.ToLower(r)] {
			words++
		}
	}
	last := strings.ToLower(run[len(run)-1])
	return words == 1 && (!connectors[last] || last == "of" && w == "the")
}

// endsPhrase: punctuation after a word ends any name it was part of.
func endsPhrase(raw string) bool {
	last, _ := utf8.DecodeLastRuneInString(raw)
	return !isWordRune(last)
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '\'' || r == '’'
}

var connectors = map[string]bool{"of": true, "the": true, "and": true, "for": true, "on": true, "de": true, "van": true, "von": true, "&": true}

// titles come before names but are not part of what to tag.
var titles = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "miss": true, "dr": true, "prof": true, "professor": true, "sir": true, "dame": true,
	"mayor": true, "president": true, "councillor": true, "councilor": true, "senator": true, "minister": true,
	"judge": true, "chief": true, "coach": true, "captain": true, "rev": true,
}

// common words are capitalised at the start of sentences, in quotes and in
// headlines; on their own they name nothing.
var common = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the this that these those it its he she they we i you our their his her
		in on at by for from with to of and or but if so as after before when while where since during under over
		there here what who why how which yes no not new more most many some all one two three four five
		monday tuesday wednesday thursday friday saturday sunday
		january february march april may june july august september october november december
		read according featured image photo said says`) {
		common[w] = true
	}
}
