package main

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/slskafka/slskafka/internal/benchcpu"
)

// percentile returns the p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// appendResult is one round of the append phase of one candidate.
type appendResult struct {
	cpu, wall          time.Duration // per record, acknowledgements and reclaim included
	p50, p99, p999, mx time.Duration // of Append calls
	ack                time.Duration // per record, time in Ack calls
}

// appendPhase appends n records and acknowledges each once it is window
// records old, in blocks of 256 whose order is shuffled (shards answer
// out of order), as a healthy producer would.
func appendPhase(c candidate, dir string, n, window int, value []byte, sync time.Duration) (appendResult, error) {
	st, err := c.open(dir, sync)
	if err != nil {
		return appendResult{}, err
	}
	lat := make([]time.Duration, n)
	ids := make([]uint64, n)
	block := make([]uint64, 0, 256)
	rng := rand.New(rand.NewPCG(1, 2))
	var ackTime time.Duration
	ack := func(from, to int) error {
		block = append(block[:0], ids[from:to]...)
		rng.Shuffle(len(block), func(i, j int) { block[i], block[j] = block[j], block[i] })
		t := time.Now()
		for _, id := range block {
			if err := st.Ack(id); err != nil {
				return err
			}
		}
		ackTime += time.Since(t)
		return nil
	}
	runtime.GC()
	cpu0, t0 := benchcpu.Process(), time.Now()
	acked := 0
	for i := range n {
		s := time.Now()
		id, err := st.Append(s.UnixNano(), value)
		lat[i] = time.Since(s)
		if err != nil {
			return appendResult{}, err
		}
		ids[i] = id
		if i-window-acked >= 256 {
			if err := ack(acked, acked+256); err != nil {
				return appendResult{}, err
			}
			acked += 256
		}
	}
	for acked < n {
		to := min(n, acked+256)
		if err := ack(acked, to); err != nil {
			return appendResult{}, err
		}
		acked = to
	}
	wall, cpu := time.Since(t0), benchcpu.Process()-cpu0
	if err := st.Close(); err != nil {
		return appendResult{}, err
	}
	slices.Sort(lat)
	per := func(d time.Duration) time.Duration { return d / time.Duration(n) }
	return appendResult{
		cpu: per(cpu), wall: per(wall), ack: per(ackTime),
		p50: percentile(lat, 0.5), p99: percentile(lat, 0.99), p999: percentile(lat, 0.999), mx: lat[n-1],
	}, nil
}

// median returns the median of what f picks from each result.
func median[T any](rs []T, f func(T) time.Duration) time.Duration {
	ds := make([]time.Duration, len(rs))
	for i, r := range rs {
		ds[i] = f(r)
	}
	slices.Sort(ds)
	if len(ds) == 0 {
		return 0
	}
	return ds[len(ds)/2]
}

// pacedResult is the Append latency at a steady rate.
type pacedResult struct {
	p50, p99, p999, mx time.Duration
	over1ms, over10ms  int
	records            int
}

// pacedPhase appends rate records a second for d, in bursts of rate/1000
// every millisecond (a producer's callers arrive spread out, not back to
// back), acknowledging each window records later.
func pacedPhase(c candidate, dir string, rate int, d time.Duration, window int, value []byte, sync time.Duration) (pacedResult, error) {
	st, err := c.open(dir, sync)
	if err != nil {
		return pacedResult{}, err
	}
	defer st.Close()
	var lat []time.Duration
	var ids []uint64
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	start := time.Now()
	for time.Since(start) < d {
		<-t.C
		due := int(time.Since(start) * time.Duration(rate) / time.Second)
		for len(lat) < due {
			s := time.Now()
			id, err := st.Append(s.UnixNano(), value)
			lat = append(lat, time.Since(s))
			if err != nil {
				return pacedResult{}, err
			}
			ids = append(ids, id)
			if len(ids) > window {
				if err := st.Ack(ids[len(ids)-window-1]); err != nil {
					return pacedResult{}, err
				}
			}
		}
	}
	r := pacedResult{records: len(lat)}
	for _, l := range lat {
		if l > time.Millisecond {
			r.over1ms++
		}
		if l > 10*time.Millisecond {
			r.over10ms++
		}
	}
	slices.Sort(lat)
	r.p50, r.p99, r.p999, r.mx = percentile(lat, 0.5), percentile(lat, 0.99), percentile(lat, 0.999), lat[len(lat)-1]
	return r, nil
}
