package cache

import "testing"

// A read keeps what it built only if no invalidation was being applied
// when it began and none began or ended before it finished: one that began
// in the middle of an application could have read a copy the application
// had not yet dropped.
func TestReadsKeepNothingBuiltAcrossAnInvalidation(t *testing.T) {
	var e epochs
	before, keep := e.begin()
	if !keep || !e.still(before) {
		t.Fatal("a quiet read may not keep what it built")
	}
	done := e.apply()
	if e.still(before) {
		t.Error("a read that began before an invalidation may keep what it built")
	}
	during, keep := e.begin()
	if keep {
		t.Error("a read that began during an invalidation may keep what it built")
	}
	done()
	if e.still(during) {
		t.Error("the epoch did not move on when the invalidation ended")
	}
	after, keep := e.begin()
	if !keep || !e.still(after) {
		t.Error("a read after the invalidation may not keep what it built")
	}
}
