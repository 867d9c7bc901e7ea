package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var (
	redisOnce sync.Once
	redisURL  string
	redisErr  error
	redisProc *exec.Cmd
)

// RedisURL is the Redis tests use: REDIS_URL when set, else the one at
// 127.0.0.1:6379, else a redis-server this test binary starts on a free
// port (stopped by Main).
func RedisURL(t testing.TB) string {
	t.Helper()
	redisOnce.Do(func() {
		if u := os.Getenv("REDIS_URL"); u != "" {
			redisURL = u
			return
		}
		if answers("127.0.0.1:6379") {
			redisURL = "redis://127.0.0.1:6379/0"
			return
		}
		var port int
		port, redisProc, redisErr = StartRedisServer()
		redisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	})
	if redisErr != nil {
		t.Fatalf("no Redis at 127.0.0.1:6379 and none could be started (install redis-server or set REDIS_URL): %v", redisErr)
	}
	return redisURL
}

func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// StartRedisServer starts a throwaway redis-server on a free loopback port,
// keeping nothing on disk. Tests that kill Redis on purpose use their own.
func StartRedisServer() (int, *exec.Cmd, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var cmd *exec.Cmd
	err = RestartRedisServer(port, &cmd)
	return port, cmd, err
}

// RestartRedisServer starts redis-server on port and stores the process in
// *cmd, waiting until it answers.
func RestartRedisServer(port int, cmd **exec.Cmd) error {
	c := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	if err := c.Start(); err != nil {
		return err
	}
	*cmd = c
	deadline := time.Now().Add(10 * time.Second)
	for !answers(fmt.Sprintf("127.0.0.1:%d", port)) {
		if time.Now().After(deadline) {
			_ = c.Process.Kill()
			return fmt.Errorf("redis-server on port %d did not answer", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Redis returns a client on the tests' Redis and a key prefix of the test's
// own; the test's keys are deleted when it ends (never FLUSHALL).
func Redis(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	opts, err := redis.ParseURL(RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	prefix := DatabaseName(t) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		_ = client.Close()
	})
	return client, prefix
}
