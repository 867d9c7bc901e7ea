package feed

import (
	"encoding/json"
	"path"
	"strings"
	"time"
)

type jsonFeed struct {
	Version     string     `json:"version"`
	Title       string     `json:"title"`
	HomePageURL string     `json:"home_page_url"`
	FeedURL     string     `json:"feed_url"`
	Description string     `json:"description,omitempty"`
	Items       []jsonItem `json:"items"`
}

type jsonItem struct {
	ID            string       `json:"id"`
	URL           string       `json:"url"`
	Title         string       `json:"title"`
	ContentHTML   string       `json:"content_html"`
	Summary       string       `json:"summary,omitempty"`
	Image         string       `json:"image,omitempty"`
	DatePublished string       `json:"date_published,omitempty"`
	DateModified  string       `json:"date_modified,omitempty"`
	Authors       []jsonAuthor `json:"authors,omitempty"`
	Tags          []string     `json:"tags,omitempty"`
	// JSON Feed has no place for an image credit or a source outlet; its
	// extension convention is a key starting with an underscore.
	Newsgraph *jsonExtension `json:"_newsgraph,omitempty"`
}

type jsonAuthor struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

type jsonExtension struct {
	ImageCredit  string `json:"image_credit,omitempty"`
	ImageCaption string `json:"image_caption,omitempty"`
	SourceName   string `json:"source_name,omitempty"`
	SourceURL    string `json:"source_url,omitempty"`
}

// JSON writes f as JSON Feed 1.1.
func JSON(f *Feed) ([]byte, error) {
	doc := jsonFeed{
		Version:     "https://jsonfeed.org/version/1.1",
		Title:       f.Title,
		HomePageURL: f.HomeURL,
		FeedURL:     f.SelfURL,
		Description: f.Description,
		Items:       []jsonItem{},
	}
	for _, it := range f.Items {
		ji := jsonItem{
			ID:           it.ID,
			URL:          it.URL,
			Title:        it.Title,
			ContentHTML:  it.ContentHTML,
			Summary:      it.Summary,
			DateModified: it.Updated.UTC().Format(time.RFC3339),
			Tags:         it.Categories,
		}
		if !it.Published.IsZero() {
			ji.DatePublished = it.Published.UTC().Format(time.RFC3339)
		}
		for _, p := range it.Authors {
			ji.Authors = append(ji.Authors, jsonAuthor(p))
		}
		ext := jsonExtension{}
		if im := it.Image; im != nil {
			ji.Image = im.URL
			ext.ImageCredit, ext.ImageCaption = im.Credit, im.Caption
		}
		if s := it.Source; s != nil {
			ext.SourceName, ext.SourceURL = s.Name, s.URL
		}
		if ext != (jsonExtension{}) {
			ji.Newsgraph = &ext
		}
		doc.Items = append(doc.Items, ji)
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// imageType guesses a picture's media type from its address, for Atom's
// enclosure link; "image/*" when the extension says nothing.
func imageType(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	switch strings.ToLower(path.Ext(u)) {
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".webp":
		return "image/webp"
	case ".gif":
		return "image/gif"
	case ".avif":
		return "image/avif"
	}
	return "image/*"
}
