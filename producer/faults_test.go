package producer_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// The tests in this file offer a steady stream of records under the faults
// SLS documents (retriable partition errors, cut connections) and a
// rotating STS key, and count by unique record id what the emulator stored:
// a record stored twice is a duplicate, an accepted record neither stored
// nor reported is lost. The default suite runs short versions in a synctest
// bubble (the emulator in memory, time on the bubble's clock);
// SLSKAFKA_FAULT_RUNS=1 adds the 20-second runs over TCP on the wall clock
// that the figures in the README come from.

// longFaultRuns reports whether the long fault runs are asked for.
func longFaultRuns(t *testing.T) {
	t.Helper()
	if os.Getenv("SLSKAFKA_FAULT_RUNS") == "" {
		t.Skip("set SLSKAFKA_FAULT_RUNS=1 for the 20-second fault runs")
	}
}

// faults are what a load run does to the endpoint while records flow.
type faults struct {
	// storageErrors and networkErrors are the shares of produce requests
	// answered KafkaStorageException and NetworkException.
	storageErrors, networkErrors float64
	// cutEvery, if set, drops every connection this often.
	cutEvery time.Duration
	// rotateEvery, if set, issues a new STS key this often, each valid for
	// three periods.
	rotateEvery time.Duration
}

// loadRun describes a run: rate records per second for duration, on an
// emulator with shards shards and latency added to every produce response.
type loadRun struct {
	rate     int
	duration time.Duration
	// settle is how long after the last record is offered the run waits
	// for it to be delivered.
	settle   time.Duration
	shards   int
	latency  time.Duration
	inMemory bool // serve in memory (for a synctest bubble)
	faults   faults
	mutate   func(*producer.Config)
}

// loadResult is what a run offered, accepted and stored.
type loadResult struct {
	offered, accepted int
	refused           int // Log returned an error
	stored            int // logs the emulator stored
	unique            int // distinct record ids among them
	inTime            int // distinct accepted ids stored when the settle period ended
	lost              int // accepted, not stored, not reported failed
	maxLogWait        time.Duration
	faultsServed      int64
	elapsed           time.Duration // from the first record to the end of the settle period
	stats             producer.Stats
}

func (r loadResult) duplicates() int { return r.stored - r.unique }

// dupShare is the share of stored logs that are second copies.
func (r loadResult) dupShare() float64 {
	if r.stored == 0 {
		return 0
	}
	return float64(r.duplicates()) / float64(r.stored)
}

func (r loadResult) String() string {
	return fmt.Sprintf("offered %d, accepted %d, refused %d, stored %d (unique %d, duplicates %d = %.2f%%), in time %d (%.1f%%), lost %d, faults served %d, "+
		"failed %d, unconfirmed %d, partition retries %d, retired %d, max delivery latency %v, max Log wait %v, elapsed %v",
		r.offered, r.accepted, r.refused, r.stored, r.unique, r.duplicates(), 100*r.dupShare(), r.inTime, 100*float64(r.inTime)/float64(max(r.accepted, 1)), r.lost,
		r.faultsServed, r.stats.Failed, r.stats.Unconfirmed, r.stats.PartitionRetries, r.stats.ConnectionsRetired, r.stats.MaxDeliveryLatency, r.maxLogWait, r.elapsed)
}

// run offers records at lr.rate while lr.faults happen, waits lr.settle
// for them, then closes the producer and counts what the emulator stored.
func (lr loadRun) run(t *testing.T) loadResult {
	t.Helper()
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": lr.shards}, InMemory: lr.inMemory, Latency: lr.latency})
	var issued atomic.Int64
	var failedRecords atomic.Int64
	p := newProducer(t, s, func(c *producer.Config) {
		if lr.inMemory {
			c.DialContext = s.DialContext
		}
		if lr.faults.rotateEvery > 0 {
			c.Credentials = stsIssuer(s, 3*lr.faults.rotateEvery, &issued)
		}
		c.OnError = func(f producer.Failure) { failedRecords.Add(int64(f.Records)) }
		if lr.mutate != nil {
			lr.mutate(c)
		}
	})
	if err := p.LogSync(timeout(t, 30*time.Second), "app", rec("id", "warmup")); err != nil {
		t.Fatalf("warm-up record: %v", err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	stopFaults := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopFaults()
	lr.faults.start(&wg, stop, s)

	var res loadResult
	const tick = 10 * time.Millisecond
	perTick := max(1, lr.rate*int(tick)/int(time.Second))
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	start := time.Now()
	accepted := make([]int, 0, lr.rate*int(lr.duration/time.Second+1))
	for time.Since(start) < lr.duration {
		<-ticker.C // pacing the load, not synchronisation
		for range perTick {
			id := res.offered
			res.offered++
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			t0 := time.Now()
			err := p.Log(ctx, "app", rec("id", strconv.Itoa(id), "msg", "a log line of ordinary length, for the fault runs"))
			res.maxLogWait = max(res.maxLogWait, time.Since(t0))
			cancel()
			if err != nil {
				res.refused++
				continue
			}
			accepted = append(accepted, id)
		}
	}
	res.accepted = len(accepted)

	// Wait out the settle period (or until every record is finished),
	// then see what is stored by then.
	fctx, cancel := context.WithTimeout(context.Background(), lr.settle)
	p.Flush(fctx)
	cancel()
	res.elapsed = time.Since(start)
	res.inTime = countStored(s.Logs("app"), accepted)

	stopFaults()
	cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	if err := p.Close(cctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	cancel()
	res.stats = p.Stats()
	res.faultsServed = s.Stats().FaultsServed

	logs := s.Logs("app")
	seen := make(map[string]int, len(logs))
	for _, l := range logs {
		if id := l.Fields["id"]; id != "warmup" {
			seen[id]++
			res.stored++
		}
	}
	res.unique = len(seen)
	missing := len(accepted) - countStored(logs, accepted)
	res.lost = max(0, missing-int(failedRecords.Load()))
	if a := res.stats; a.Accepted != a.Delivered+a.Failed+a.Unconfirmed+a.BufferedRecords {
		t.Errorf("Accepted != Delivered + Failed + Unconfirmed + BufferedRecords: %+v", a)
	}
	return res
}

// countStored counts the ids in accepted that logs hold.
func countStored(logs []slstest.Log, accepted []int) int {
	have := make(map[string]bool, len(logs))
	for _, l := range logs {
		have[l.Fields["id"]] = true
	}
	n := 0
	for _, id := range accepted {
		if have[strconv.Itoa(id)] {
			n++
		}
	}
	return n
}

// start starts the goroutines that inject f until stop is closed.
func (f faults) start(wg *sync.WaitGroup, stop <-chan struct{}, s *slstest.Server) {
	if f.storageErrors > 0 || f.networkErrors > 0 {
		wg.Go(func() {
			// Keep the injected faults at their share of the produce
			// requests served so far.
			var storage, network int
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			base := s.Stats().ProduceRequests
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				n := float64(s.Stats().ProduceRequests - base)
				if due := int(n*f.storageErrors) - storage; due > 0 {
					s.FailNext("app", slstest.StorageError, due)
					storage += due
				}
				if due := int(n*f.networkErrors) - network; due > 0 {
					s.FailNext("app", slstest.NetworkError, due)
					network += due
				}
			}
		})
	}
	if f.cutEvery > 0 {
		wg.Go(func() {
			tick := time.NewTicker(f.cutEvery)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					s.DropConnections()
				}
			}
		})
	}
}

// runInBubble runs lr inside a synctest bubble, with the emulator in
// memory, so that its faults, latency and timeouts are on the bubble's
// clock.
func runInBubble(t *testing.T, lr loadRun) loadResult {
	t.Helper()
	var res loadResult
	lr.inMemory = true
	synctest.Test(t, func(t *testing.T) { res = lr.run(t) })
	t.Log(res)
	return res
}

// partitionErrors is the duplicate run: 10% storage and 5% network
// errors at a 30 ms round trip.
var partitionErrors = faults{storageErrors: 0.10, networkErrors: 0.05}

// A retriable partition error makes the client send the failed batch
// again; the batches of the same shard that were in flight beside it and
// were acknowledged must not be sent again. With 10% storage and 5%
// network errors at a 30 ms round trip and default settings, no stored
// log is a second copy: every fault is an answer, so no acknowledgement
// was lost.
func TestPartitionErrorDuplicatesNothing(t *testing.T) {
	res := runInBubble(t, loadRun{rate: 5000, duration: 10 * time.Second, settle: 30 * time.Second, shards: 2, latency: 30 * time.Millisecond, faults: partitionErrors})
	if res.faultsServed < 5 || res.stats.PartitionRetries == 0 {
		t.Fatalf("%d faults served, %d partition retries: the run did not exercise partition errors", res.faultsServed, res.stats.PartitionRetries)
	}
	if res.lost != 0 || res.unique != res.accepted {
		t.Errorf("%d of %d accepted records stored, %d lost", res.unique, res.accepted, res.lost)
	}
	if d := res.duplicates(); d != 0 {
		t.Errorf("%d of %d stored logs are duplicates (%.2f%%), want none: no acknowledgement was lost", d, res.stored, 100*res.dupShare())
	}
}
