package devdb_test

import (
	"runtime/debug"
	"testing"

	"github.com/newsgraph/newsgraph/internal/devdb"
)

// The embedded default raises GOGC unless the operator set it.
func TestTuneGCLeavesAnOperatorsGOGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)

	t.Setenv("GOGC", "150")
	if _, tuned := devdb.TuneGC(); tuned {
		t.Error("tuned the collector although GOGC is set")
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set by the operator, yet the collector's target became %d", got)
	}

	t.Setenv("GOGC", "")
	if percent, tuned := devdb.TuneGC(); !tuned || percent != devdb.GCPercent {
		t.Errorf("GOGC unset: tuned=%v to %d, want %d", tuned, percent, devdb.GCPercent)
	}
	if got := debug.SetGCPercent(100); got != devdb.GCPercent {
		t.Errorf("the collector's target is %d, want %d", got, devdb.GCPercent)
	}
}
