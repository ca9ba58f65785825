package producer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/internal/ledger"
	"github.com/slskafka/slskafka/internal/spool"
)

// This file is one record's life after Log accepted it (accept, in
// producer.go, validates and encodes it into memory the budget gives):
// every change of a pending's state is here, through pending.to, and so
// is every place its fate is decided but one: decide, beside the
// sentinels in errors.go, says what becomes of it after an error. What a
// record passes through is in files of their own, each a type that owns
// its state and says so: the memory budget (budget.go), the hand-off queue
// (handoff.go), the deadline windows (deadline.go), the flush epochs
// (flush.go), the counts (accounting.go), the disk (spool.go), what the
// connections report (connect.go), and Close (close.go). Those are read
// to learn how they work, not where a record goes.
//
// A record's states, and what moves it on (the transitions table):
//
//	placed    taken from the budget by accept   → queued (handOver)
//	queued    in the hand-off queue             → inFranz or held (run); finished or spooled (Close)
//	held      run holds it: the endpoint is down → inFranz (it is back); finished or spooled (its deadline, Close)
//	inFranz   handed to franz-go                → finished, requeued or spooled (its promise)
//	requeued  handed back before its deadline   → inFranz or held (run); finished or spooled (Close)
//	finished  delivered or failed, and counted  (memory back to the budget, reused as placed)
//	spooled   out of memory, kept on disk       (memory back to the budget, reused as placed)

// pending is an accepted record: the kgo.Record franz-go holds, and the
// producer's bookkeeping. Pendings live in slabs that the budget reuses
// (budget.go), so none is allocated per record. state says where it is in
// its life, and so who holds it: Log or the feeder while it is placed, the
// hand-off queue and then run while it is queued or requeued, run while it
// is held, franz-go until its promise, and the end of its life (finish, or
// unload when it stays on disk). Only the holder reads or changes a
// pending; it passes the pending on through a mutex (the queue) or
// franz-go's promise, which order those changes.
type pending struct {
	// rec is the first field: the promise gets &rec back and finds the
	// pending at the same address (pendingOf). rec.Context is the
	// record's deadline window's context, never the pending itself:
	// franz-go may still hold a record's context after its promise ran,
	// when the pending may already be reused.
	rec      kgo.Record
	ls       *logstoreState
	chunk    *chunk // where rec.Value lives; nil: an array of its own
	slab     *slab  // where the pending lives; nil: allocated alone
	win      *window
	flush    *flushEpoch
	done     chan error    // LogSync only
	accepted time.Duration // since connState.born
	sent     uint64        // ledger.Ledger's write sequence when last handed over
	spoolID  spool.ID      // where it is on disk; 0 without a spool, or in memory only (a full disk)
	unsure   bool          // a request that may have stored it was sent
	state    state         // who holds it; changed only by to
}

// state is where a pending is in its life, and so who holds it.
type state uint8

const (
	// placed: taken from the budget and encoded (budget.take), not yet
	// handed over. The zero value: a slab is cleared before it is reused (recycleSlab).
	placed state = iota
	// queued: in the hand-off queue, never handed to franz-go.
	queued
	// held: taken from the queue by run, which holds it back while the
	// endpoint is down.
	held
	// inFranz: handed to franz-go (kgo.Client.Produce), until its
	// promise. Only a record in franz-go can have been sent.
	inFranz
	// requeued: failed by franz-go before its own deadline with a cause
	// that sending again may mend (its partition's oldest record timed
	// out, deadlinePassed aborted what franz-go held, a broken connection,
	// a retriable error, or LZ4 refused under the Auto codec): handed back
	// by its promise, ahead of the queue. It is still sent, as far as
	// Unconfirmed goes (askLedger).
	requeued
	// finished: delivered or failed, counted and reported; its memory
	// goes back to the budget.
	finished
	// spooled: out of memory but kept on disk (unload), for the feeder or
	// the next producer on the directory; its memory goes back to the
	// budget.
	spooled
	nStates
)

var stateNames = [nStates]string{"placed", "queued", "held", "inFranz", "requeued", "finished", "spooled"}

func (s state) String() string {
	if s < nStates {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// transitions lists, for each state, the states a pending may go to next
// (a bit per state).
var transitions = [nStates]uint16{
	placed:   1 << queued,                                     // handOver (a record Log refuses goes back to the budget as placed)
	queued:   1<<held | 1<<inFranz | 1<<finished | 1<<spooled, // run; Close gave up on it (abandon)
	held:     1<<inFranz | 1<<finished | 1<<spooled,           // the endpoint is back; its deadline passed, or Close
	inFranz:  1<<requeued | 1<<finished | 1<<spooled,          // its promise
	requeued: 1<<held | 1<<inFranz | 1<<finished | 1<<spooled,
	finished: 0, // until its slab is cleared for reuse: placed
	spooled:  0,
}

// illegalTransition is the first transition to that transitions does not
// list, for the tests (export_test.go); a bug, never expected. It is kept
// rather than panicked on: a logger must not take its application down.
var illegalTransition atomic.Pointer[string]

// to moves pd to state s.
func (pd *pending) to(s state) {
	if transitions[pd.state]&(1<<s) == 0 {
		noteIllegal(fmt.Sprintf("pending: %v -> %v", pd.state, s))
	}
	pd.state = s
}

// givenBack checks that the budget takes back a pending nobody holds: one
// finished or spooled, or one Log refused while placed.
func (pd *pending) givenBack() {
	if pd.state != finished && pd.state != spooled && pd.state != placed {
		noteIllegal(fmt.Sprintf("pending: given back to the budget while %v", pd.state))
	}
}

func noteIllegal(msg string) {
	if illegalTransition.Load() == nil {
		illegalTransition.CompareAndSwap(nil, &msg)
	}
}

// onDisk reports whether the spool holds a copy of pd (it can go back
// there instead of failing).
func (pd *pending) onDisk() bool { return pd.spoolID != 0 }

// pendingOf returns the pending whose rec is r. Every record the producer
// hands to franz-go is the rec of a pending.
func pendingOf(r *kgo.Record) *pending { return (*pending)(unsafe.Pointer(r)) }

// handOver fills in what an accepted record carries from now on (its
// deadline window, its Kafka record, the flush epoch it counts in) and
// queues it for franz-go. The queue cannot be stopped yet: Close waits for
// Logs' hand-overs (p.life.mu) and for the feeder to return (spool.go)
// before it stops the queue; if it were, the record is one Close left
// behind. Its delivery latency counts from accepted (for a record that
// waited on disk, when Log accepted it: acceptedAt).
func (p *Producer) handOver(pd *pending, ls *logstoreState, topic string, ts, now, accepted time.Time) {
	pd.win = p.deadlines.get(now)
	pd.rec.Topic = topic
	pd.rec.Timestamp = ts
	pd.rec.Context = pd.win.ctx
	pd.ls = ls
	pd.accepted = accepted.Sub(p.conn.born)
	pd.flush = p.flushes.enter()
	ls.acceptedBytes.Add(int64(len(pd.rec.Value)))
	pd.to(queued) // before push: the queue's taker owns it after
	if !p.handoff.push(pd) {
		p.failed(pd, errGaveUp)
	}
}

// run hands queued records to franz-go until stop, then fails what is left.
//
// While the endpoint is down (the last connection attempt failed), run
// holds records back: franz-go would keep them waiting for a metadata
// update, which it retries on its own schedule, and fail them seconds after
// their deadline. Held here, each fails at its own deadline, known never
// sent. franz-go's metadata refreshes (forced every RetryBackoff meanwhile)
// tell when the endpoint is back.
func (p *Producer) run() {
	h := p.handoff
	defer close(h.done)
	var queued, requeued, taken []*pending
	var probe *time.Ticker
	defer func() {
		if probe != nil {
			probe.Stop()
		}
	}()
	for {
		var stopped bool
		queued, requeued, stopped = h.take(queued, len(taken) == 0)
		if stopped {
			p.abandon(append(append(requeued, taken...), queued...))
			return
		}
		up := p.conn.upSignal() // nil while up
		if up != nil {
			// Only what was just taken: what run held already is held.
			for _, pd := range requeued {
				pd.to(held)
			}
			for _, pd := range queued {
				pd.to(held)
			}
		}
		// Oldest deadline first, as expireHeld needs. Records franz-go
		// hands back came before those just queued, but it hands them
		// back partition by partition, and over more than one take: put
		// what run holds back in deadline order whenever some come back
		// (a sort of what is mostly sorted, once per crowd handed back).
		if len(requeued) > 0 {
			taken = append(requeued, taken...)
			slices.SortStableFunc(taken, func(a, b *pending) int { return a.win.end.Compare(b.win.end) })
		}
		taken = append(taken, queued...)
		if up != nil {
			taken = p.expireHeld(taken)
			if len(taken) == 0 {
				continue
			}
			if probe == nil {
				probe = time.NewTicker(p.cfg.RetryBackoff)
			}
			if h.wait(up, taken[0].win.ctx.Done(), probe.C) {
				p.cl.ForceMetadataRefresh() // is it back?
			}
			continue
		}
		if probe != nil {
			probe.Stop()
			probe = nil
		}
		// A record handed over now can only be in requests written
		// after this sequence (see ledger.Ledger).
		seq := p.ledger.WriteSeq()
		h.inFranz.Add(int64(len(taken)))
		n := 0
		for _, pd := range taken {
			if h.halted.Load() {
				break // Close gave up: the next take abandons the rest
			}
			pd.sent = seq
			// franz-go sets Partition once it partitions the record;
			// until then the ledger has nothing to say about it (failed).
			pd.rec.Partition = -1
			pd.to(inFranz)
			// pd must not be touched after Produce: its promise may
			// run, and its slab be reused, before Produce returns.
			p.cl.Produce(pd.win.ctx, &pd.rec, p.promised)
			n++
		}
		h.inFranz.Add(int64(n - len(taken)))
		left := copy(taken, taken[n:])
		clear(taken[left:])
		taken = taken[:left]
		h.handed.fire()
	}
}

// expireHeld fails the held records whose deadline has passed. run holds
// them in deadline order, so those are at the front.
func (p *Producer) expireHeld(taken []*pending) []*pending {
	i := 0
	for i < len(taken) && taken[i].win.ctx.Err() != nil {
		p.failed(taken[i], context.Cause(taken[i].win.ctx))
		i++
	}
	clear(taken[:i])
	return taken[i:]
}

// promise is franz-go's completion callback for every record. franz-go
// calls promises serially, so this must not block; what it calls is also
// safe concurrently (run and handOver fail records too).
func (p *Producer) promise(r *kgo.Record, err error) {
	pd := pendingOf(r)
	if err == kgo.ErrClientClosed && p.life.closed.Load() && p.spool == nil {
		p.closedPromise(pd) // one of all that franz-go held: ended in runs, below
		return
	}
	if p.handoff.inFranz.Add(-1) == 0 && p.life.closed.Load() {
		p.life.franzIsEmpty()
	}
	if err != nil {
		p.failed(pd, err)
		return
	}
	p.finish(pd, nil)
}

// errGaveUp marks records Close gave up on that franz-go did not hold
// (still queued, or held by run); those franz-go held fail with
// kgo.ErrClientClosed. The record's error says why (lifecycle.gaveUpCause).
var errGaveUp = errors.New("producer closed before the record was delivered")

// failed ends a record that franz-go failed (or run or handOver, for Close
// or its deadline), unless it is to be sent again, ahead of the queue,
// while its own deadline is ahead (decide says which). franz-go fails a
// record that SLS may still take: every buffered record of a partition
// when the context of the partition's oldest one ends, everything it holds
// when deadlinePassed aborts it while the endpoint is down (ErrAborting),
// a batch after a broken connection or a retriable error; and the Auto
// codec sends again the records of a batch SLS refused for LZ4 (resend).
func (p *Producer) failed(pd *pending, err error) {
	handed := pd.state == inFranz // only a record in franz-go can have been sent
	f := failedWith{
		err: err, win: pd.win.ctx,
		closed: p.life.closed.Load(), closeCause: p.life.gaveUpCause(),
		onDisk: pd.onDisk(),
		resend: func() bool { return p.resend(pd, err) },
	}
	d := decide(f)
	if d.next == sendAgain {
		// Asked now, before run hands it over again and forgets where
		// it was sent: franz-go fails a batch it wrote too (without
		// idempotence), which SLS may have stored.
		p.askLedger(pd, handed, false)
		pd.to(requeued) // before pushFront: run owns it after
		if p.handoff.pushFront(pd) {
			return
		}
		// pushFront refuses only once Close stopped the hand-off, which
		// it does after setting closed and gaveUp: read them again.
		f.noRequeue = true
		f.closed, f.closeCause = true, p.life.gaveUpCause()
		d = decide(f)
	}
	p.askLedger(pd, handed, d.gaveUp)
	if d.next == backToSpool {
		p.unload(pd, d.cause)
		return
	}
	p.finish(pd, p.failure(pd, d.cause, d.kind))
}

// askLedger sets pd.unsure if a request that may have stored pd was
// written since franz-go got it (pd.sent): never for a record that was not
// handed to franz-go, and once
// set, it stays (a record sent again may be stored twice, or once before).
// closing is whether Close gave up on it (ledger.Ledger.MaybeStored).
func (p *Producer) askLedger(pd *pending, handed, closing bool) {
	if handed && !pd.unsure && pd.rec.Partition >= 0 {
		tp := ledger.TopicPartition{Topic: pd.rec.Topic, Partition: pd.rec.Partition}
		pd.unsure = p.ledger.MaybeStored(tp, pd.sent, closing)
	}
}

// failure returns the error of a record that failed with cause, of kind (or
// cause's kind if nil). Records fail in crowds with one cause (a batch, a
// deadline window, Close), so the last error made is reused when it fits.
func (p *Producer) failure(pd *pending, cause, kind error) *Error {
	if e := p.lastFailure.Load(); e != nil && e.Err == cause && e.Logstore == pd.ls.name && e.Unconfirmed == pd.unsure {
		return e
	}
	if kind == nil {
		kind = classify(cause)
	}
	e := p.newError(kind, pd.ls.name, cause, pd.unsure)
	p.lastFailure.Store(e)
	if kind == ErrAuth && errors.Is(cause, kerr.TopicAuthorizationFailed) {
		p.authRefused(cause) // where SLS documents a refused key: after SASL passed
	}
	return e
}

// finish ends a record: delivered if e is nil, else failed with e. It is
// the one place a record ends (endRun.end ends a run of them alike): it
// counts the record in accounting and telemetry, acknowledges it in the
// spool, tells LogSync, leaves its flush epoch and gives its memory back
// to the budget, in that order, so that the counts are taken before anyone
// waiting for the record learns it ended. pd must not be used after.
func (p *Producer) finish(pd *pending, e *Error) {
	pd.to(finished)
	if e == nil {
		latency := p.conn.lastResponseAt() - pd.accepted
		pd.ls.delivered.Add(1)
		p.acct.observeLatency(latency)
		p.tel.observeDelivery(pd.ls, latency)
	} else {
		p.acct.failed(pd.ls, e)
	}
	if pd.onDisk() {
		p.spool.s.Ack(pd.spoolID) //nolint:errcheck // held since Append or Next
	}
	var err error
	if e != nil {
		err = e // not a nil *Error in a non-nil error
	}
	p.leave(pd, err)
}

// leave takes a record out of memory, tells LogSync, and gives the memory
// back: the record is finished (its counts were taken: delivered or
// failed, before LogSync's caller is told, so that its Stats no longer
// show the record as buffered), or it stays on disk (unload). pd must not
// be used after.
func (p *Producer) leave(pd *pending, err error) {
	pd.ls.finishedBytes.Add(int64(len(pd.rec.Value)))
	if pd.done != nil {
		pd.done <- err
	}
	pd.flush.leave()
	p.budget.give(pd)
}

// unload takes a record out of memory that stays on disk: handed back
// after its deadline (the feeder sends it again), or kept at Close for the
// next producer on the directory. It is not finished: it stays in
// BufferedRecords. A LogSync waiting for it learns why.
func (p *Producer) unload(pd *pending, cause error) {
	pd.to(spooled)
	sp := p.spool
	var e *Error
	if p.life.closed.Load() {
		e = p.newError(ErrClosed, pd.ls.name, &spooledError{dir: sp.dir, cause: cause}, false)
	} else {
		sp.s.Release(pd.spoolID) //nolint:errcheck // held since Append or Next
		sp.released.Add(1)
		sp.signal()
		e = p.newError(ErrDeliveryTimeout, pd.ls.name, &spooledError{dir: sp.dir, cause: cause}, false)
	}
	p.leave(pd, e)
}

// abandon ends the records Close gave up on that franz-go does not hold:
// still queued, or taken by run and not handed over. After an outage they
// are most of what is buffered, and alike: one logstore, one cause,
// accepted one after the other into the same blocks. So they are ended in
// runs, each counted, reported and refunded once, instead of one by one
// (failed): that per-record work came after Close's context ended.
func (p *Producer) abandon(pds []*pending) {
	if p.spool != nil { // they stay on disk, each with its own error
		for _, pd := range pds {
			p.failed(pd, errGaveUp)
		}
		return
	}
	var r endRun
	for _, pd := range pds {
		r.add(p, pd)
	}
	r.end(p)
}

// closedPromise is the promise of a record franz-go failed as the client
// closed: it joins the run that Close ends once franz-go holds nothing.
// franz-go fails all it holds that way, up to franzRecords records, and
// Close waits for those promises before it returns.
func (p *Producer) closedPromise(pd *pending) {
	p.life.franz.add(p, pd)
	if p.handoff.inFranz.Add(-1) == 0 { // after add: Close may end the run
		p.life.franzIsEmpty()
	}
}

// endRun is records that failed alike, in the same flush epoch and blocks.
type endRun struct {
	ls    *logstoreState
	e     *Error
	flush *flushEpoch
	chunk *chunk
	slab  *slab
	n     int64
	bytes int64
	// asked is the ledger's last answer: the records of a batch share
	// their partition and hand-over, so one question answers for all.
	asked askedLedger
	// why is the last record's error and deadline window.
	why failedAs
}

// failedAs is the error records of a deadline window fail with.
type failedAs struct {
	win *window
	e   *Error
}

// askedLedger is the ledger's answer for the records of a partition
// handed over at one write sequence.
type askedLedger struct {
	tp    ledger.TopicPartition
	sent  uint64
	maybe bool
	valid bool
}

// add ends pd, a record Close gave up on: with the run if it fits in,
// else after ending the run.
func (r *endRun) add(p *Producer, pd *pending) {
	if pd.state == inFranz && !pd.unsure && pd.rec.Partition >= 0 {
		tp := ledger.TopicPartition{Topic: pd.rec.Topic, Partition: pd.rec.Partition}
		if a := &r.asked; !a.valid || a.tp != tp || a.sent != pd.sent {
			*a = askedLedger{tp: tp, sent: pd.sent, maybe: p.ledger.MaybeStored(tp, pd.sent, true), valid: true}
		}
		pd.unsure = r.asked.maybe
	}
	var e *Error
	if w := &r.why; w.e != nil && w.win == pd.win && w.e.Logstore == pd.ls.name && w.e.Unconfirmed == pd.unsure {
		e = w.e // records of one window fail alike
	} else {
		cause, kind := p.gaveUpCauseOf(pd)
		e = p.failure(pd, cause, kind)
		*w = failedAs{win: pd.win, e: e}
	}
	if pd.done != nil || pd.slab == nil {
		// A LogSync caller is told after the counts are taken; a record
		// with memory of its own has nothing to share.
		r.end(p)
		p.finish(pd, e)
		return
	}
	if pd.ls != r.ls || e != r.e || pd.flush != r.flush || pd.chunk != r.chunk || pd.slab != r.slab {
		r.end(p)
		r.ls, r.e, r.flush, r.chunk, r.slab = pd.ls, e, pd.flush, pd.chunk, pd.slab
	}
	// Finished before end takes its counts and memory: the run's
	// records are not reused before end gives their blocks back, and
	// Close waits for their flush epoch.
	pd.to(finished)
	r.n++
	r.bytes += int64(len(pd.rec.Value))
}

// end does for the run's records what failed, finish and leave do for one,
// in the same order: counts first, so that Stats no longer show them as
// buffered when a Flush waiting for them returns.
func (r *endRun) end(p *Producer) {
	if r.n == 0 {
		return
	}
	p.acct.failedN(r.ls, r.e, r.n)
	r.ls.finishedBytes.Add(r.bytes)
	r.flush.leaveN(r.n)
	p.budget.giveN(r.chunk, r.slab, r.n)
	r.n, r.bytes = 0, 0
}

// gaveUpCauseOf returns the cause and kind of a record Close gave up on:
// its own deadline's (or refused credential's) if that came first, else
// why Close gave up.
func (p *Producer) gaveUpCauseOf(pd *pending) (cause, kind error) {
	if pd.win.ctx.Err() != nil {
		return context.Cause(pd.win.ctx), nil // classified by failure
	}
	return p.life.gaveUpCause(), ErrClosed
}
