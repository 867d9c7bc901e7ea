// Package devdb runs FerretDB in-process on SQLite: a real MongoDB
// wire-protocol server for the zero-setup default and for tests, so nobody
// has to install a database to run or test newsgraph.
package devdb

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Server is a running embedded FerretDB.
type Server struct {
	dir    string
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// Start serves the SQLite databases under dir on a free loopback port.
// log should be at warn level or above: FerretDB logs every connection at
// info.
func Start(dir string, log *slog.Logger) (*Server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    quietAttrs(log),
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded FerretDB: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{dir: dir, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = f.Run(ctx)
	}()
	// MongoDBURI waits for the listener to be bound.
	s.uri = f.MongoDBURI()
	return s, nil
}

// URI is the mongodb:// address of the server.
func (s *Server) URI() string { return s.uri }

// Close stops the server and waits for it to release its files.
func (s *Server) Close() {
	s.cancel()
	<-s.done
}
