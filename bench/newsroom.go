package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/store"
)

// seedBatch is how many documents one InsertMany carries: large enough that
// seeding is a few dozen round trips, small enough to stay far below the
// 48 MB message limit with 800-word bodies.
const seedBatch = 1000

var (
	sectionNames = []string{"News", "Politics", "Business", "Sport", "Culture", "Science"}
	tagWords     = []string{
		"housing", "transport", "schools", "budget", "elections", "courts", "police", "health",
		"hospitals", "climate", "flooding", "energy", "water", "parks", "libraries", "arts",
		"music", "theatre", "film", "books", "football", "cricket", "rowing", "athletics",
		"tennis", "cycling", "markets", "jobs", "retail", "startups", "farming", "tourism",
		"harbour", "bridges", "roads", "rail", "buses", "airport", "weather", "wildlife",
		"research", "space", "medicine", "technology", "privacy", "universities", "planning", "taxes",
		"pensions", "charities", "festivals", "food", "restaurants", "heritage", "history", "crime",
		"fire", "council", "mayor", "referendum",
	}
	firstNames = []string{"Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas",
		"Kemi", "Liam", "Maya", "Nils", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tess"}
	lastNames = []string{"Abbott", "Baptiste", "Castillo", "Dunmore", "Eze", "Fairweather", "Gallo", "Haddad",
		"Ishikawa", "Jovanovic"}
	prose = strings.Fields(`the council said on tuesday that the river plan would go ahead despite
		objections from residents who fear higher rents and longer commutes while officials insisted
		the budget had room for new schools clinics and bus routes across the northern districts
		where families have waited years for a decision that several members called overdue and
		others called rushed a spokesperson for the mayor declined to comment on the timetable
		but confirmed that contracts would be signed before the end of the month after a final
		vote by the planning committee which meets in public at the town hall every second week`)
)

// newsroom is the synthetic dataset: what is inserted, and the slugs the
// workloads ask for, most recent first.
type newsroom struct {
	terms    []*news.Term
	authors  []*news.Author
	articles []*news.Article
}

// buildNewsroom makes n published articles one minute apart, the first the
// most recent, with 200 authors, 6 sections and 60 tags. The same seed gives
// the same newsroom.
func buildNewsroom(n int, now time.Time, seed uint64) *newsroom {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	now = now.UTC().Truncate(time.Millisecond)
	w := newWriter(r)
	nr := &newsroom{}
	for i, name := range sectionNames {
		slug := strings.ToLower(name)
		nr.terms = append(nr.terms, &news.Term{Key: news.TermKey(news.KindSection, slug), Kind: news.KindSection,
			Slug: slug, Name: name, Description: name + " from around the region.", Position: i})
	}
	for i, w := range tagWords {
		nr.terms = append(nr.terms, &news.Term{Key: news.TermKey(news.KindTag, w), Kind: news.KindTag,
			Slug: w, Name: strings.ToUpper(w[:1]) + w[1:], Position: i})
	}
	for i := range 200 {
		first, last := firstNames[i%len(firstNames)], lastNames[(i/len(firstNames))%len(lastNames)]
		nr.authors = append(nr.authors, &news.Author{ID: bson.NewObjectID().Hex(),
			Slug: fmt.Sprintf("%s-%s-%03d", strings.ToLower(first), strings.ToLower(last), i),
			Name: first + " " + last, Bio: first + " reports for the newsroom.",
			SocialLinks: []news.SocialLink{}, CreatedAt: now, UpdatedAt: now})
	}
	for i := range n {
		at := now.Add(-time.Duration(i+1) * time.Minute)
		headline := w.sentence(6 + r.IntN(6))
		a := &news.Article{
			ID:       bson.NewObjectID().Hex(),
			Slug:     fmt.Sprintf("story-%06d-%s", i, strings.ReplaceAll(strings.ToLower(headline[:strings.IndexByte(headline, ' ')]), ".", "")),
			Headline: headline,
			Dek:      w.sentence(14 + r.IntN(10)),
			Body:     w.markdownBody(300 + r.IntN(501)),
			Section:  strings.ToLower(sectionNames[r.IntN(len(sectionNames))]),
			FeaturedImage: &news.Image{URL: fmt.Sprintf("https://images.example.test/bench/%06d.jpg", i),
				Alt: w.sentence(8), Credit: "Photo: " + nr.authors[r.IntN(len(nr.authors))].Name, Width: 1600, Height: 900},
			StoredStatus: news.StatusPublished,
			PublishedAt:  &at,
			CreatedAt:    at,
			UpdatedAt:    at,
			Version:      1,
		}
		for _, j := range r.Perm(len(nr.authors))[:1+r.IntN(3)] {
			a.AuthorIDs = append(a.AuthorIDs, nr.authors[j].ID)
		}
		for _, j := range r.Perm(len(tagWords))[:2+r.IntN(4)] {
			a.Tags = append(a.Tags, tagWords[j])
		}
		nr.articles = append(nr.articles, a)
	}
	return nr
}

// Topic words are the archive's long tail: the names, places and subjects
// a story is about. A story's prose is the filler above (in every story, as
// "said" and "council" are in real news) with topicShare of its words drawn
// from topicWords by Zipf's law, as words are in real text, so that a
// search word is in a realistic share of the archive: the word of rank 30
// in about 40% of stories, that of rank 600 in about 2%.
const (
	topicVocabulary = 5000
	topicShare      = 0.3
	topicSkew       = 1.1 // Zipf's s
)

var topicWords = makeTopicWords(topicVocabulary)

// makeTopicWords makes n distinct pronounceable words of three syllables,
// the same ones at every run.
func makeTopicWords(n int) []string {
	const consonants, vowels = "bdfgklmnprstvz", "aeiou"
	r := rand.New(rand.NewPCG(7, 11))
	seen := make(map[string]bool, n)
	out := make([]string, 0, n)
	for len(out) < n {
		var b strings.Builder
		for range 3 {
			b.WriteByte(consonants[r.IntN(len(consonants))])
			b.WriteByte(vowels[r.IntN(len(vowels))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// writer writes a newsroom's synthetic prose.
type writer struct {
	r     *rand.Rand
	topic *rand.Zipf
}

func newWriter(r *rand.Rand) *writer {
	return &writer{r: r, topic: rand.NewZipf(r, topicSkew, 1, topicVocabulary-1)}
}

// sentence is words of filler prose and topic words, capitalised, with a
// full stop.
func (w *writer) sentence(words int) string {
	var b strings.Builder
	start := w.r.IntN(len(prose))
	for i := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		if w.r.Float64() < topicShare {
			b.WriteString(topicWords[w.topic.Uint64()])
		} else {
			b.WriteString(prose[(start+i)%len(prose)])
		}
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// markdownBody is about words words of CommonMark: paragraphs, a subhead, a
// list and a link, like a real story.
func (w *writer) markdownBody(words int) string {
	var b strings.Builder
	for written, para := 0, 0; written < words; para++ {
		switch para {
		case 2:
			b.WriteString("## " + w.sentence(5) + "\n\n")
		case 4:
			for range 3 {
				b.WriteString("- " + w.sentence(6) + "\n")
			}
			b.WriteString("\n")
			written += 18
			continue
		}
		n := min(40+w.r.IntN(50), words-written)
		s := w.sentence(n)
		if para == 1 {
			s += " [Read the report](https://example.test/report)."
		}
		b.WriteString(s + "\n\n")
		written += n
	}
	return b.String()
}

// seed inserts the newsroom in bulk.
func (nr *newsroom) seed(ctx context.Context, st *store.Store) error {
	if err := st.InsertTerms(ctx, nr.terms); err != nil {
		return fmt.Errorf("seed sections and tags: %w", err)
	}
	if err := st.InsertAuthors(ctx, nr.authors); err != nil {
		return fmt.Errorf("seed authors: %w", err)
	}
	for i := 0; i < len(nr.articles); i += seedBatch {
		if err := st.InsertArticles(ctx, nr.articles[i:min(i+seedBatch, len(nr.articles))]); err != nil {
			return fmt.Errorf("seed articles %d-: %w", i, err)
		}
	}
	return nil
}
