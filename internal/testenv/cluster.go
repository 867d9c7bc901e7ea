package testenv

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisCluster starts a throwaway Redis Cluster of masters redis-server
// processes on free loopback ports (no replicas, nothing kept on disk
// beyond the test's temporary directory), waits until every node reports
// cluster_state:ok and returns their addresses. The servers are killed when
// the test ends. It skips the test when redis-server or redis-cli is
// missing.
func RedisCluster(t testing.TB, masters int) []string {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed: %v", bin, err)
		}
	}
	dir := t.TempDir()
	addrs := make([]string, masters)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		p := strconv.Itoa(port)
		cmd := exec.Command("redis-server", "--port", p, "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes-"+p+".conf"),
			"--dir", dir, "--save", "", "--appendonly", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addrs[i] = "127.0.0.1:" + p
	}
	for _, a := range addrs {
		waitFor(t, 10*time.Second, func() bool { return answers(a) }, "redis-server at "+a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		host, port, _ := net.SplitHostPort(a)
		waitFor(t, 20*time.Second, func() bool {
			out, err := exec.Command("redis-cli", "-h", host, "-p", port, "cluster", "info").Output()
			return err == nil && strings.Contains(string(out), "cluster_state:ok")
		}, "cluster_state:ok on "+a)
	}
	return addrs
}

// waitFor polls ok every 50ms until it holds or the time is up.
func waitFor(t testing.TB, limit time.Duration, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal(fmt.Sprintf("timed out after %s waiting for %s", limit, what))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
