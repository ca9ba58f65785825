// Package benchcpu reports the CPU time a benchmark's process spends per
// operation, on every thread (the producer's delivery goroutines, the
// emulator, the collector), next to the wall time go test reports. On a
// shared machine the wall time of one loop also counts the time other
// processes held the CPUs; the CPU time does not, and it is the cost that
// a logging call adds to an application.
package benchcpu

import (
	"testing"
	"time"
)

// Meter measures the process's CPU time from Start to Report.
type Meter struct{ start time.Duration }

// Start starts measuring. Call it right before the benchmark loop.
func Start() Meter { return Meter{start: Process()} }

// Report adds the metric "cpu-ns/op": the process's CPU time since Start
// divided by b.N. Call it right after the loop (after b.StopTimer, before
// any draining that should not count). Where the process's CPU time is
// not available it reports nothing.
func (m Meter) Report(b *testing.B) {
	end := Process()
	if end == 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(end-m.start)/float64(b.N), "cpu-ns/op")
}
