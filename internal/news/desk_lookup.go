package news

import "context"

// What a tool that builds articles from other material (the plain-text
// importer) asks the desk before it writes: the same rules and the same
// store as the desk's own writes, so nothing is checked twice differently.

// AuthorNamed is the author whose name is name, ignoring case; (nil, nil)
// when there is none.
func (d *Desk) AuthorNamed(ctx context.Context, name string) (*Author, error) {
	return d.store.AuthorByName(ctx, name)
}

// KnownTags keeps, in order, the slugs that name existing tags: the desk
// refuses an article with an unknown tag, and suggestions are only that.
func (d *Desk) KnownTags(ctx context.Context, slugs []string) ([]string, error) {
	keys := make([]string, 0, len(slugs))
	for _, s := range slugs {
		if ValidSlug(s) {
			keys = append(keys, TermKey(KindTag, s))
		}
	}
	if len(keys) == 0 {
		return []string{}, nil
	}
	found, err := d.store.TermsByKeys(ctx, keys)
	if err != nil {
		return nil, err
	}
	known := []string{}
	for _, s := range slugs {
		if ValidSlug(s) && found[TermKey(KindTag, s)] != nil {
			known = append(known, s)
		}
	}
	return known, nil
}

// CheckArticle validates in as CreateArticle would, writing nothing: a
// caller that must write something else first (an author) checks here so a
// rejected article leaves nothing behind.
func (d *Desk) CheckArticle(ctx context.Context, in ArticleInput) error {
	if in.Headline == nil {
		return BadInput("input.headline", "is required")
	}
	return d.apply(ctx, &Article{}, in)
}

// CheckAuthor validates in as CreateAuthor would, writing nothing.
func (d *Desk) CheckAuthor(in AuthorInput) error {
	if in.Name == nil {
		return BadInput("input.name", "is required")
	}
	return applyAuthor(&Author{}, in)
}
