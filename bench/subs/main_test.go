package main

import (
	"context"
	"io"
	"os"
	"testing"
)

// TestMain lets the test binary play the editor process, as the command's
// own binary does.
func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == "editor" {
		serveEditor()
		return
	}
	os.Exit(m.Run())
}

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
			ed, err := startEditor(context.Background(), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer ed.stop()
			res, err := run(context.Background(), ed, 20, 3, 1, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if res.Deliveries != 20*3 {
				t.Fatalf("%d deliveries, want %d\n%s", res.Deliveries, 20*3, res)
			}
			if res.P50 <= 0 || res.P99 < res.P50 || res.PublishP50 <= 0 {
				t.Fatalf("implausible latencies:\n%s", res)
			}
			t.Log(res)
		})
	}
}
