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
			"cut at 200 on a hyphen boundary",
			strings.Repeat("abcdefghi ", 25), // slug[199] is a hyphen
			strings.TrimSuffix(strings.Repeat("abcdefghi-", 20), "-"),
		},
		{
			"exactly 200 when the 201st character is a hyphen",
			strings.Repeat("ab ", 70), // slug[200] is a hyphen
			strings.Repeat("ab-", 66) + "ab",
		},
		{
			"200 characters are kept whole",
			strings.Repeat("a", 200),
			strings.Repeat("a", 200),
		},
		{
			"a WordPress-length slug of 150 characters is kept whole",
			strings.Repeat("abcdefghi ", 15),
			strings.TrimSuffix(strings.Repeat("abcdefghi-", 15), "-"),
		},
		{
			"one huge word is cut at 200",
			strings.Repeat("x", 500),
			strings.Repeat("x", 200),
		},
		{
			"cut never ends in a hyphen",
			"Ünïcödé " + strings.Repeat("long-words ", 30),
			"unicode" + strings.Repeat("-long-words", 17) + "-long",
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
		{strings.Repeat("a", 200), true},
		{strings.Repeat("ab-", 66) + "ab", true},
		{"", false},
		{strings.Repeat("a", 201), false},
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
		"--a--b--", strings.Repeat("word ", 60), strings.Repeat("x", 250), "ŉ ǅ ﬁ Ｆ ½", "\xff\xfe",
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
