package news

import "time"

// SharingQuery asks for published stories that share something with one
// story: any of its tags, or its section or any of its authors. Built by
// internal/related from the story itself, never from client input.
type SharingQuery struct {
	// Exclude is the story itself.
	Exclude   string
	Tags      []string
	Section   string
	AuthorIDs []string
	// Now: only stories published at or before it.
	Now   time.Time
	Limit int
}

// TagFrequencies is how many stories carry each tag, and how many stories
// there are: what rarity (idf) is computed from.
type TagFrequencies struct {
	Stories int
	Tagged  map[string]int
}
