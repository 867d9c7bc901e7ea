package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The benchmark runs end to end, tiny: every request succeeds on both
// servers and the table and targets are printed. No timing is asserted.
func TestBenchmarkRunsClean(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out strings.Builder
	args := []string{"bench", "-n", "200", "-c", "4", "-d", "300ms", "-warmup", "100ms",
		"-redis", testenv.RedisURL(t), "-mongodb", testenv.MongoURI(t)}
	if err := run(ctx, args, func(string) string { return "" }, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{"seeded 200 articles", "req/s", "p99 ms", "hit ratio", "allocs/req",
		"w1 throughput >= 0.9 of raw", "paired rounds", "w3 p99 <= 1.2x raw's", "w2 hit ratio >= 95%"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, w := range []string{"w1", "w2", "w3"} {
		for _, server := range []string{"service", "raw"} {
			if !tableRow(got, w, server) {
				t.Errorf("no %s %s row:\n%s", w, server, got)
			}
		}
	}
}

// tableRow finds the row of workload w on server, which must report zero
// errors (the last column).
func tableRow(out, w, server string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && f[0] == w && f[1] == server {
			return f[len(f)-1] == "0"
		}
	}
	return false
}
