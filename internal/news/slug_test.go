package news

import (
	"strings"
	"testing"
)

func TestSlugify(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "Hello World", "hello-world"},
		{"empty", "", ""},
		{"diacritics", "Café crème à la Señor Núñez", "cafe-creme-a-la-senor-nunez"},
		{"umlauts and sharp s", "Straße in München für Größe", "strasse-in-munchen-fur-grosse"},
		{"capital sharp s", "GROẞE", "grosse"},
		{"letters NFKD keeps", "Ærø Œuvre Łódź Đakovo Þingvellir Ðó", "aero-oeuvre-lodz-dakovo-thingvellir-do"},
		{"Nordic and Turkish", "Søren Kierkegaard in İstanbul, Diyarbakır", "soren-kierkegaard-in-istanbul-diyarbakir"},
		{"curly apostrophe removed", "Council’s budget", "councils-budget"},
		{"straight apostrophe removed", "Council's budget", "councils-budget"},
		{"curly quotes removed", "“Bold” plan ‘agreed’", "bold-plan-agreed"},
		{"apostrophe between words", "rock 'n' roll", "rock-n-roll"},
		{"punctuation runs", "Breaking!!! -- Markets (again) fall 5%...", "breaking-markets-again-fall-5"},
		{"leading and trailing junk", "  --- ¿Qué? ---  ", "que"},
		{"underscores and slashes", "a_b/c\\d", "a-b-c-d"},
		{"digits", "2024 Q3: £1.5bn", "2024-q3-1-5bn"},
		{"compatibility forms", "ﬁnance Ｆｕｌｌ² ⅻ", "finance-full2-xii"},
		{"non-Latin dropped", "Москва 2024 summit", "2024-summit"},
		{"non-Latin inside", "abc東京def", "abc-def"},
		{"all non-Latin", "Россия и Украина", ""},
		{"all CJK", "東京オリンピック", ""},
		{"only punctuation", "!!! — ...", ""},
		{"emoji dropped", "Hot 🔥 take", "hot-take"},
		{
			"cut at 80 on a hyphen boundary",
			strings.Repeat("abcdefghi ", 10), // slug[79] is a hyphen
			strings.TrimSuffix(strings.Repeat("abcdefghi-", 8), "-"),
		},
		{
			"exactly 80 when the 81st character is a hyphen",
			strings.Repeat("abcdefgh ", 12),
			strings.TrimSuffix(strings.Repeat("abcdefgh-", 9), "-"),
		},
		{
			"80 characters are kept whole",
			strings.Repeat("a", 80),
			strings.Repeat("a", 80),
		},
		{
			"one huge word is cut at 80",
			strings.Repeat("x", 200),
			strings.Repeat("x", 80),
		},
		{
			"cut never ends in a hyphen",
			"Ünïcödé " + strings.Repeat("long-words ", 20),
			"unicode-long-words-long-words-long-words-long-words-long-words-long-words-long",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Slugify(tt.in)
			if got != tt.want {
				t.Errorf("Slugify(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got != "" && !ValidSlug(got) {
				t.Errorf("Slugify(%q) = %q is not a valid slug", tt.in, got)
			}
		})
	}
}

func TestValidSlug(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"a", true},
		{"hello-world", true},
		{"2024-q3-results", true},
		{strings.Repeat("a", 80), true},
		{strings.Repeat("ab-", 26) + "ab", true},
		{"", false},
		{strings.Repeat("a", 81), false},
		{"-a", false},
		{"a-", false},
		{"-", false},
		{"a--b", false},
		{"Hello", false},
		{"a_b", false},
		{"a b", false},
		{"café", false},
		{"a/b", false},
		{"a.b", false},
	}
	for _, tt := range tests {
		if got := ValidSlug(tt.in); got != tt.want {
			t.Errorf("ValidSlug(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzSlugify(f *testing.F) {
	for _, s := range []string{
		"Hello World", "Council’s “bold” plan", "Straße", "Ærø Łódź Þing", "Москва", "東京",
		"--a--b--", strings.Repeat("word ", 30), strings.Repeat("x", 100), "ŉ ǅ ﬁ Ｆ ½", "\xff\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := Slugify(in)
		if got != "" && !ValidSlug(got) {
			t.Fatalf("Slugify(%q) = %q is neither empty nor a valid slug", in, got)
		}
		if again := Slugify(got); again != got {
			t.Fatalf("Slugify(Slugify(%q)) = %q, want %q", in, again, got)
		}
	})
}
