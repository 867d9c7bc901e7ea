package devdb

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/newsgraph/newsgraph/internal/config"
	"github.com/newsgraph/newsgraph/internal/store"
)

// OpenOffline opens the database the server is configured for, as a
// command-line tool does: MongoDB at MONGODB_URI, or the embedded database
// in DATA_DIR, which FerretDB's SQLite files allow only while the server is
// stopped. close releases both.
func OpenOffline(ctx context.Context, cfg config.Config) (st *store.Store, close func(), err error) {
	uri := cfg.MongoURI
	closeDB := func() {}
	var db *Server
	if cfg.Embedded() {
		if db, err = Start(cfg.DataDir, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
			return nil, nil, fmt.Errorf("open the embedded database in %s (is the server running? stop it first): %w", cfg.DataDir, err)
		}
		uri, closeDB = db.URI(), db.Close
	}
	st, err = store.OpenWithIndexes(ctx, uri, cfg.MongoDatabase, store.Options{Timeout: cfg.DBTimeout})
	if err == nil && db != nil {
		if err = db.IndexIDs(ctx, cfg.MongoDatabase); err != nil {
			st.Shutdown()
		}
	}
	if err != nil {
		closeDB()
		return nil, nil, err
	}
	return st, func() { st.Shutdown(); closeDB() }, nil
}
