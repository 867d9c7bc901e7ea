package feed

import (
	"encoding/xml"
	"time"
)

type atomDoc struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Sub     string      `xml:"subtitle,omitempty"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Gen     string      `xml:"generator"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      string         `xml:"title"`
	Links      []atomLink     `xml:"link"`
	Published  string         `xml:"published,omitempty"`
	Updated    string         `xml:"updated"`
	Authors    []atomPerson   `xml:"author"`
	Categories []atomCategory `xml:"category"`
	Summary    string         `xml:"summary,omitempty"`
	Content    atomText       `xml:"content"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomText struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

// atomTime is RFC 3339 as Atom requires.
func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Atom writes f as Atom 1.0. An empty feed is "updated" at the epoch: Atom
// requires the element and there is no better moment to claim.
func Atom(f *Feed) ([]byte, error) {
	doc := atomDoc{
		ID:      f.SelfURL,
		Title:   f.Title,
		Sub:     f.Description,
		Updated: atomTime(f.Updated),
		Links: []atomLink{
			{Href: f.SelfURL, Rel: "self", Type: "application/atom+xml"},
			{Href: f.HomeURL, Rel: "alternate", Type: "text/html"},
		},
		// Atom requires an author on every entry or on the feed; the
		// newsroom stands behind entries whose bylines are gone.
		Author: atomPerson{Name: f.SiteName, URI: f.HomeURL},
		Gen:    "newsgraph",
	}
	if f.Updated.IsZero() {
		doc.Updated = atomTime(time.Unix(0, 0))
	}
	for _, it := range f.Items {
		e := atomEntry{
			ID:      it.ID,
			Title:   it.Title,
			Links:   []atomLink{{Href: it.URL, Rel: "alternate", Type: "text/html"}},
			Updated: atomTime(it.Updated),
			Summary: it.Summary,
			Content: atomText{Type: "html", Value: it.ContentHTML},
		}
		if !it.Published.IsZero() {
			e.Published = atomTime(it.Published)
		}
		if im := it.Image; im != nil {
			e.Links = append(e.Links, atomLink{Href: im.URL, Rel: "enclosure", Type: imageType(im.URL)})
		}
		for _, p := range it.Authors {
			e.Authors = append(e.Authors, atomPerson{Name: p.Name, URI: p.URL})
		}
		for _, c := range it.Categories {
			e.Categories = append(e.Categories, atomCategory{Term: c})
		}
		doc.Entries = append(doc.Entries, e)
	}
	return marshalXML(doc)
}
