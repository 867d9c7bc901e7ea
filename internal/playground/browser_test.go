package playground_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// chromium finds Debian's chromium. In CI its absence is a failure, not a
// skip: .ci/run installs it.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; the playground's browser test needs it (apt-get install chromium; .ci/run does this)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); skipped outside CI")
	return ""
}

// screenshotDir is where the test leaves its screenshot: $TEST_ARTIFACTS_DIR
// when set (CI keeps it), else the test's temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("TEST_ARTIFACTS_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// An editor with only a browser and the README: opens the playground on the
// demo newsroom, uses its CreateDraft and Publish tabs with the key in the
// headers editor; a reader then gets the story.
func TestEditorPublishesFromThePlaygroundInARealBrowser(t *testing.T) {
	exe := chromium(t)
	svc := testenv.NewService(t, testenv.ServiceOptions{Demo: true})
	key := svc.NewKey(t, news.RoleEditor)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	// js runs a script in the page, as a user's clicks and typing would act.
	js := func(script string) chromedp.Action[chromedp.Void] {
		eval := chromedp.Evaluate[bool]("(() => {" + script + "; return true; })()")
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := eval(ctx, tg)
			return chromedp.Void{}, err
		}
	}
	// setEditor replaces the text of a GraphiQL (CodeMirror) editor, so
	// GraphiQL's own state follows as it does for typing.
	setEditor := func(selector, text string) chromedp.Action[chromedp.Void] {
		return js(fmt.Sprintf(`document.querySelector(%q).CodeMirror.setValue(%q)`, selector+" .CodeMirror", text))
	}
	openTab := func(name string) chromedp.Action[chromedp.Void] {
		return js(fmt.Sprintf(`[...document.querySelectorAll(".graphiql-tab-button")].find(b => b.textContent.trim() === %q).click()`, name))
	}
	const toolEditor = ".graphiql-editor-tool .graphiql-editor:not(.hidden)"
	// fill opens a tab and fills in its headers (the key) and, if given,
	// its variables, the way the README tells an editor to.
	fill := func(tab, variables string) error {
		steps := []chromedp.Action[chromedp.Void]{
			openTab(tab),
			chromedp.Click(chromedp.CSS(`button[data-name="headers"]`)),
			chromedp.WaitVisible(chromedp.CSS(toolEditor + " .CodeMirror")),
			setEditor(toolEditor, fmt.Sprintf(`{"Authorization": %q}`, key)),
		}
		if variables != "" {
			steps = append(steps, chromedp.Click(chromedp.CSS(`button[data-name="variables"]`)),
				chromedp.WaitVisible(chromedp.CSS(toolEditor+" .CodeMirror")),
				setEditor(toolEditor, variables))
		}
		return chromedp.Do(ctx, steps...)
	}
	const response = ".graphiql-response .CodeMirror"
	// run clicks the execute button and waits for a response that mentions
	// want.
	run := func(want string) (map[string]any, error) {
		// GraphiQL takes in an edit a moment after it, as it would after a
		// person's last keystroke.
		time.Sleep(time.Second)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".graphiql-execute-button"))); err != nil {
			return nil, err
		}
		var text string
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			var err error
			text, err = chromedp.Run(ctx, chromedp.Evaluate[string](
				fmt.Sprintf(`document.querySelector(%q).CodeMirror.getValue()`, response)))
			if err != nil {
				return nil, err
			}
			if strings.Contains(text, "errors") {
				return nil, fmt.Errorf("GraphQL errors in the playground: %s", text)
			}
			if strings.Contains(text, want) {
				var out map[string]any
				if err := json.Unmarshal([]byte(text), &out); err != nil {
					return nil, fmt.Errorf("response %q: %w", text, err)
				}
				return out, nil
			}
		}
		return nil, fmt.Errorf("no response with %q; last: %q", want, text)
	}

	if err := chromedp.Do(ctx,
		chromedp.Navigate(svc.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-query-editor .CodeMirror")),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-tab-button")),
	); err != nil {
		t.Fatal(err)
	}
	// The reader's tab works as it comes, with no key.
	if _, err := run(`"headline"`); err != nil {
		t.Fatal(err)
	}
	if err := fill("CreateDraft", ""); err != nil {
		t.Fatal(err)
	}
	created, err := run(`"DRAFT"`)
	if err != nil {
		t.Fatal(err)
	}
	article := created["data"].(map[string]any)["createArticle"].(map[string]any)
	id, slug := article["id"].(string), article["slug"].(string)

	if err := fill("Publish", fmt.Sprintf(`{"id": %q, "at": null}`, id)); err != nil {
		t.Fatal(err)
	}
	if _, err := run(`"PUBLISHED"`); err != nil {
		t.Fatal(err)
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(screenshotDir(t), "playground-published.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)

	// An anonymous reader, over plain HTTP, now gets the story.
	res := svc.Query(t, `query($s: String) { article(slug: $s) { headline status body section { slug } } }`, map[string]any{"s": slug})
	var out struct {
		Article *struct {
			Headline, Status, Body string
			Section                struct{ Slug string }
		}
	}
	res.Decode(t, &out)
	if out.Article == nil || out.Article.Status != "PUBLISHED" || out.Article.Section.Slug != "politics" ||
		!strings.Contains(out.Article.Body, "<strong>pilot</strong>") {
		t.Fatalf("reader got %+v", out.Article)
	}
}

// The playground needs nothing from outside: the page loads only its own
// assets, and they are served.
func TestPlaygroundIsSelfContained(t *testing.T) {
	svc := testenv.NewService(t, testenv.ServiceOptions{})
	res, err := http.Get(svc.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	page, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || strings.Contains(string(page), "//cdn") || strings.Contains(string(page), "https://") {
		t.Fatalf("playground page (%d) loads from outside:\n%s", res.StatusCode, page)
	}
	for _, asset := range []string{"graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js", "playground.js"} {
		if !strings.Contains(string(page), "/playground/"+asset) {
			t.Errorf("page does not load %s", asset)
		}
		r, err := http.Get(svc.URL + "/playground/" + asset)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != 200 {
			t.Errorf("%s: %d", asset, r.StatusCode)
		}
	}
}
