package cache

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A whole response another instance stored in Redis before a write to what
// it was built from is not served once that write's tombstones are laid
// here; one stored after the write is.
func TestAResponseInRedisFromBeforeAWriteIsNotServed(t *testing.T) {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.Ping(ctx).Err(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Redis at 127.0.0.1:6379: %v", err)
		}
		t.Skipf("no Redis at 127.0.0.1:6379: %v", err)
	}
	prefix := "newsgraph-test-stale-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	t.Cleanup(func() {
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	c := New(Options{Redis: rdb, Prefix: prefix})
	stored := func(key string, seq int64) {
		e := &cachedResponse{Body: []byte(`{"data":{"article":{"headline":"old"}}}`), ETag: `"e"`,
			Tags: []string{"article:1"}, Expires: time.Now().Add(time.Minute), Seq: seq}
		e.prepare()
		c.responses.share(ctx, key, e)
	}
	stored("response:before", 4)
	// The write, numbered 7, as applied here.
	c.gen.saw(7)
	c.gen.bury(tagName("article:1"), 7)
	stored("response:after", 7)
	if c.responses.lookup(ctx, "response:before") != nil {
		t.Error("a response stored before a write to its story was served after it")
	}
	if c.responses.lookup(ctx, "response:after") == nil {
		t.Error("a response stored after the write was not served")
	}
}
