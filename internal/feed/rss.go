package feed

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"time"
)

// The RSS 2.0 document, with the modules readers expect of a news feed:
// content:encoded for the full story, media:content for the picture and its
// credit, dc:creator for bylines, atom:link for the feed's own address.
type rssDoc struct {
	XMLName      xml.Name   `xml:"rss"`
	Version      string     `xml:"version,attr"`
	XMLNSContent string     `xml:"xmlns:content,attr"`
	XMLNSMedia   string     `xml:"xmlns:media,attr"`
	XMLNSDC      string     `xml:"xmlns:dc,attr"`
	XMLNSAtom    string     `xml:"xmlns:atom,attr"`
	Channel      rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	SelfLink      rssLink   `xml:"atom:link"`
	LastBuildDate string    `xml:"lastBuildDate,omitempty"`
	Generator     string    `xml:"generator"`
	Items         []rssItem `xml:"item"`
}

type rssLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type rssItem struct {
	Title       string        `xml:"title"`
	Link        string        `xml:"link"`
	GUID        rssGUID       `xml:"guid"`
	Description string        `xml:"description,omitempty"`
	Content     string        `xml:"content:encoded"`
	PubDate     string        `xml:"pubDate,omitempty"`
	Creators    []string      `xml:"dc:creator"`
	Categories  []string      `xml:"category"`
	Media       *rssMedia     `xml:"media:content"`
	Source      *rssSourceRef `xml:"source"`
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

type rssMedia struct {
	URL         string `xml:"url,attr"`
	Medium      string `xml:"medium,attr"`
	Width       string `xml:"width,attr,omitempty"`
	Height      string `xml:"height,attr,omitempty"`
	Description string `xml:"media:description,omitempty"`
	Credit      string `xml:"media:credit,omitempty"`
}

// rssSourceRef is RSS's <source>: the outlet a story comes from. RSS
// requires its url attribute, so it is written only when the story has one.
type rssSourceRef struct {
	URL  string `xml:"url,attr"`
	Name string `xml:",chardata"`
}

// RSS writes f as RSS 2.0.
func RSS(f *Feed) ([]byte, error) {
	doc := rssDoc{
		Version:      "2.0",
		XMLNSContent: "http://purl.org/rss/1.0/modules/content/",
		XMLNSMedia:   "http://search.yahoo.com/mrss/",
		XMLNSDC:      "http://purl.org/dc/elements/1.1/",
		XMLNSAtom:    "http://www.w3.org/2005/Atom",
		Channel: rssChannel{
			Title:       f.Title,
			Link:        f.HomeURL,
			Description: f.Description,
			SelfLink:    rssLink{Href: f.SelfURL, Rel: "self", Type: "application/rss+xml"},
			Generator:   "newsgraph",
		},
	}
	if !f.Updated.IsZero() {
		doc.Channel.LastBuildDate = f.Updated.UTC().Format(time.RFC1123Z)
	}
	for _, it := range f.Items {
		ri := rssItem{
			Title:       it.Title,
			Link:        it.URL,
			GUID:        rssGUID{IsPermaLink: "false", Value: it.ID},
			Description: it.Summary,
			Content:     it.ContentHTML,
			Categories:  it.Categories,
		}
		if !it.Published.IsZero() {
			ri.PubDate = it.Published.UTC().Format(time.RFC1123Z)
		}
		for _, p := range it.Authors {
			ri.Creators = append(ri.Creators, p.Name)
		}
		if im := it.Image; im != nil {
			ri.Media = &rssMedia{URL: im.URL, Medium: "image", Description: im.Caption, Credit: im.Credit}
			if im.Width > 0 && im.Height > 0 {
				ri.Media.Width, ri.Media.Height = strconv.Itoa(im.Width), strconv.Itoa(im.Height)
			}
		}
		if s := it.Source; s != nil && s.URL != "" {
			ri.Source = &rssSourceRef{URL: s.URL, Name: s.Name}
		}
		doc.Channel.Items = append(doc.Channel.Items, ri)
	}
	return marshalXML(doc)
}

func marshalXML(doc any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
