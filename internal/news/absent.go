package news

// The domain keeps optional text as a plain string and stores nothing when
// it is empty (every such field is `omitempty`), so "" means absent. The
// API must say so with null, not "": these accessors are what the GraphQL
// layer binds the nullable fields to.

func absent(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// DekOrNil is the standfirst, nil when the story has none.
func (a *Article) DekOrNil() *string { return absent(a.Dek) }

// URLOrNil is the outlet's story address, nil when the attribution names
// the outlet only.
func (s *Source) URLOrNil() *string { return absent(s.URL) }

// CaptionOrNil and CreditOrNil are nil when the picture has none.
func (im *Image) CaptionOrNil() *string { return absent(im.Caption) }
func (im *Image) CreditOrNil() *string  { return absent(im.Credit) }

// BioOrNil, LocationOrNil and URLOrNil are nil when the byline has none.
func (a *Author) BioOrNil() *string      { return absent(a.Bio) }
func (a *Author) LocationOrNil() *string { return absent(a.Location) }
func (a *Author) URLOrNil() *string      { return absent(a.URL) }

// DescriptionOrNil is nil when the section has no description.
func (s *Section) DescriptionOrNil() *string { return absent(s.Description) }
