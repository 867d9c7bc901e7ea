// Package config reads the service's settings from the environment. Every
// variable has a default, so an empty environment runs the embedded demo.
package config

import (
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the whole of the service's settings.
type Config struct {
	// Port is the HTTP port (PORT, default 8080).
	Port int
	// Host is the interface to listen on (HOST, default all interfaces).
	Host string
	// MongoURI is the MongoDB to use (MONGODB_URI). Empty means the
	// embedded FerretDB on SQLite under DataDir.
	MongoURI string
	// MongoDatabase is the database name (MONGODB_DATABASE, default newsgraph).
	MongoDatabase string
	// DataDir holds the embedded database's files (DATA_DIR, default ./data).
	DataDir string
	// RedisURL is the shared cache (REDIS_URL); empty means in-process only.
	RedisURL string
	// RedisPrefix starts every key and channel newsgraph uses in Redis
	// (REDIS_PREFIX, default "newsgraph:").
	RedisPrefix string
	// PublicBaseURL is the newsroom website canonical URLs point at
	// (PUBLIC_BASE_URL, default http://localhost:8080).
	PublicBaseURL string
	// AllowedOrigins are the hosts whose pages may open live websockets
	// besides this host and PUBLIC_BASE_URL's (ALLOWED_ORIGINS, comma
	// separated; "*.example.com" patterns, or "https://host" to pin the
	// scheme).
	AllowedOrigins []string
	// LiveConnectionsPerKey bounds open subscription connections per API
	// key, and per client address for readers (LIVE_CONNECTIONS_PER_KEY).
	LiveConnectionsPerKey int
	// SiteName is how feeds, embeds and oEmbed name the newsroom
	// (SITE_NAME, default newsgraph).
	SiteName string
	// LogLevel is debug, info, warn or error (LOG_LEVEL, default info).
	LogLevel slog.Level
	// DemoContent loads the demo corpus into an empty database
	// (DEMO_CONTENT; default true on the embedded database, false otherwise).
	DemoContent bool
	// DemoEditorKey, when set (DEMO_EDITOR_KEY), is registered as an EDITOR
	// API key at start, so a README can give a new user a known key. At
	// least 16 characters.
	DemoEditorKey string
	// DBTimeout bounds each database call (DB_TIMEOUT, default 5s).
	DBTimeout time.Duration
	// ShutdownTimeout is how long in-flight requests get to finish
	// (SHUTDOWN_TIMEOUT, default 15s).
	ShutdownTimeout time.Duration
	// RequestTimeout bounds one request's work (REQUEST_TIMEOUT, default 10s).
	RequestTimeout time.Duration
	// Introspection and field suggestions (GRAPHQL_INTROSPECTION, default
	// true; switch off in production if the schema should not be browsable).
	Introspection bool
	// MaxComplexity and MaxDepth bound one operation
	// (GRAPHQL_MAX_COMPLEXITY, default 3000; GRAPHQL_MAX_DEPTH, default 12).
	MaxComplexity, MaxDepth int
	// WebhookRetryBase is the first webhook retry's delay, doubled each
	// time (WEBHOOK_RETRY_BASE, default 5s); WebhookAllowPrivate lets
	// webhooks reach private and loopback addresses (WEBHOOK_ALLOW_PRIVATE,
	// default false).
	WebhookRetryBase    time.Duration
	WebhookAllowPrivate bool
	// PreviewSecret signs preview links (PREVIEW_SECRET, at least 32
	// characters; when unset one is generated and kept in MongoDB so every
	// instance agrees). PreviewURLTemplate is the website's preview address,
	// with {token}, {slug} and {id} filled in (PREVIEW_URL_TEMPLATE, default
	// PUBLIC_BASE_URL + "/preview?slug={slug}&token={token}").
	PreviewSecret      string
	PreviewURLTemplate string
	// EdgePurgeURLs are the CDN edges every write purges by tag
	// (EDGE_PURGE_URLS, comma separated http(s) URLs, e.g. a Varnish
	// running deploy/varnish/default.vcl; see docs/EDGE.md).
	EdgePurgeURLs []string
	// TrustedDocuments is a persisted-documents.json manifest
	// (TRUSTED_DOCUMENTS): when set, callers without a key may run only
	// the documents it lists. Reloaded on SIGHUP.
	TrustedDocuments string
	// IndexDir holds the query index (INDEX_DIR, default DATA_DIR/index);
	// IndexInMemory keeps it in memory instead, rebuilt at every start
	// (INDEX_IN_MEMORY, default false).
	IndexDir      string
	IndexInMemory bool
	// IndexCatchUp is how often the index reads what other processes wrote
	// to MongoDB (INDEX_CATCHUP_INTERVAL, default 30s with MONGODB_URI,
	// "off" on the embedded default, which no other process can write to;
	// "off" never). A start catches up either way.
	IndexCatchUp time.Duration
	// ConfirmWait bounds how long a write waits for every other instance
	// to confirm it has dropped (and re-indexed) what the write replaced
	// (INVALIDATION_CONFIRM_WAIT, default 250ms).
	ConfirmWait time.Duration
}

// Embedded reports whether the service runs its own database.
func (c Config) Embedded() bool { return c.MongoURI == "" }

// DemoKeys reports whether a first start creates an EDITOR and an ADMIN key
// and logs them: on the embedded demo only, never on a real MongoDB.
func (c Config) DemoKeys() bool { return c.Embedded() }

// Addr is the listen address.
func (c Config) Addr() string { return c.Host + ":" + strconv.Itoa(c.Port) }

// FromEnv reads the configuration through getenv (os.Getenv in production,
// a map in tests).
func FromEnv(getenv func(string) string) (Config, error) {
	env := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Host:             env("HOST", ""),
		MongoURI:         env("MONGODB_URI", ""),
		MongoDatabase:    env("MONGODB_DATABASE", "newsgraph"),
		DataDir:          env("DATA_DIR", "./data"),
		RedisURL:         env("REDIS_URL", ""),
		RedisPrefix:      env("REDIS_PREFIX", "newsgraph:"),
		DemoEditorKey:    env("DEMO_EDITOR_KEY", ""),
		PublicBaseURL:    strings.TrimRight(env("PUBLIC_BASE_URL", "http://localhost:8080"), "/"),
		SiteName:         env("SITE_NAME", "newsgraph"),
		TrustedDocuments: env("TRUSTED_DOCUMENTS", ""),
	}
	for _, o := range strings.Split(getenv("ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	for _, u := range strings.Split(getenv("EDGE_PURGE_URLS"), ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return Config{}, fmt.Errorf("EDGE_PURGE_URLS: %q is not an http(s) URL", u)
		}
		c.EdgePurgeURLs = append(c.EdgePurgeURLs, u)
	}
	var err error
	if c.Port, err = strconv.Atoi(env("PORT", "8080")); err != nil || c.Port < 0 || c.Port > 65535 {
		return Config{}, fmt.Errorf("PORT: %q is not a port number", getenv("PORT"))
	}
	if err := c.LogLevel.UnmarshalText([]byte(env("LOG_LEVEL", "info"))); err != nil {
		return Config{}, fmt.Errorf("LOG_LEVEL: %q is not one of debug, info, warn, error", getenv("LOG_LEVEL"))
	}
	if c.DemoContent, err = strconv.ParseBool(env("DEMO_CONTENT", strconv.FormatBool(c.Embedded()))); err != nil {
		return Config{}, fmt.Errorf("DEMO_CONTENT: %q is not true or false", getenv("DEMO_CONTENT"))
	}
	if c.DBTimeout, err = time.ParseDuration(env("DB_TIMEOUT", "5s")); err != nil || c.DBTimeout <= 0 {
		return Config{}, fmt.Errorf("DB_TIMEOUT: %q is not a positive duration like 5s", getenv("DB_TIMEOUT"))
	}
	if c.ShutdownTimeout, err = time.ParseDuration(env("SHUTDOWN_TIMEOUT", "15s")); err != nil || c.ShutdownTimeout <= 0 {
		return Config{}, fmt.Errorf("SHUTDOWN_TIMEOUT: %q is not a positive duration like 15s", getenv("SHUTDOWN_TIMEOUT"))
	}
	if c.RequestTimeout, err = time.ParseDuration(env("REQUEST_TIMEOUT", "10s")); err != nil || c.RequestTimeout <= 0 {
		return Config{}, fmt.Errorf("REQUEST_TIMEOUT: %q is not a positive duration like 10s", getenv("REQUEST_TIMEOUT"))
	}
	if c.Introspection, err = strconv.ParseBool(env("GRAPHQL_INTROSPECTION", "true")); err != nil {
		return Config{}, fmt.Errorf("GRAPHQL_INTROSPECTION: %q is not true or false", getenv("GRAPHQL_INTROSPECTION"))
	}
	if c.MaxComplexity, err = strconv.Atoi(env("GRAPHQL_MAX_COMPLEXITY", "3000")); err != nil || c.MaxComplexity < 1 {
		return Config{}, fmt.Errorf("GRAPHQL_MAX_COMPLEXITY: %q is not a positive number", getenv("GRAPHQL_MAX_COMPLEXITY"))
	}
	if c.MaxDepth, err = strconv.Atoi(env("GRAPHQL_MAX_DEPTH", "12")); err != nil || c.MaxDepth < 1 {
		return Config{}, fmt.Errorf("GRAPHQL_MAX_DEPTH: %q is not a positive number", getenv("GRAPHQL_MAX_DEPTH"))
	}
	if u, err := url.Parse(c.PublicBaseURL); err == nil && u.Host != "" {
		c.AllowedOrigins = append(c.AllowedOrigins, u.Host)
	}
	if c.LiveConnectionsPerKey, err = strconv.Atoi(env("LIVE_CONNECTIONS_PER_KEY", "100")); err != nil || c.LiveConnectionsPerKey < 1 {
		return Config{}, fmt.Errorf("LIVE_CONNECTIONS_PER_KEY: %q is not a positive number", getenv("LIVE_CONNECTIONS_PER_KEY"))
	}
	if c.WebhookRetryBase, err = time.ParseDuration(env("WEBHOOK_RETRY_BASE", "5s")); err != nil || c.WebhookRetryBase <= 0 {
		return Config{}, fmt.Errorf("WEBHOOK_RETRY_BASE: %q is not a positive duration like 5s", getenv("WEBHOOK_RETRY_BASE"))
	}
	if c.WebhookAllowPrivate, err = strconv.ParseBool(env("WEBHOOK_ALLOW_PRIVATE", "false")); err != nil {
		return Config{}, fmt.Errorf("WEBHOOK_ALLOW_PRIVATE: %q is not true or false", getenv("WEBHOOK_ALLOW_PRIVATE"))
	}
	if c.PreviewSecret = env("PREVIEW_SECRET", ""); c.PreviewSecret != "" && len(c.PreviewSecret) < 32 {
		return Config{}, fmt.Errorf("PREVIEW_SECRET: must be at least 32 characters")
	}
	c.PreviewURLTemplate = env("PREVIEW_URL_TEMPLATE", c.PublicBaseURL+"/preview?slug={slug}&token={token}")
	if !strings.Contains(c.PreviewURLTemplate, "{token}") {
		return Config{}, fmt.Errorf("PREVIEW_URL_TEMPLATE: must contain {token}")
	}
	c.IndexDir = env("INDEX_DIR", filepath.Join(c.DataDir, "index"))
	if c.IndexInMemory, err = strconv.ParseBool(env("INDEX_IN_MEMORY", "false")); err != nil {
		return Config{}, fmt.Errorf("INDEX_IN_MEMORY: %q is not true or false", getenv("INDEX_IN_MEMORY"))
	}
	// The embedded database's files are open in this process only, so
	// nothing else can write to it: every write reaches the index through
	// the desk. There a catch-up would only re-read the whole archive
	// (FerretDB's filter on updatedAt reaches no index), every interval.
	catchUp := "30s"
	if c.Embedded() {
		catchUp = "off"
	}
	if v := env("INDEX_CATCHUP_INTERVAL", catchUp); v == "off" {
		c.IndexCatchUp = -1
	} else if c.IndexCatchUp, err = time.ParseDuration(v); err != nil || c.IndexCatchUp <= 0 {
		return Config{}, fmt.Errorf("INDEX_CATCHUP_INTERVAL: %q is not a positive duration like 30s, or off", v)
	}
	if c.ConfirmWait, err = time.ParseDuration(env("INVALIDATION_CONFIRM_WAIT", "250ms")); err != nil || c.ConfirmWait <= 0 {
		return Config{}, fmt.Errorf("INVALIDATION_CONFIRM_WAIT: %q is not a positive duration like 250ms", getenv("INVALIDATION_CONFIRM_WAIT"))
	}
	if c.DemoEditorKey != "" && len(c.DemoEditorKey) < 16 {
		return Config{}, fmt.Errorf("DEMO_EDITOR_KEY: must be at least 16 characters")
	}
	if u, err := url.Parse(c.PublicBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Config{}, fmt.Errorf("PUBLIC_BASE_URL: %q is not an http(s) URL", c.PublicBaseURL)
	}
	return c, nil
}

// Redacted is the MongoDB URI with any password removed, for logs.
func Redacted(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return "(unparseable URI)"
	}
	return u.Redacted()
}
