// Package auth decides who is asking: API keys (random, shown once, stored
// only as a SHA-256 hash), the HTTP middleware that turns a bearer key into
// a news.Viewer, and per-key rate limits.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/newsgraph/newsgraph/internal/news"
)

// KeyPrefix starts every key this service issues, so a leaked key is easy to
// recognise in logs and by secret scanners.
const KeyPrefix = "ng_"

// MinKeyLength bounds keys given from outside (DEMO_EDITOR_KEY): anything
// shorter is too easy to guess.
const MinKeyLength = 16

// DefaultRatePerMinute is a new key's limit when none is given.
const DefaultRatePerMinute = 600

// MaxRatePerMinute bounds what one key may be granted.
const MaxRatePerMinute = 100000

// Key is an API key as stored: never the key itself, only its hash.
type Key struct {
	ID            string     `bson:"_id"`
	Name          string     `bson:"name"`
	Role          news.Role  `bson:"role"`
	RatePerMinute int        `bson:"ratePerMinute"`
	Hash          string     `bson:"hash"`
	CreatedAt     time.Time  `bson:"createdAt"`
	RevokedAt     *time.Time `bson:"revokedAt,omitempty"`
}

// Revoked reports whether the key no longer opens anything.
func (k *Key) Revoked() bool { return k.RevokedAt != nil }

// Store keeps keys. KeyByHash and RevokeKey return news.ErrNotFound for
// unknown keys.
type Store interface {
	InsertKey(ctx context.Context, k *Key) error
	KeyByHash(ctx context.Context, hash string) (*Key, error)
	Keys(ctx context.Context) ([]*Key, error)
	RevokeKey(ctx context.Context, id string, at time.Time) (*Key, error)
}

// Hash is how a key is stored and looked up.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CacheTTL is how long a looked-up key is trusted without asking the
// database again; a revocation takes effect everywhere within it.
const CacheTTL = 5 * time.Second

// Keys issues, lists, revokes and checks keys.
type Keys struct {
	store Store
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	key     *Key // nil: known not to exist
	expires time.Time
}

// NewKeys builds the key service over a store.
func NewKeys(store Store) *Keys {
	return &Keys{store: store, now: time.Now, cache: map[string]cachedKey{}}
}

// Create issues a new key and returns it with the secret, which is shown
// this once and never stored.
func (ks *Keys) Create(ctx context.Context, name string, role news.Role, ratePerMinute int) (string, *Key, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	secret := KeyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	k, err := ks.Register(ctx, secret, name, role, ratePerMinute)
	return secret, k, err
}

// Register stores a key whose secret is given (DEMO_EDITOR_KEY). A secret
// that is already registered is left as it is, revoked or not, and returned.
func (ks *Keys) Register(ctx context.Context, secret, name string, role news.Role, ratePerMinute int) (*Key, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "" || len(name) > 100:
		return nil, news.BadInput("name", "must be 1 to 100 characters")
	case !role.Valid():
		return nil, news.BadInput("role", "must be PARTNER, EDITOR or ADMIN")
	case ratePerMinute < 0 || ratePerMinute > MaxRatePerMinute:
		return nil, news.BadInput("ratePerMinute", "must be between 1 and %d", MaxRatePerMinute)
	case len(secret) < MinKeyLength:
		return nil, news.BadInput("key", "must be at least %d characters", MinKeyLength)
	}
	if ratePerMinute == 0 {
		ratePerMinute = DefaultRatePerMinute
	}
	hash := Hash(secret)
	if k, err := ks.store.KeyByHash(ctx, hash); err == nil {
		return k, nil
	} else if !errors.Is(err, news.ErrNotFound) {
		return nil, err
	}
	var id [9]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	k := &Key{
		ID: "key_" + base64.RawURLEncoding.EncodeToString(id[:]), Name: name, Role: role,
		RatePerMinute: ratePerMinute, Hash: hash, CreatedAt: ks.now().UTC().Truncate(time.Millisecond),
	}
	if err := ks.store.InsertKey(ctx, k); err != nil {
		return nil, err
	}
	return k, nil
}

// List returns every key, revoked ones included, oldest first.
func (ks *Keys) List(ctx context.Context) ([]*Key, error) { return ks.store.Keys(ctx) }

// Revoke stops a key from working (within CacheTTL on every instance).
func (ks *Keys) Revoke(ctx context.Context, id string) (*Key, error) {
	k, err := ks.store.RevokeKey(ctx, id, ks.now().UTC().Truncate(time.Millisecond))
	if errors.Is(err, news.ErrNotFound) {
		return nil, news.BadInput("id", "no key %q", id)
	}
	if err == nil {
		ks.mu.Lock()
		delete(ks.cache, k.Hash)
		ks.mu.Unlock()
	}
	return k, err
}

// Authenticate finds the live key for a secret: news.ErrUnauthenticated when
// it is unknown or revoked.
func (ks *Keys) Authenticate(ctx context.Context, secret string) (*Key, error) {
	hash := Hash(secret)
	now := ks.now()
	ks.mu.Lock()
	c, ok := ks.cache[hash]
	ks.mu.Unlock()
	if !ok || now.After(c.expires) {
		k, err := ks.store.KeyByHash(ctx, hash)
		if err != nil && !errors.Is(err, news.ErrNotFound) {
			return nil, err
		}
		c = cachedKey{key: k, expires: now.Add(CacheTTL)}
		ks.mu.Lock()
		if len(ks.cache) > 10000 {
			// Guessed keys must not grow the cache without bound.
			clear(ks.cache)
		}
		ks.cache[hash] = c
		ks.mu.Unlock()
	}
	if c.key == nil || c.key.Revoked() {
		return nil, news.ErrUnauthenticated
	}
	return c.key, nil
}
