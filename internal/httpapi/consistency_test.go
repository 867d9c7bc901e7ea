package httpapi_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
	"github.com/newsgraph/newsgraph/internal/testenv"
)

// Two instances share one database and one Redis. Editors save through one
// while readers read through both; after each save returns, no reader on
// either instance is served an older headline.
func TestNoStaleReadAfterAWriteAcrossInstancesUnderConcurrentEdits(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	a := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix})
	b := testenv.NewService(t, testenv.ServiceOptions{Redis: rdb, Prefix: prefix, Store: a.Store})
	art := testenv.NewArticle("live-count", time.Now().Add(-time.Hour))
	a.AddArticles(t, art)
	editor := a.NewKey(t, news.RoleEditor)
	id := news.GlobalID(news.NodeArticle, art.ID)
	read := func(svc *testenv.Service) string {
		var d struct{ Article *struct{ Headline string } }
		svc.Query(t, `query($s: String) { article(slug: $s) { headline } }`, map[string]any{"s": art.Slug}).Decode(t, &d)
		if d.Article == nil {
			return ""
		}
		return d.Article.Headline
	}

	// Readers hammer both instances the whole time (warming every tier).
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, svc := range []*testenv.Service{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					read(svc)
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	version := 1
	for i := 1; i <= 8; i++ {
		want := fmt.Sprintf("Count update %d", i)
		var d struct{ UpdateArticle struct{ Version int } }
		a.Query(t, `mutation($id: ID!, $v: Int!, $h: String!) { updateArticle(id: $id, expectedVersion: $v, input: {headline: $h}) { version } }`,
			map[string]any{"id": id, "v": version, "h": want}, "Authorization", editor).Decode(t, &d)
		version = d.UpdateArticle.Version
		for name, svc := range map[string]*testenv.Service{"writing": a, "other": b} {
			if got := read(svc); got != want {
				t.Fatalf("after save %d returned, the %s instance served %q", i, name, got)
			}
		}
	}
}
