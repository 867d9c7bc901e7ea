package embed_test

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

// browser finds a headless-capable Chromium; tests that need one skip
// without it (the project's machines have /usr/bin/chromium).
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium on this machine")
	return ""
}

// The card as a real browser loads it: the headline shows as text, nothing
// in it runs, and the card's own CSS and picture are not refused by its
// Content-Security-Policy (Chromium logs every refusal and every console
// message).
func TestCardInARealBrowser(t *testing.T) {
	bin := browser(t)
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	a := testenv.NewArticle("hostile", time.Now().Add(-time.Minute))
	a.Headline = `Flood <script>console.log("pwned-headline")</script> wall`
	a.Dek = `<img src=x onerror="console.log('pwned-dek')">`
	a.FeaturedImage = &news.Image{URL: "http://127.0.0.1:1/picture.jpg", Alt: "a picture", Credit: "A. Photographer"}
	svc.AddArticles(t, a)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0", "--dump-dom", svc.URL+"/embed/hostile")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	dom, log := stdout.String(), stderr.String()
	doc := parseCard(t, dom)
	if !strings.Contains(doc.text, a.Headline) || !strings.Contains(doc.text, "A. Photographer") {
		t.Errorf("the browser does not show the headline and credit as text:\n%s", dom)
	}
	if len(doc.scripts) > 0 || len(doc.images) != 1 {
		t.Errorf("the browser's DOM has scripts %v, images %v", doc.scripts, doc.images)
	}
	for _, bad := range []string{"pwned", "Refused to", "Content Security Policy"} {
		if strings.Contains(log, bad) {
			t.Errorf("the browser logged %q:\n%s", bad, log)
		}
	}
}
