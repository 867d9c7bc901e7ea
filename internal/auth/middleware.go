package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/newsgraph/newsgraph/internal/news"
)

type refusalKey struct{}

// Refusal is why the request's credentials were refused (news.ErrUnauthenticated
// or a *news.RateLimitedError), nil when they were not. The GraphQL layer
// answers such a request with that error and executes nothing.
func Refusal(ctx context.Context) error {
	err, _ := ctx.Value(refusalKey{}).(error)
	return err
}

// Middleware puts the viewer in the request's context: a reader without an
// Authorization header, the key's role with a valid bearer key. A key that
// is malformed, unknown or revoked, or over its rate limit, is refused
// (never quietly treated as a reader).
var varyAuthorization = []string{"Authorization"}

func Middleware(keys *Keys, limiter Limiter, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// An editor's answer (drafts included) must never be served from a
		// shared cache to a reader, or the other way round.
		if h := w.Header(); h["Vary"] == nil {
			h["Vary"] = varyAuthorization // shared: headers are only read
		} else {
			h.Add("Vary", "Authorization")
		}
		header := r.Header.Get("Authorization")
		if header == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		refuse := func(err error) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, refusalKey{}, err)))
		}
		key, err := keys.Bearer(ctx, header)
		if err != nil {
			if !errors.Is(err, news.ErrUnauthenticated) {
				log.ErrorContext(ctx, "key lookup failed", "err", err)
			}
			refuse(err)
			return
		}
		wait, err := limiter.Allow(ctx, key.ID, key.RatePerMinute)
		if err != nil {
			// A rate limiter outage must not take the newsroom down with it.
			log.WarnContext(ctx, "rate limiter unavailable; request let through", "key", key.ID, "err", err)
		}
		if wait > 0 {
			secs := retryAfterSeconds(wait)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			refuse(&news.RateLimitedError{RetryAfterSeconds: secs})
			return
		}
		ctx = news.WithViewer(ctx, news.Viewer{Role: key.Role, KeyID: key.ID, KeyName: key.Name})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Bearer checks an Authorization value ("Bearer <key>"): the key, or
// news.ErrUnauthenticated when it is malformed, unknown or revoked. HTTP
// requests and live connections (at connection init) both go through it.
func (k *Keys) Bearer(ctx context.Context, header string) (*Key, error) {
	scheme, secret, ok := strings.Cut(header, " ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return nil, news.ErrUnauthenticated
	}
	return k.Authenticate(ctx, secret)
}
