// Package preview issues the signed, expiring links editors use to see a
// story in the real website before readers can: a JWT (HS256, through
// github.com/golang-jwt/jwt/v5, which pins the algorithm and checks expiry
// and audience for us) naming one story and its preview generation. Tokens
// are never stored; revoking bumps the story's generation, which every
// older token then fails to match.
package preview

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/newsgraph/newsgraph/internal/news"
)

// Link lifetimes.
const (
	DefaultTTL = time.Hour
	MaxTTL     = 7 * 24 * time.Hour
)

// audience keeps a preview token from being taken for any other JWT signed
// with the same key, and the other way round.
const audience = "newsgraph-preview"

// secretSetting is where a generated signing secret is kept.
const secretSetting = "previewSecret"

// Store is what previews read and write. PreviewGeneration is 0 for a
// story never revoked. KeepSetting stores value under name unless one is
// there already, and returns what is stored.
type Store interface {
	ArticleByID(ctx context.Context, id string) (*news.Article, error)
	PreviewGeneration(ctx context.Context, articleID string) (int, error)
	BumpPreviewGeneration(ctx context.Context, articleID string) error
	KeepSetting(ctx context.Context, name, value string) (string, error)
}

// Options configure the links.
type Options struct {
	Store Store
	// Secret signs tokens (PREVIEW_SECRET); empty: one generated once and
	// kept in MongoDB, so every instance signs and checks alike.
	Secret string
	// URLTemplate is the website's preview address, {token}, {slug} and
	// {id} filled in (PREVIEW_URL_TEMPLATE).
	URLTemplate string
}

// Links issues, checks and revokes preview links.
type Links struct {
	o   Options
	now func() time.Time

	mu  sync.Mutex
	key []byte
}

// New builds the links; the generated secret is fetched on first use.
func New(o Options) *Links {
	l := &Links{o: o, now: time.Now}
	if o.Secret != "" {
		l.key = []byte(o.Secret)
	}
	return l
}

// Link is an issued preview link.
type Link struct {
	Token     string
	URL       string
	ExpiresAt time.Time
}

type claims struct {
	// Generation is the story's preview generation when issued.
	Generation int `json:"gen"`
	jwt.RegisteredClaims
}

func (l *Links) signingKey(ctx context.Context) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.key != nil {
		return l.key, nil
	}
	var raw [48]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	kept, err := l.o.Store.KeepSetting(ctx, secretSetting, base64.RawStdEncoding.EncodeToString(raw[:]))
	if err != nil {
		return nil, err
	}
	l.key = []byte(kept)
	return l.key, nil
}

// Create issues a link to one story, whatever its status, valid for
// ttlSeconds (default an hour, at most seven days).
func (l *Links) Create(ctx context.Context, articleID string, ttlSeconds *int) (*Link, error) {
	id, err := news.ParseGlobalIDOf("articleId", news.NodeArticle, articleID)
	if err != nil {
		return nil, err
	}
	ttl := DefaultTTL
	if ttlSeconds != nil {
		if *ttlSeconds < 1 || time.Duration(*ttlSeconds)*time.Second > MaxTTL {
			return nil, news.BadInput("ttlSeconds", "must be between 1 and %d (seven days)", int(MaxTTL/time.Second))
		}
		ttl = time.Duration(*ttlSeconds) * time.Second
	}
	a, err := l.o.Store.ArticleByID(ctx, id)
	if err != nil {
		return nil, err
	}
	gen, err := l.o.Store.PreviewGeneration(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	key, err := l.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	var jti [12]byte
	_, _ = rand.Read(jti[:])
	now := l.now().UTC().Truncate(time.Second)
	exp := now.Add(ttl)
	token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{Generation: gen, RegisteredClaims: jwt.RegisteredClaims{
		Subject: a.ID, Audience: jwt.ClaimStrings{audience}, IssuedAt: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp), ID: base64.RawURLEncoding.EncodeToString(jti[:]),
	}}).SignedString(key)
	if err != nil {
		return nil, err
	}
	link := strings.NewReplacer("{token}", url.QueryEscape(token), "{slug}", url.QueryEscape(a.Slug),
		"{id}", url.QueryEscape(news.GlobalID(news.NodeArticle, a.ID))).Replace(l.o.URLTemplate)
	return &Link{Token: token, URL: link, ExpiresAt: exp}, nil
}

// MaxTokenLength bounds what is parsed; issued tokens are far shorter.
const MaxTokenLength = 2048

// Article is the story a token opens, in whatever status; nil when the
// token is expired, tampered with, revoked or the story is gone.
func (l *Links) Article(ctx context.Context, token string) (*news.Article, error) {
	if token == "" || len(token) > MaxTokenLength {
		return nil, nil
	}
	key, err := l.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	var c claims
	_, err = jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithAudience(audience),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(l.now))
	if err != nil || c.Subject == "" {
		return nil, nil
	}
	gen, err := l.o.Store.PreviewGeneration(ctx, c.Subject)
	if err != nil {
		return nil, err
	}
	if gen != c.Generation {
		return nil, nil
	}
	a, err := l.o.Store.ArticleByID(ctx, c.Subject)
	if errors.Is(err, news.ErrNotFound) {
		return nil, nil
	}
	return a, err
}

// Revoke makes every link issued so far to the story stop working.
func (l *Links) Revoke(ctx context.Context, articleID string) error {
	id, err := news.ParseGlobalIDOf("articleId", news.NodeArticle, articleID)
	if err != nil {
		return err
	}
	if _, err := l.o.Store.ArticleByID(ctx, id); err != nil {
		return err
	}
	return l.o.Store.BumpPreviewGeneration(ctx, id)
}
