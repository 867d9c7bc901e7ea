package devdb

import (
	"os"
	"runtime/debug"
)

// GCPercent is the garbage collector's target (GOGC) a process running the
// embedded FerretDB uses when the operator has not set GOGC. FerretDB
// decodes every document it reads through encoding/json, so a cold page
// allocates megabytes while the live heap stays small (37 MB in the cold
// benchmark's process at 100,000 stories); with Go's default of 100 the
// collector then runs every few requests. At 400 the heap may grow to five
// times the live set between collections: list pages at 100,000 stories
// went from 44-56 ms to 28-36 ms (p50) in the cold benchmark.
const GCPercent = 400

// TuneGC sets GCPercent unless GOGC is set, and says what it did.
func TuneGC() (percent int, tuned bool) {
	if v, ok := os.LookupEnv("GOGC"); ok && v != "" {
		return 0, false
	}
	debug.SetGCPercent(GCPercent)
	return GCPercent, true
}
