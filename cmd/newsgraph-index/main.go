// Command newsgraph-index rebuilds the query index from MongoDB on demand:
//
//	newsgraph-index rebuild
//
// It opens the server's database (MONGODB_URI, MONGODB_DATABASE, DATA_DIR)
// as newsgraph-keys does and the index under INDEX_DIR (default
// DATA_DIR/index); the server must be stopped (the index is one process's
// at a time). Progress goes to standard error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/newsgraph/newsgraph/internal/config"
	"github.com/newsgraph/newsgraph/internal/devdb"
	"github.com/newsgraph/newsgraph/internal/index"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "newsgraph-index:", err)
		os.Exit(1)
	}
}

const usage = `usage: newsgraph-index rebuild

Rebuilds the query index (INDEX_DIR, default DATA_DIR/index) from every
story in the database. Stop the server first.`

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "rebuild" {
		return errors.New(usage)
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return err
	}
	if cfg.IndexInMemory {
		return errors.New("INDEX_IN_MEMORY is set: the server rebuilds its index at every start")
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	st, closeDB, err := devdb.OpenOffline(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	// Start over: whatever was on disk, the rebuilt index holds exactly
	// what MongoDB does.
	if err := os.RemoveAll(cfg.IndexDir); err != nil {
		return err
	}
	ix, err := index.Open(ctx, cfg.IndexDir, index.Options{Source: st, Logger: log})
	if err != nil {
		return err
	}
	started := time.Now()
	if err := ix.Rebuild(ctx); err != nil {
		_ = ix.Close()
		return err
	}
	n, _ := ix.Count()
	log.Info("done", "stories", n, "took", time.Since(started).Round(time.Millisecond).String(), "dir", cfg.IndexDir)
	return ix.Close()
}
