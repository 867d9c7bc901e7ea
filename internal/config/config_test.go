package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsRunTheEmbeddedDemo(t *testing.T) {
	c, err := FromEnv(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || !c.Embedded() || !c.DemoContent || c.DataDir != "./data" ||
		c.MongoDatabase != "newsgraph" || c.RedisURL != "" || c.LogLevel != slog.LevelInfo ||
		c.PublicBaseURL != "http://localhost:8080" || c.DBTimeout != 5*time.Second ||
		!c.DemoKeys() || c.DemoEditorKey != "" || c.SiteName != "newsgraph" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

// Only MongoDB can be written by another process (the import command, a
// script, another deployment), so only there does the index catch up on
// a timer by default; the embedded default's files are this process's.
func TestTheIndexCatchesUpOnATimerOnlyWhereOthersCanWrite(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want time.Duration
	}{
		{nil, -1},
		{map[string]string{"INDEX_CATCHUP_INTERVAL": "1m"}, time.Minute},
		{map[string]string{"MONGODB_URI": "mongodb://db:27017"}, 30 * time.Second},
		{map[string]string{"MONGODB_URI": "mongodb://db:27017", "INDEX_CATCHUP_INTERVAL": "off"}, -1},
	} {
		got, err := FromEnv(envOf(c.env))
		if err != nil || got.IndexCatchUp != c.want {
			t.Errorf("%v: catch-up every %v (%v), want %v", c.env, got.IndexCatchUp, err, c.want)
		}
	}
}

func TestExternalMongoDoesNotLoadDemoUnlessAsked(t *testing.T) {
	c, err := FromEnv(envOf(map[string]string{"MONGODB_URI": "mongodb://db:27017"}))
	if err != nil || c.DemoContent || c.Embedded() || c.DemoKeys() {
		t.Fatalf("got %+v, %v", c, err)
	}
	c, err = FromEnv(envOf(map[string]string{"MONGODB_URI": "mongodb://db:27017", "DEMO_CONTENT": "true"}))
	if err != nil || !c.DemoContent {
		t.Fatalf("got %+v, %v", c, err)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	for k, v := range map[string]string{
		"PORT": "eighty", "LOG_LEVEL": "loud", "DEMO_CONTENT": "maybe",
		"DB_TIMEOUT": "-1s", "PUBLIC_BASE_URL": "ftp://x", "SHUTDOWN_TIMEOUT": "soon",
		"REQUEST_TIMEOUT": "0s", "GRAPHQL_INTROSPECTION": "sometimes", "GRAPHQL_MAX_COMPLEXITY": "lots", "GRAPHQL_MAX_DEPTH": "-3",
		"DEMO_EDITOR_KEY": "short", "EDGE_PURGE_URLS": "http://varnish:6081/,varnish:6081",
	} {
		_, err := FromEnv(envOf(map[string]string{k: v}))
		if err == nil || err.Error()[:len(k)] != k {
			t.Errorf("%s=%s: got %v, want an error naming %s", k, v, err, k)
		}
	}
}

func TestRedactedHidesPassword(t *testing.T) {
	if got := Redacted("mongodb://user:secret@db:27017/x"); got != "mongodb://user:xxxxx@db:27017/x" {
		t.Fatal(got)
	}
}

func TestWebhookAndPreviewSettings(t *testing.T) {
	c, err := FromEnv(envOf(map[string]string{"PUBLIC_BASE_URL": "https://news.example.com/"}))
	if err != nil || c.WebhookRetryBase != 5*time.Second || c.WebhookAllowPrivate || c.PreviewSecret != "" ||
		c.PreviewURLTemplate != "https://news.example.com/preview?slug={slug}&token={token}" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	c, err = FromEnv(envOf(map[string]string{"WEBHOOK_RETRY_BASE": "50ms", "WEBHOOK_ALLOW_PRIVATE": "true",
		"PREVIEW_SECRET": "0123456789abcdef0123456789abcdef", "PREVIEW_URL_TEMPLATE": "https://www.example.com/api/draft?secret={token}"}))
	if err != nil || c.WebhookRetryBase != 50*time.Millisecond || !c.WebhookAllowPrivate ||
		c.PreviewSecret != "0123456789abcdef0123456789abcdef" || c.PreviewURLTemplate != "https://www.example.com/api/draft?secret={token}" {
		t.Fatalf("set: %+v, %v", c, err)
	}
	for k, v := range map[string]string{"WEBHOOK_RETRY_BASE": "0s", "WEBHOOK_ALLOW_PRIVATE": "perhaps",
		"PREVIEW_SECRET": "too-short", "PREVIEW_URL_TEMPLATE": "https://www.example.com/preview"} {
		if _, err := FromEnv(envOf(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q: %v", k, v, err)
		}
	}
}

func TestEdgePurgeURLsAreAList(t *testing.T) {
	c, err := FromEnv(envOf(map[string]string{"EDGE_PURGE_URLS": " http://127.0.0.1:6081/ ,https://edge-2.example/purge,"}))
	if err != nil || len(c.EdgePurgeURLs) != 2 || c.EdgePurgeURLs[0] != "http://127.0.0.1:6081/" || c.EdgePurgeURLs[1] != "https://edge-2.example/purge" {
		t.Fatalf("got %q, %v", c.EdgePurgeURLs, err)
	}
}

func TestConfirmWait(t *testing.T) {
	if c, err := FromEnv(envOf(nil)); err != nil || c.ConfirmWait != 250*time.Millisecond {
		t.Fatalf("default: %v, %v", c.ConfirmWait, err)
	}
	if c, err := FromEnv(envOf(map[string]string{"INVALIDATION_CONFIRM_WAIT": "2s"})); err != nil || c.ConfirmWait != 2*time.Second {
		t.Fatalf("set: %v, %v", c.ConfirmWait, err)
	}
	for _, v := range []string{"0s", "-1s", "soon"} {
		if _, err := FromEnv(envOf(map[string]string{"INVALIDATION_CONFIRM_WAIT": v})); err == nil || !strings.Contains(err.Error(), "INVALIDATION_CONFIRM_WAIT") {
			t.Errorf("%q: %v", v, err)
		}
	}
}
