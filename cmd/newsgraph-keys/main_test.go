package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// The CLI on the embedded default opens DATA_DIR itself, as an operator runs
// it while the server is stopped.
func TestCreateListRevoke(t *testing.T) {
	env := map[string]string{"DATA_DIR": t.TempDir()}
	getenv := func(k string) string { return env[k] }
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), args, getenv, &out)
		return out.String(), err
	}
	out, err := cli("create", "-name", "wire desk", "-role", "partner", "-rate", "30")
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`id:\s+(\S+)`).FindStringSubmatch(out)
	key := regexp.MustCompile(`key:\s+(ng_\S+)`).FindStringSubmatch(out)
	if id == nil || key == nil {
		t.Fatalf("create printed:\n%s", out)
	}
	out, err = cli("list")
	if err != nil || !strings.Contains(out, id[1]) || !strings.Contains(out, "wire desk") || strings.Contains(out, key[1]) {
		t.Fatalf("list (err %v):\n%s", err, out)
	}
	if out, err = cli("revoke", id[1]); err != nil || !strings.Contains(out, "revoked "+id[1]) {
		t.Fatalf("revoke (err %v):\n%s", err, out)
	}
	if _, err := cli("create", "-name", "x", "-role", "OWNER"); err == nil {
		t.Fatal("an unknown role was accepted")
	}
	if _, err := cli("frobnicate"); err == nil {
		t.Fatal("an unknown command was accepted")
	}
}
