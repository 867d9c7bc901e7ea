package news

import (
	"encoding/base64"
	"strings"
)

// Node kinds, as they appear inside global IDs.
const (
	NodeArticle = "Article"
	NodeAuthor  = "Author"
	NodeSection = "Section"
	NodeTag     = "Tag"
)

// GlobalID makes the opaque, stable ID a client sees from a node kind and
// its key (a stored _id, or a slug for sections and tags).
func GlobalID(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + key))
}

// ParseGlobalID reverses GlobalID. field names the argument for the error.
func ParseGlobalID(field, id string) (kind, key string, err error) {
	raw, decErr := base64.RawURLEncoding.DecodeString(id)
	if decErr != nil {
		return "", "", BadInput(field, "not a valid ID")
	}
	kind, key, ok := strings.Cut(string(raw), ":")
	if !ok || key == "" {
		return "", "", BadInput(field, "not a valid ID")
	}
	switch kind {
	case NodeArticle, NodeAuthor, NodeSection, NodeTag:
		return kind, key, nil
	}
	return "", "", BadInput(field, "not a valid ID")
}

// ParseGlobalIDOf parses an ID that must be of one kind.
func ParseGlobalIDOf(field, want, id string) (string, error) {
	kind, key, err := ParseGlobalID(field, id)
	if err != nil {
		return "", err
	}
	if kind != want {
		return "", BadInput(field, "is the ID of a %s, not of a %s", kind, want)
	}
	return key, nil
}

// Node is anything with a global ID: *Article, *Author, *Section or *Tag.
type Node interface{ isNode() }

func (*Article) isNode() {}
func (*Author) isNode()  {}
func (*Section) isNode() {}
func (*Tag) isNode()     {}

// IsEntity marks the types a federation gateway may look up by key
// (Article and Author by id, Section and Tag by slug); the GraphQL layer's
// generated _Entity union is bound to it.
func (Article) IsEntity() {}
func (Author) IsEntity()  {}
func (Section) IsEntity() {}
func (Tag) IsEntity()     {}
