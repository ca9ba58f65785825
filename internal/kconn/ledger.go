package kconn

import (
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Ledger records which partitions the produce requests written on a
// dialer's connections carried, and what became of each request: answered
// (the broker said stored or not stored), or lost (the connection ended
// before its response). It answers one question for a record that is
// about to be reported as failed: could SLS have stored it anyway?
//
// No franz-go hook says which records a written request carried, and a
// non-idempotent producer may fail records whose request was written but
// never answered (a closing client, a cancelled request, a connection that
// died after the write). Reporting those as lost would be wrong: SLS may
// hold them. The ledger decides conservatively, per partition: a record
// handed to the client at write sequence w0 may be stored if a request for
// its partition was written after w0 and that request is still unanswered
// or was lost (or, when the client is closing, was answered with success:
// a response read just before the close may never have been handled).
type Ledger struct {
	seq atomic.Uint64 // produce requests written so far

	mu    sync.Mutex
	parts map[TopicPartition]*partState
	// unknown counts requests whose partitions could not be read (a
	// frame split over writes): they count for every partition.
	unknown partState
}

// TopicPartition names a partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

type partState struct {
	lastWrite, lastLost, lastSuccess uint64
	outstanding                      int
}

// written is one produce request as written: its sequence and partitions.
type written struct {
	seq   uint64
	parts []TopicPartition // nil: unknown, counts for every partition
}

// WriteSeq returns the sequence of the latest produce request written. A
// record handed to the client after this call can only be in requests
// with a higher sequence.
func (l *Ledger) WriteSeq() uint64 { return l.seq.Load() }

// MaybeStored reports whether a record of partition tp, handed to the
// client when WriteSeq was since, may have been stored by SLS although it
// was not acknowledged. closing says the client is closing, when a
// success response read just before the close may not have been handled.
func (l *Ledger) MaybeStored(tp TopicPartition, since uint64, closing bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.unknown.maybeStored(since, closing) {
		return true
	}
	st := l.parts[tp]
	return st != nil && st.maybeStored(since, closing)
}

func (s *partState) maybeStored(since uint64, closing bool) bool {
	if s.lastWrite <= since {
		return false // no request for the partition since: never sent
	}
	return s.outstanding > 0 || s.lastLost > since || closing && s.lastSuccess > since
}

// write registers a produce request about to be written. frame is the
// request after its size prefix, or nil when it is not all at hand.
func (l *Ledger) write(frame []byte, version int16) *written {
	w := &written{parts: produceRequestPartitions(frame, version)}
	l.mu.Lock()
	defer l.mu.Unlock()
	w.seq = l.seq.Add(1)
	l.each(w, func(s *partState) {
		s.lastWrite = w.seq
		s.outstanding++
	})
	return w
}

// answer settles a request with its response; a response that could not
// be read (nil) settles it as lost.
func (l *Ledger) answer(w *written, resp *kmsg.ProduceResponse) {
	if resp == nil {
		l.lose(w)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.each(w, func(s *partState) { s.outstanding-- })
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				continue
			}
			st := &l.unknown
			if w.parts != nil {
				if st = l.parts[TopicPartition{t.Topic, p.Partition}]; st == nil {
					continue // not a partition the request carried
				}
			}
			st.lastSuccess = max(st.lastSuccess, w.seq)
		}
	}
}

// lose settles a request whose response will never be read.
func (l *Ledger) lose(w *written) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.each(w, func(s *partState) {
		s.outstanding--
		s.lastLost = max(s.lastLost, w.seq)
	})
}

// each calls f for the state of every partition w carried. l.mu is held.
func (l *Ledger) each(w *written, f func(*partState)) {
	if w.parts == nil {
		f(&l.unknown)
		return
	}
	if l.parts == nil {
		l.parts = make(map[TopicPartition]*partState)
	}
	for _, tp := range w.parts {
		st := l.parts[tp]
		if st == nil {
			st = &partState{}
			l.parts[tp] = st
		}
		f(st)
	}
}

// produceRequestPartitions reads the partitions a produce request (v0 to
// v8, the non-flexible versions a Kafka 2.1 broker speaks) carries. frame
// starts after the size prefix. It returns nil if frame is nil or cannot
// be read, which the ledger counts as every partition.
func produceRequestPartitions(frame []byte, version int16) []TopicPartition {
	if frame == nil || version > 8 {
		return nil
	}
	r := kbin.Reader{Src: frame}
	r.Int16() // key
	r.Int16() // version
	r.Int32() // correlation id
	r.UnsafeNullableString()
	if version >= 3 {
		r.UnsafeNullableString() // transactional id
	}
	r.Int16() // acks
	r.Int32() // timeout
	var out []TopicPartition
	for range max(0, r.ArrayLen()) {
		topic := r.String()
		for range max(0, r.ArrayLen()) {
			out = append(out, TopicPartition{topic, r.Int32()})
			r.NullableBytes() // the record batch
		}
	}
	if !r.Ok() || out == nil {
		return nil
	}
	return out
}
