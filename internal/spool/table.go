package spool

import (
	"cmp"
	"slices"
)

// The segment table (Spool.tab): the mapped segments in order of their
// sequence numbers.

// search returns where segment seq is, or would be, in segs.
func search(segs []*segment, seq uint64) (int, bool) {
	return slices.BinarySearchFunc(segs, seq, func(seg *segment, seq uint64) int { return cmp.Compare(seg.seq, seq) })
}

// lookup returns the mapped segment seq, or nil.
func (s *Spool) lookup(seq uint64) *segment {
	segs := *s.tab.Load()
	if i, ok := search(segs, seq); ok {
		return segs[i]
	}
	return nil
}

// atOrAfter returns the first mapped segment from seq on, or nil.
func (s *Spool) atOrAfter(seq uint64) *segment {
	segs := *s.tab.Load()
	if i, _ := search(segs, seq); i < len(segs) {
		return segs[i]
	}
	return nil
}

// addSegment adds seg to the table.
func (s *Spool) addSegment(seg *segment) {
	s.tabMu.Lock()
	defer s.tabMu.Unlock()
	old := *s.tab.Load()
	i, _ := search(old, seg.seq)
	segs := slices.Insert(slices.Clone(old), i, seg)
	s.tab.Store(&segs)
}

// removeSegments takes segments out of the table.
func (s *Spool) removeSegments(gone []*segment) {
	s.tabMu.Lock()
	defer s.tabMu.Unlock()
	segs := slices.DeleteFunc(slices.Clone(*s.tab.Load()), func(seg *segment) bool { return slices.Contains(gone, seg) })
	s.tab.Store(&segs)
}
