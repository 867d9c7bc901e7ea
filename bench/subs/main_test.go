package main

import (
	"context"
	"io"
	"testing"
)

// The benchmark runs end to end on a small scale, over websockets and over
// event streams on HTTP/2: every subscriber hears every story.
func TestSmallRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the server")
	}
	for _, tr := range []string{"ws", "sse"} {
		t.Run(tr, func(t *testing.T) {
			transport = tr
			defer func() { transport = "ws" }()
			res, err := run(context.Background(), 20, 3, 1, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if res.Deliveries != 20*3 {
				t.Fatalf("%d deliveries, want %d\n%s", res.Deliveries, 20*3, res)
			}
			if res.P50 <= 0 || res.P99 < res.P50 {
				t.Fatalf("implausible latencies:\n%s", res)
			}
			t.Log(res)
		})
	}
}
