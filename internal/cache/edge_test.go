package cache

import (
	"strings"
	"testing"
)

func TestEdgeKeysFallBackToCoarserTagsWhenTooLong(t *testing.T) {
	tags := []string{tagArticles, tagTerms, "author:a1"}
	for i := range 2000 {
		tags = append(tags, tagArticle(strings.Repeat("0", 20)+string(rune('a'+i%26))+strings.Repeat("x", i%7)+itoa(i)))
	}
	keys, ok := edgeKeys(tags)
	if !ok {
		t.Fatal("not for the edge")
	}
	joined := strings.Join(keys, " ")
	if len(joined) > MaxEdgeKeys {
		t.Errorf("Surrogate-Key is %d bytes, over %d", len(joined), MaxEdgeKeys)
	}
	for _, want := range []string{SiteKey, tagArticles, tagTerms, "author:a1"} {
		if !containsKey(keys, want) {
			t.Errorf("%q missing from %v", want, keys[:5])
		}
	}

	// A tag that cannot travel in the headers (a slug a client made up)
	// gives way to its coarse tag.
	keys, _ = edgeKeys([]string{"slug:a b,c", tagArticle("1")})
	if !containsKey(keys, tagArticles) || containsKey(keys, "slug:a b,c") {
		t.Errorf("keys %v", keys)
	}
}

func containsKey(keys []string, k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
