//go:build unix

package spool

import (
	"slices"
	"syscall"
	"testing"
	"time"
)

// cpu returns the process's user and system CPU time so far.
func cpu() (user, sys time.Duration) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// BenchmarkAppend appends ~330-byte records and acknowledges each 4096
// appends later, as a healthy producer does, so segment turnover and
// reclaim are included. Besides ns/op it reports CPU per record (user
// and system, the background goroutine included) and the p50/p99 of
// Append calls. The seg= variants show the kernel's cost per byte falling
// with the segment size (DefaultSegmentBytes). bench/spool compares it
// with tidwall/wal and bbolt.
func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		name string
		sync time.Duration
		seg  int64
	}{{"sync=1s", 0, 0}, {"sync=off", -1, 0}, {"sync=10ms", 10 * time.Millisecond, 0}, {"seg=1MiB", 0, 1 << 20}, {"seg=8MiB", 0, 8 << 20}, {"seg=128MiB", 0, 128 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := Open(Options{Dir: b.TempDir(), Sync: bc.sync, SegmentBytes: bc.seg})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			r := rec(1)
			const window = 4096
			var ring [window]ID
			lat := make([]time.Duration, 0, b.N)
			u0, s0 := cpu()
			i := 0
			for b.Loop() {
				t := time.Now()
				id, err := s.Append(r)
				lat = append(lat, time.Since(t))
				if err != nil {
					b.Fatal(err)
				}
				if old := ring[i%window]; old != 0 {
					if err := s.Ack(old); err != nil {
						b.Fatal(err)
					}
				}
				ring[i%window] = id
				i++
			}
			u1, s1 := cpu()
			slices.Sort(lat)
			n := float64(len(lat))
			b.ReportMetric(float64(u1-u0)/n, "user-ns/op")
			b.ReportMetric(float64(s1-s0)/n, "sys-ns/op")
			b.ReportMetric(float64(lat[len(lat)/2]), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100]), "p99-ns")
		})
	}
}
