package devdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the SQLite driver FerretDB itself uses
)

// IDPathIndex is the suffix of the index IndexIDs adds to each
// collection's table.
const IDPathIndex = "_id_path"

// IndexIDs gives every collection of database an SQLite index on the
// expression FerretDB 1.24's SQLite backend filters _id with,
// _ferretdb_sjson->'$._id'. FerretDB's own _id index is on another
// expression (_ferretdb_sjson->"_id"), which SQLite's planner cannot use for
// that filter, so without this every find, update and delete by _id reads
// the collection row by row until it meets the document: a lookup costs in
// proportion to where the story sits in the archive (0.9 ms for the first of
// 50,000 documents, 155 ms for the last, measured here; 0.6 ms for either
// with the index). Collections created after it ran get theirs at the next
// call; it is safe to call at every start.
func (s *Server) IndexIDs(ctx context.Context, database string) error {
	file := filepath.Join(s.dir, database+".sqlite")
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return nil // no collection yet
	}
	// FerretDB holds its own connections to the file: wait for its write
	// transactions rather than fail.
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(30000)")
	if err != nil {
		return fmt.Errorf("open %s: %w", file, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		return fmt.Errorf("list the collections of %s: %w", database, err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, t+IDPathIndex, t)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("index _id of %s.%s: %w", database, t, err)
		}
	}
	return nil
}
