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
		headline := sentence(r, 6+r.IntN(6))
		a := &news.Article{
			ID:       bson.NewObjectID().Hex(),
			Slug:     fmt.Sprintf("story-%06d-%s", i, strings.ReplaceAll(strings.ToLower(headline[:strings.IndexByte(headline, ' ')]), ".", "")),
			Headline: headline,
			Dek:      sentence(r, 14+r.IntN(10)),
			Body:     markdownBody(r, 300+r.IntN(501)),
			Section:  strings.ToLower(sectionNames[r.IntN(len(sectionNames))]),
			FeaturedImage: &news.Image{URL: fmt.Sprintf("https://images.example.test/bench/%06d.jpg", i),
				Alt: sentence(r, 8), Credit: "Photo: " + nr.authors[r.IntN(len(nr.authors))].Name, Width: 1600, Height: 900},
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

// sentence is words of filler prose, capitalised, with a full stop.
func sentence(r *rand.Rand, words int) string {
	var b strings.Builder
	start := r.IntN(len(prose))
	for i := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(prose[(start+i)%len(prose)])
	}
	s := b.String()
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// markdownBody is about words words of CommonMark: paragraphs, a subhead, a
// list and a link, like a real story.
func markdownBody(r *rand.Rand, words int) string {
	var b strings.Builder
	for written, para := 0, 0; written < words; para++ {
		switch para {
		case 2:
			b.WriteString("## " + sentence(r, 5) + "\n\n")
		case 4:
			for range 3 {
				b.WriteString("- " + sentence(r, 6) + "\n")
			}
			b.WriteString("\n")
			written += 18
			continue
		}
		n := min(40+r.IntN(50), words-written)
		s := sentence(r, n)
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
