// Package testenv gives tests the real components: a MongoDB wire-protocol
// server (MONGODB_URI when set, else one embedded FerretDB per test binary)
// with a fresh database per test, and the service's whole HTTP surface
// served over real HTTP. Nothing here is a mock.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsgraph/newsgraph/internal/devdb"
	"github.com/newsgraph/newsgraph/internal/store"
)

var (
	once    sync.Once
	mongo   string
	server  *devdb.Server
	dataDir string
	initErr error
)

// Main runs a package's tests and stops the embedded database afterwards.
// Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if redisProc != nil {
		_ = redisProc.Process.Kill()
		_ = redisProc.Wait()
	}
	if server != nil {
		server.Close()
		_ = os.RemoveAll(dataDir)
	}
	os.Exit(code)
}

// MongoURI is the database server tests use.
func MongoURI(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if uri := os.Getenv("MONGODB_URI"); uri != "" {
			mongo = uri
			return
		}
		dataDir, initErr = os.MkdirTemp("", "newsgraph-test-db-")
		if initErr != nil {
			return
		}
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
		server, initErr = devdb.Start(dataDir, log)
		if initErr == nil {
			mongo = server.URI()
		}
	})
	if initErr != nil {
		t.Fatalf("start embedded database: %v", initErr)
	}
	return mongo
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// DatabaseName is a fresh database name for t: readable, unique, short
// enough for MongoDB's 63-byte limit.
func DatabaseName(t testing.TB) string {
	name := strings.ToLower(unsafeName.ReplaceAllString(t.Name(), "_"))
	if len(name) > 40 {
		name = name[:40]
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("t_%s_%s", name, hex.EncodeToString(b[:]))
}

// Store opens a store on a fresh database with its indexes, dropped when the
// test ends.
func Store(t testing.TB, opts store.Options) *store.Store {
	t.Helper()
	return StoreAt(t, MongoURI(t), opts)
}

// StoreAt is Store on the server at uri (the tests' server reached another
// way, such as through a Proxy).
func StoreAt(t testing.TB, uri string, opts store.Options) *store.Store {
	t.Helper()
	name := DatabaseName(t)
	st, err := store.Open(uri, name, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := st.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if server != nil {
		// As the embedded default does at start.
		if err := server.IndexIDs(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = st.Drop(ctx)
		_ = st.Close(ctx)
	})
	return st
}
