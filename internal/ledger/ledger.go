// Package ledger keeps the record of what the produce requests written to
// SLS carried and what became of each, so that a record the Kafka client
// fails can be told apart: never sent (failed), or sent and perhaps stored
// (unconfirmed).
//
// No franz-go hook says which partitions a written request carried, nor
// that a written request will never be answered, so the ledger reads the
// frames themselves: it is the kconn.Frames a dialer hands every request
// and response frame to. Requests and responses are decoded with kmsg.
package ledger

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Ledger owns, per partition, the sequence of the latest produce request
// written for it, how many of its requests are unanswered, and the latest
// ones lost and answered with success. It answers one question for a
// record about to be reported as failed: could SLS have stored it anyway?
//
// A non-idempotent producer may fail records whose request was written but
// never answered (a closing client, a cancelled request, a connection that
// died after the write). Reporting those as lost would be wrong: SLS may
// hold them. The ledger decides conservatively, per partition: a record
// handed to the client at write sequence w0 may be stored if a request for
// its partition was written after w0 and that request is still unanswered
// or was lost (or, when the client is closing, was answered with success:
// a response read just before the close may never have been handled).
//
// The zero Ledger is ready to use.
type Ledger struct {
	// OnPartitionError, if set, is called for each partition error in a
	// produce response that the Kafka client retries (SLS's
	// NetworkException and KafkaStorageException: "wait 1 s and retry";
	// not CORRUPT_MESSAGE), outside the ledger's lock. Set it before the
	// first request.
	OnPartitionError func(err error)

	seq atomic.Uint64 // produce requests written so far

	mu    sync.Mutex
	parts map[TopicPartition]*partState
	// unknown counts requests whose partitions could not be read: they
	// count for every partition.
	unknown partState
	// req and resp are decoded into under mu, reusing their slices.
	req  kmsg.ProduceRequest
	resp kmsg.ProduceResponse
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

// written is one produce request as written.
type written struct {
	seq     uint64
	version int16
	parts   []*partState  // nil: unknown, counts for every partition
	inline  [4]*partState // parts' storage for small requests
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

// Request registers a request frame about to be written: frame is the
// frame after its size prefix, or its beginning only when it was written
// in pieces. It returns the produce request's entry, to be passed to
// Response or Lost, and nil for any other request.
func (l *Ledger) Request(frame []byte, size int) any {
	// The request header (v1: key, version, correlation id, client id) is
	// the one every version a Kafka 2.1 broker speaks has; kmsg decodes
	// bodies only.
	r := kbin.Reader{Src: frame}
	key, version := r.Int16(), r.Int16()
	if !r.Ok() || key != produceKey {
		return nil
	}
	r.Int32()                      // correlation id
	r.Span(max(int(r.Int16()), 0)) // client id, not copied
	if !r.Ok() || len(frame) < size || version > maxVersion {
		return l.register(nil, version) // not readable: every partition
	}
	return l.register(r.Src, version)
}

// produceKey is the Kafka API key of produce requests.
const produceKey = 0

// maxVersion is the newest produce version without a flexible header.
const maxVersion = 8

// register enters a produce request with its body, or with nil when its
// partitions are unknown.
func (l *Ledger) register(body []byte, version int16) *written {
	w := &written{version: version}
	l.mu.Lock()
	defer l.mu.Unlock()
	if body != nil {
		l.req.Version = version
		// Unsafe: the topic strings alias the frame, which the client
		// reuses; they are only looked up with, and cloned when kept.
		if l.req.UnsafeReadFrom(body) == nil {
			w.parts = l.partsOf(&l.req, w.inline[:0])
		}
	}
	w.seq = l.seq.Add(1)
	l.each(w, func(s *partState) {
		s.lastWrite = w.seq
		s.outstanding++
	})
	return w
}

// partsOf appends to out the states of the partitions req carries,
// creating them. l.mu is held.
func (l *Ledger) partsOf(req *kmsg.ProduceRequest, out []*partState) []*partState {
	n := 0
	for _, t := range req.Topics {
		n += len(t.Partitions)
	}
	if n == 0 {
		return nil
	}
	if l.parts == nil {
		l.parts = make(map[TopicPartition]*partState)
	}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			tp := TopicPartition{t.Topic, p.Partition}
			st := l.parts[tp]
			if st == nil {
				st = &partState{}
				tp.Topic = strings.Clone(tp.Topic)
				l.parts[tp] = st
			}
			out = append(out, st)
		}
	}
	return out
}

// Response settles the request entry with its response frame (after the
// size prefix). A response that cannot be read settles it as lost. Its
// retriable partition errors go to OnPartitionError.
func (l *Ledger) Response(entry any, frame []byte) {
	w, ok := entry.(*written)
	if !ok {
		return
	}
	var errs []error
	l.mu.Lock()
	l.resp.Version = w.version
	if len(frame) < 4 || l.resp.UnsafeReadFrom(frame[4:]) != nil { // after the correlation id
		l.mu.Unlock()
		l.Lost(w)
		return
	}
	l.each(w, func(s *partState) { s.outstanding-- })
	for _, t := range l.resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				if err := kerr.ErrorForCode(p.ErrorCode); retried(err) && l.OnPartitionError != nil {
					errs = append(errs, fmt.Errorf("%s[%d]: %w", t.Topic, p.Partition, err))
				}
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
	l.mu.Unlock()
	for _, err := range errs {
		l.OnPartitionError(err)
	}
}

// retried reports whether franz-go retries a partition answered with err.
// kerr calls CORRUPT_MESSAGE retriable, but franz-go fails the batch
// (sink.go): for SLS it is a refusal of the batch's codec, handled by the
// producer's codec switch, not a shard to wait for.
func retried(err error) bool {
	return kerr.IsRetriable(err) && !errors.Is(err, kerr.CorruptMessage)
}

// Lost settles the request entry whose response will never be read.
func (l *Ledger) Lost(entry any) {
	w, ok := entry.(*written)
	if !ok {
		return
	}
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
	for _, st := range w.parts {
		f(st)
	}
}
