package news

import (
	"bytes"
	stdhtml "html"
	"strings"

	"github.com/JohannesKaufmann/html-to-markdown/v2/converter"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/base"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/commonmark"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/strikethrough"
	"github.com/JohannesKaufmann/html-to-markdown/v2/plugin/table"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/renderer/html"
)

// inputMarkdown renders submitted Markdown with its raw HTML kept, so that
// the HTML goes through the same sanitiser as an HTML submission instead of
// being stored for some later renderer to trust.
var inputMarkdown = goldmark.New(bodyExtensions(), goldmark.WithRendererOptions(html.WithUnsafe()))

// CanonicalBody turns a submitted body into the one stored form: CommonMark
// (plus GFM tables and strikethrough) that holds nothing a sanitiser would
// remove. Every format takes the same road: to HTML, through the bluemonday
// policy readers' HTML is rendered with (no script, no event handlers, no
// javascript: URLs, no iframes), then back to Markdown. So what is stored,
// and every format served from it, is already clean, whatever a client later
// does with the Markdown.
func CanonicalBody(body string, format BodyInputFormat) (string, error) {
	var htm string
	switch format {
	case BodyHTML:
		htm = body
	case BodyText:
		var b strings.Builder
		for _, para := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n") {
			if p := strings.TrimSpace(para); p != "" {
				b.WriteString("<p>" + stdhtml.EscapeString(p) + "</p>\n")
			}
		}
		htm = b.String()
	default:
		var buf bytes.Buffer
		if err := inputMarkdown.Convert([]byte(body), &buf); err != nil {
			return "", BadInput("input.body", "is not Markdown this service can read")
		}
		htm = buf.String()
	}
	clean := bodyPolicy.Sanitize(htm)
	conv := converter.NewConverter(converter.WithPlugins(
		base.NewBasePlugin(), commonmark.NewCommonmarkPlugin(),
		strikethrough.NewStrikethroughPlugin(), table.NewTablePlugin(),
	))
	md, err := conv.ConvertString(clean)
	if err != nil {
		return "", BadInput("input.body", "could not be converted to Markdown")
	}
	return strings.TrimSpace(md), nil
}
