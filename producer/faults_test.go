package producer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/endpoint"
	"github.com/slskafka/slskafka/internal/benchcpu"
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
	// trace, if set, logs every second what was delivered and served.
	trace bool
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
	lostAnswers       int64         // produce requests written whose answer never came
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
	return fmt.Sprintf("offered %d, accepted %d, refused %d, stored %d (unique %d, duplicates %d = %.2f%%, produce answers lost %d), in time %d (%.1f%%), lost %d, faults served %d, "+
		"failed %d, unconfirmed %d, partition retries %d, retired %d, max delivery latency %v, max Log wait %v, elapsed %v",
		r.offered, r.accepted, r.refused, r.stored, r.unique, r.duplicates(), 100*r.dupShare(), r.lostAnswers, r.inTime, 100*float64(r.inTime)/float64(max(r.accepted, 1)), r.lost,
		r.faultsServed, r.stats.Failed, r.stats.Unconfirmed, r.stats.PartitionRetries, r.stats.ConnectionsRetired, r.stats.MaxDeliveryLatency, r.maxLogWait, r.elapsed)
}

// run offers records at lr.rate while lr.faults happen, waits lr.settle
// for them, then closes the producer and counts what the emulator stored.
func (lr loadRun) run(t *testing.T) loadResult {
	t.Helper()
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": lr.shards}, InMemory: lr.inMemory, Latency: lr.latency})
	var issued atomic.Int64
	var failedRecords atomic.Int64
	lost := &lostAnswers{}
	p := newProducer(t, s, func(c *producer.Config) {
		c.Hooks = append(c.Hooks, lost)
		if lr.inMemory {
			c.DialContext = tcpLikeDial(s)
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
	if lr.trace {
		wg.Go(func() { traceRun(t, stop, s, p) })
	}

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
	res.lostAnswers = lost.n.Load()

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

// traceRun logs every second what changed in the producer's and the
// emulator's counters, until stop is closed.
func traceRun(t *testing.T, stop <-chan struct{}, s *slstest.Server, p *producer.Producer) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var prev producer.Stats
	var prevS slstest.Stats
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		st, ss := p.Stats(), s.Stats()
		t.Logf("delivered +%d, buffered %d, partition retries +%d, produce requests +%d, faults +%d, connections +%d (open %d), authorization errors +%d",
			st.Delivered-prev.Delivered, st.BufferedRecords, st.PartitionRetries-prev.PartitionRetries,
			ss.ProduceRequests-prevS.ProduceRequests, ss.FaultsServed-prevS.FaultsServed, ss.Connections-prevS.Connections, ss.OpenConnections, ss.AuthorizationErr-prevS.AuthorizationErr)
		prev, prevS = st, ss
	}
}

// lostAnswers counts produce requests that were written and never
// answered (the connection ended first): the only ones at-least-once
// delivery may store twice.
type lostAnswers struct{ n atomic.Int64 }

func (l *lostAnswers) OnBrokerE2E(_ kgo.BrokerMetadata, key int16, e kgo.BrokerE2E) {
	if key == 0 && e.WriteErr == nil && e.ReadErr != nil {
		l.n.Add(1)
	}
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

// tcpLikeDial dials the in-memory emulator with connections that fail as
// TCP connections do once the server has closed them: a write still
// succeeds (the kernel buffers it) and the read after it finds the end of
// the stream. A net.Pipe refuses the write instead, which the client takes
// as a request never sent and retries at once on a new connection; what
// the tests need to see is the request that was sent and never answered.
func tcpLikeDial(s *slstest.Server) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := s.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return tcpLike{c}, nil
	}
}

type tcpLike struct{ net.Conn }

func (c tcpLike) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if errors.Is(err, io.ErrClosedPipe) {
		return len(b), nil // the next Read reports the closed stream
	}
	return n, err
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

// allFaults is the combined run: partition errors, every
// connection cut every 2 s, and STS keys rotating every 2 s, together.
var allFaults = faults{storageErrors: 0.10, networkErrors: 0.05, cutEvery: 2 * time.Second, rotateEvery: 2 * time.Second}

// checkKeptFlowing fails the test unless a run under faults delivered at
// least 90% of what it offered by the end of its settle period, lost
// nothing and kept delivery latency under 10 s. Offered, not accepted: a
// stall shows as records refused (MaxBlock, shedding), not as a Log that
// blocks.
func checkKeptFlowing(t *testing.T, res loadResult) {
	t.Helper()
	if res.lost != 0 {
		t.Errorf("%d accepted records lost", res.lost)
	}
	if res.inTime*10 < res.offered*9 {
		t.Errorf("%d of %d offered records (%.1f%%; %d refused) delivered by the end of the run plus its settle period, want at least 90%%",
			res.inTime, res.offered, 100*float64(res.inTime)/float64(max(res.offered, 1)), res.refused)
	}
	if l := res.stats.MaxDeliveryLatency; l >= 10*time.Second {
		t.Errorf("max delivery latency %v, want under 10 s", l)
	}
}

// Partition errors, connections cut every 2 s and STS keys rotating every
// 2 s, all at once, keep records flowing: at least 90% of what was offered
// is delivered within the run plus 10 s, nothing is lost, and delivery
// latency stays under 10 s.
func TestFaultsTogetherKeepFlowing(t *testing.T) {
	res := runInBubble(t, loadRun{rate: 5000, duration: 12 * time.Second, settle: 10 * time.Second, shards: 4, faults: allFaults})
	if res.faultsServed < 5 || res.stats.CredentialRotations == 0 {
		t.Fatalf("%d faults served, %d credential rotations: the run did not exercise the faults", res.faultsServed, res.stats.CredentialRotations)
	}
	checkKeptFlowing(t, res)
	if res.duplicates() > 0 && res.lostAnswers == 0 {
		t.Errorf("%d duplicates, but every produce request was answered", res.duplicates())
	}
	// The bubble's clock is exact: a record meets a partition error's
	// pause (RetryBackoff, 1 s) once or, rarely, two or three times in a
	// row; a cut connection costs it 50 ms. Waiting a whole RetryBackoff
	// after each cut stalled records for 7 s here.
	if l := res.stats.MaxDeliveryLatency; l >= 4*time.Second {
		t.Errorf("max delivery latency %v, want under 4 s", l)
	}
}

// The runs, on the wall clock over TCP: 20 s at 12k records/s
// under every fault at once, five times; each must keep flowing.
func TestLongFaultsTogetherKeepFlowing(t *testing.T) {
	longFaultRuns(t)
	for i := range 5 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			res := loadRun{rate: 12000, duration: 20 * time.Second, settle: 10 * time.Second, shards: 4, faults: allFaults}.run(t)
			t.Log(res)
			checkKeptFlowing(t, res)
		})
	}
}

// The duplicate run on the wall clock over TCP: 20 s at 12k
// records/s, 10% storage and 5% network errors, a 30 ms round trip, at the
// default MaxInflight and at 5 for comparison.
func TestLongPartitionErrorDuplicates(t *testing.T) {
	longFaultRuns(t)
	for _, inflight := range []int{0, 5} {
		t.Run(fmt.Sprintf("MaxInflight=%d", inflight), func(t *testing.T) {
			res := loadRun{rate: 12000, duration: 20 * time.Second, settle: 30 * time.Second, shards: 4, latency: 30 * time.Millisecond, faults: partitionErrors,
				mutate: func(c *producer.Config) { c.MaxInflight = inflight }}.run(t)
			t.Log(res)
			if inflight == 0 && res.dupShare() > 0.01 {
				t.Errorf("%.2f%% of stored logs are duplicates at default settings, want at most 1%%", 100*res.dupShare())
			}
		})
	}
}

// BenchmarkThroughputAt30msRTT logs b.N records as fast as the producer
// takes them to an emulator (in another process, so cpu-ns/op is the
// producer's) that answers each produce request 30 ms late, and waits
// until all are acknowledged: at MaxInflight 1 (the default) and 5. Run
// it a few times (-count) so that both sides see the machine's noise.
func BenchmarkThroughputAt30msRTT(b *testing.B) {
	addr := startEmulatorProcess(b, 30*time.Millisecond)
	for _, inflight := range []int{1, 5} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			p, err := producer.New(addr.config(func(c *producer.Config) { c.MaxInflight = inflight }))
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			ctx := context.Background()
			r := rec("msg", "a log line of ordinary length, for the throughput run", "id", "0")
			if err := p.LogSync(ctx, "app", r); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu := benchcpu.Start()
			for i := range b.N {
				r.Fields[1].Value = strconv.Itoa(i)
				if err := p.Log(ctx, "app", r); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			cpu.Report(b)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(p.Stats().MaxDeliveryLatency.Milliseconds()), "max-latency-ms")
		})
	}
}

// A request written on a connection the server has since closed (SLS
// restarting a front end, a NAT dropping an idle flow) fails when its
// response cannot be read; the client retries it on a new connection at
// once, not after RetryBackoff, which is SLS's pacing for partition errors
// and would stall every shard behind a connection nobody knew was dead.
func TestBrokenConnectionRetriedAtOnce(t *testing.T) {
	synctest.Test(t, testBrokenConnectionRetriedAtOnce)
}

func testBrokenConnectionRetriedAtOnce(t *testing.T) {
	const backoff = 5 * time.Second
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2}, InMemory: true})
	p := newProducer(t, s, func(c *producer.Config) {
		c.DialContext = tcpLikeDial(s)
		c.RetryBackoff = backoff
	})
	ctx := timeout(t, time.Minute)
	if err := p.LogSync(ctx, "app", rec("id", "warm")); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		s.DropConnections() // idle: the client learns of it on its next request
		start := time.Now()
		if err := p.LogSync(ctx, "app", rec("id", strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		// The bubble's clock: only the backoff and the emulator's
		// timers move it.
		if took := time.Since(start); took >= time.Second {
			t.Errorf("cut %d: delivered after %v, want the first retry's %v (RetryBackoff is %v)", i, took, 50*time.Millisecond, backoff)
		} else {
			t.Logf("cut %d: delivered after %v", i, took)
		}
	}
	if n := len(s.Logs("app")); n != 4 {
		t.Errorf("stored %d logs, want 4", n)
	}
}

// checkServerClosedTimeout fails the test unless err, the end of a record
// sent to a server that closed every connection, is ErrDeliveryTimeout
// (and nothing else) at the record's deadline, names the closing server
// and blames neither TLS nor SASL.
func checkServerClosedTimeout(t *testing.T, err error, took, deliveryTimeout time.Duration, inBubble bool) {
	t.Helper()
	checkOneSentinel(t, "LogSync", err, producer.ErrDeliveryTimeout)
	if err == nil {
		return
	}
	checkContains(t, "LogSync", err.Error(), "connection closed by the server")
	for _, blame := range []string{"TLS misconfigured", "TLS missing", "is SASL", "CA bundle"} {
		if strings.Contains(err.Error(), blame) {
			t.Errorf("LogSync: %q blames %q, but no TLS alert came", err, blame)
		}
	}
	if took < deliveryTimeout {
		t.Errorf("failed after %v, before its DeliveryTimeout (%v): given up on instead of retried", took, deliveryTimeout)
	}
	// On a synctest bubble's clock "at its deadline" is exact: a record
	// fails within the deadline window's granularity after it (about
	// 200 ms, README). On a real clock, a loaded machine may add more.
	if inBubble && took > deliveryTimeout+500*time.Millisecond {
		t.Errorf("failed after %v, well past its DeliveryTimeout (%v)", took, deliveryTimeout)
	}
}

// An endpoint at its connection cap accepts each new connection and closes
// it at once. Records wait for a connection until their DeliveryTimeout and
// then fail with ErrDeliveryTimeout saying that the server closed the
// connection, not ErrRejected after a few attempts with a hint that TLS is
// misconfigured.
func TestServerAtConnectionCapIsRetried(t *testing.T) {
	synctest.Test(t, testServerAtConnectionCapIsRetried)
}

func testServerAtConnectionCapIsRetried(t *testing.T) {
	const deliveryTimeout = producer.DefaultDeliveryTimeout
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, InMemory: true, MaxConnections: 2})
	inMemory := func(c *producer.Config) { c.DialContext = tcpLikeDial(s) }
	// Another producer takes every connection the emulator allows.
	holder := newProducer(t, s, inMemory)
	if err := holder.LogSync(timeout(t, time.Minute), "app", rec("id", "holder")); err != nil {
		t.Fatal(err)
	}
	if open := s.Stats().OpenConnections; open != 2 {
		t.Fatalf("the first producer holds %d connections, the test needs it to hold the cap (2)", open)
	}
	p := newProducer(t, s, func(c *producer.Config) {
		inMemory(c)
		c.DeliveryTimeout = deliveryTimeout
	})
	start := time.Now()
	err := p.LogSync(timeout(t, 2*deliveryTimeout), "app", rec("id", "capped"))
	checkServerClosedTimeout(t, err, time.Since(start), deliveryTimeout, true)
	if s.Stats().RejectedConnections < 3 {
		t.Errorf("the emulator closed %d connections at its cap: the test did not exercise it", s.Stats().RejectedConnections)
	}
	t.Logf("after %v: %v", time.Since(start), err)
}

// closingDial dials connections whose server end is closed as soon as it
// is reached, as a proxy in trouble does.
func closingDial(context.Context, string, string) (net.Conn, error) {
	client, server := net.Pipe()
	server.Close()
	return tcpLike{client}, nil
}

// A server that accepts every connection and closes it at once: records
// are retried until their DeliveryTimeout and fail with ErrDeliveryTimeout
// naming the closing server, without franz-go's guess that TLS is
// misconfigured.
func TestServerClosingEveryConnectionIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const deliveryTimeout = producer.DefaultDeliveryTimeout
		s := slstest.New(t, slstest.Config{InMemory: true}) // for a project and credentials; never reached
		p := newProducer(t, s, func(c *producer.Config) {
			c.DialContext = closingDial
			c.DeliveryTimeout = deliveryTimeout
		})
		start := time.Now()
		err := p.LogSync(timeout(t, 2*deliveryTimeout), "app", rec("id", "closed"))
		checkServerClosedTimeout(t, err, time.Since(start), deliveryTimeout, true)
		t.Logf("after %v: %v", time.Since(start), err)
	})
}

// The same over TCP: a listener on 127.0.0.1 that accepts and closes.
func TestServerClosingEveryTCPConnectionIsRetried(t *testing.T) {
	const deliveryTimeout = 2 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	})
	ep, err := endpoint.Parse(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := slstest.New(t, slstest.Config{}) // for a project, credentials and a CA; never reached
	p := newProducer(t, s, func(c *producer.Config) {
		c.Endpoint = ep
		c.DeliveryTimeout = deliveryTimeout
	})
	start := time.Now()
	err = p.LogSync(timeout(t, time.Minute), "app", rec("id", "closed"))
	checkServerClosedTimeout(t, err, time.Since(start), deliveryTimeout, false)
	t.Logf("after %v: %v", time.Since(start), err)
}
