// Package race reports whether the binary was built with the race
// detector.
//
// The detector makes sync.Pool drop entries at random, so allocation
// counts only mean something without it: the allocation tests (named
// Test...Allocs) skip when Enabled is set, and CI runs them without -race:
//
//	go test -count=1 -run 'Allocs$' ./...
package race
