package news

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxSlugLen is the longest slug Slugify produces and ValidSlug accepts:
// WordPress's 200 (its post_name column), so an archive migrated from it
// keeps every address it had.
const MaxSlugLen = 200

// slugLetters transliterates the Latin letters that NFKD leaves alone
// because they are letters in their own right, not a base letter plus a
// diacritic. Keys are lower case (Slugify lowercases first).
var slugLetters = map[rune]string{
	'ß': "ss", // also ẞ, which lowercases to ß
	'æ': "ae", // also ǽ and ǣ, which NFKD reduces to æ
	'œ': "oe",
	'ø': "o", // also ǿ
	'ł': "l",
	'đ': "d",
	'ð': "d",
	'þ': "th",
	'ı': "i", // dotless i
	'ħ': "h",
	'ŧ': "t",
	'ŋ': "ng",
	'ĸ': "k",
	'ƒ': "f",
	'ƀ': "b",
	'ɓ': "b",
	'ɗ': "d",
	'ɖ': "d",
	'ə': "e", // schwa (Azerbaijani)
	'ǝ': "e",
	'ɛ': "e",
	'ɔ': "o",
	'ƙ': "k",
	'ɲ': "n",
	'ɣ': "g",
	'ǥ': "g",
	'ȼ': "c",
	'ɇ': "e",
	'ɉ': "j",
	'ɍ': "r",
	'ɏ': "y",
	'ƶ': "z",
	'ʒ': "z",
}

// isSlugQuote reports whether r is an apostrophe or quotation mark. These are
// removed rather than treated as word separators, so that "Council’s" gives
// "councils", not "council-s".
func isSlugQuote(r rune) bool {
	switch r {
	case '\'', '"', '`', '´',
		'\u2018', '\u2019', '\u201A', '\u201B', // ‘ ’ ‚ ‛
		'\u201C', '\u201D', '\u201E', '\u201F', // “ ” „ ‟
		'\u02BC', '\u02BB', '\u2032', '\u2033': // ʼ ʻ ′ ″
		return true
	}
	return false
}

// Slugify turns a headline into a URL slug: Latin letters with diacritics are
// transliterated to ASCII (é→e, ß→ss, ø→o, þ→th...), apostrophes and quotes
// are removed, everything is lowercased, and every run of other characters
// becomes a single hyphen, with none at either end. Letters of other scripts
// are dropped like punctuation. A slug longer than MaxSlugLen is cut at the
// last hyphen that keeps it within the limit (or, for one huge word, at
// MaxSlugLen bytes). It returns "" when nothing usable remains; callers must
// supply a fallback then.
func Slugify(s string) string {
	// Quotes go first: NFKD would turn ´ into a space plus a combining
	// accent, i.e. into a separator.
	s = strings.Map(func(r rune) rune {
		if isSlugQuote(r) {
			return -1
		}
		return r
	}, s)
	// NFKD splits "é" into "e" plus a combining acute (dropped below) and
	// also folds compatibility forms: ligatures (ﬁ), full-width letters,
	// superscript digits.
	s = norm.NFKD.String(s)

	var b strings.Builder
	b.Grow(min(len(s), MaxSlugLen+8))
	hyphen := false // a separator is pending
	emit := func(part string) {
		if hyphen && b.Len() > 0 {
			b.WriteByte('-')
		}
		hyphen = false
		b.WriteString(part)
	}
	for _, r := range s {
		r = unicode.ToLower(r)
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			emit(string(r))
		case unicode.Is(unicode.Mn, r), isSlugQuote(r):
			// Combining marks from NFKD, and quotes it produced (e.g. from
			// ŉ or a full-width apostrophe).
		default:
			if t, ok := slugLetters[r]; ok {
				emit(t)
			} else {
				hyphen = true
			}
		}
		if b.Len() > 2*MaxSlugLen {
			break // enough to cut from; don't build a huge string
		}
	}
	return cutSlug(b.String())
}

// cutSlug shortens a well-formed slug to at most MaxSlugLen bytes, preferring
// to cut between words.
func cutSlug(slug string) string {
	if len(slug) <= MaxSlugLen {
		return slug
	}
	if slug[MaxSlugLen] == '-' {
		return slug[:MaxSlugLen]
	}
	if i := strings.LastIndexByte(slug[:MaxSlugLen], '-'); i > 0 {
		return slug[:i]
	}
	return slug[:MaxSlugLen]
}

// ValidSlug reports whether s is a well-formed slug: 1 to MaxSlugLen
// characters, groups of [a-z0-9] joined by single hyphens.
func ValidSlug(s string) bool {
	if len(s) == 0 || len(s) > MaxSlugLen || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
		case c == '-':
			if s[i-1] == '-' {
				return false
			}
		default:
			return false
		}
	}
	return true
}
