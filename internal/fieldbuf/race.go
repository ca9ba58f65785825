//go:build race

package fieldbuf

// RaceEnabled reports whether the race detector is on. It makes sync.Pool
// drop entries at random, so allocation counts only mean something without
// it: allocation tests (named Test...Allocs) skip when it is set, and CI
// runs them without -race: go test -count=1 -run 'Allocs$' ./...
const RaceEnabled = true
