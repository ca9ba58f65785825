package ledger

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// request is a request frame after its size prefix: the v1 header (key,
// version, correlation id, client id) and body.
func request(key, version int16, body []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, 7)
	b = binary.BigEndian.AppendUint16(b, 4)
	b = append(b, "test"...)
	return append(b, body...)
}

// produceRequest is a v7 produce request frame carrying a batch of
// batchBytes for each partition of topic.
func produceRequest(topic string, batchBytes int, partitions ...int32) []byte {
	req := kmsg.NewProduceRequest()
	req.SetVersion(7)
	req.Acks = 1
	t := kmsg.NewProduceRequestTopic()
	t.Topic = topic
	for _, p := range partitions {
		pt := kmsg.NewProduceRequestTopicPartition()
		pt.Partition = p
		pt.Records = make([]byte, batchBytes)
		t.Partitions = append(t.Partitions, pt)
	}
	req.Topics = append(req.Topics, t)
	return request(0, 7, req.AppendTo(nil))
}

// produceResponse is a v7 produce response frame (correlation id and body)
// with an error code per partition of topic.
func produceResponse(topic string, codes map[int32]int16) []byte {
	resp := kmsg.NewProduceResponse()
	resp.SetVersion(7)
	t := kmsg.NewProduceResponseTopic()
	t.Topic = topic
	for p, code := range codes {
		pt := kmsg.NewProduceResponseTopicPartition()
		pt.Partition = p
		pt.ErrorCode = code
		t.Partitions = append(t.Partitions, pt)
	}
	resp.Topics = append(resp.Topics, t)
	return resp.AppendTo(make([]byte, 4))
}

// Only produce requests are followed, with the partitions they carry; one
// that cannot be read counts for every partition.
func TestRequestReadsPartitions(t *testing.T) {
	l := &Ledger{}
	if e := l.Request(request(3, 7, []byte{0, 0, 0, 0}), 14); e != nil {
		t.Errorf("a metadata request is followed: %v", e)
	}
	frame := produceRequest("app.json", 100, 3, 0)
	w, ok := l.Request(frame, len(frame)).(*written)
	if !ok || len(w.parts) != 2 || w.parts[0] != l.parts[TopicPartition{"app.json", 3}] || w.parts[1] != l.parts[TopicPartition{"app.json", 0}] {
		t.Fatalf("entry %+v, partitions %v; want app.json 3 and 0", w, l.parts)
	}
	// The topic is kept although the frame it was read from is reused.
	for i := range frame {
		frame[i] = 'x'
	}
	for tp := range l.parts {
		if tp.Topic != "app.json" {
			t.Errorf("kept topic %q", tp.Topic)
		}
	}
	for name, w := range map[string]any{
		"truncated":          l.Request(produceRequest("app", 100, 1)[:40], 40),
		"only its beginning": l.Request(produceRequest("app", 100, 1)[:30], len(frame)),
	} {
		if w, ok := w.(*written); !ok || w.parts != nil {
			t.Errorf("%s: entry %+v, want one for every partition", name, w)
		}
	}
}

// The ledger says a record may be stored only if a request for its
// partition was written after the record was handed over and that request
// is unanswered, lost, or (while closing) answered with success.
func TestLedgerMaybeStored(t *testing.T) {
	app0, app1, other := TopicPartition{"app", 0}, TopicPartition{"app", 1}, TopicPartition{"app", 2}
	var retriable []error
	l := &Ledger{OnPartitionError: func(err error) { retriable = append(retriable, err) }}
	before := l.WriteSeq()
	frame := produceRequest("app", 100, 0, 1)
	w := l.Request(frame, len(frame))
	after := l.WriteSeq()
	for _, c := range []struct {
		name string
		tp   TopicPartition
		seq  uint64
		want bool
	}{
		{"in flight", app0, before, true},
		{"handed over after the write", app0, after, false},
		{"a partition the request did not carry", other, before, false},
	} {
		if got := l.MaybeStored(c.tp, c.seq, false); got != c.want {
			t.Errorf("%s: MaybeStored = %v, want %v", c.name, got, c.want)
		}
	}
	l.Response(w, produceResponse("app", map[int32]int16{0: 0, 1: kerr.NetworkException.Code}))
	if l.MaybeStored(app0, before, false) || l.MaybeStored(app1, before, false) {
		t.Error("after the answer, a record not acknowledged may still be stored")
	}
	if !l.MaybeStored(app0, before, true) {
		t.Error("closing: a success answer may not have been handled; want maybe stored")
	}
	if l.MaybeStored(app1, before, true) {
		t.Error("closing: an error answer means not stored")
	}
	if len(retriable) != 1 || !errors.Is(retriable[0], kerr.NetworkException) || retriable[0].Error()[:7] != "app[1]:" {
		t.Errorf("retriable partition errors %v, want app[1]'s NetworkException", retriable)
	}
	w2 := l.Request(frame, len(frame))
	l.Lost(w2)
	if !l.MaybeStored(app1, before, false) {
		t.Error("a request lost with its connection may have been stored")
	}
	if l.MaybeStored(app1, l.WriteSeq(), false) {
		t.Error("a record handed over after the lost request cannot be in it")
	}
	w3 := l.Request(frame, len(frame))
	l.Response(w3, []byte{0, 0, 0, 7, 0xff}) // unreadable: as lost
	if !l.MaybeStored(app1, l.WriteSeq()-1, false) {
		t.Error("a request whose response cannot be read may have been stored")
	}
	mark := l.WriteSeq()
	l.Request(frame[:20], len(frame)) // partitions unknown
	if !l.MaybeStored(other, mark, false) {
		t.Error("a request whose partitions are unknown counts for every partition")
	}
}

// CORRUPT_MESSAGE, which kerr calls retriable, is no partition error to
// retry: franz-go fails the batch, and for SLS it refuses the codec.
func TestCorruptMessageIsNotRetried(t *testing.T) {
	var retriable []error
	l := &Ledger{OnPartitionError: func(err error) { retriable = append(retriable, err) }}
	frame := produceRequest("app", 100, 0, 1)
	l.Response(l.Request(frame, len(frame)), produceResponse("app", map[int32]int16{0: kerr.CorruptMessage.Code, 1: kerr.KafkaStorageError.Code}))
	if len(retriable) != 1 || !errors.Is(retriable[0], kerr.KafkaStorageError) {
		t.Errorf("partition errors reported %v, want app[1]'s KafkaStorageError only", retriable)
	}
}

// BenchmarkProduceRequest is the ledger's cost per produce request: the
// request registered and its response settled, for a request of 4
// partitions with 16 KiB batches.
func BenchmarkProduceRequest(b *testing.B) {
	frame := produceRequest("app", 16<<10, 0, 1, 2, 3)
	resp := produceResponse("app", map[int32]int16{0: 0, 1: 0, 2: 0, 3: 0})
	l := &Ledger{}
	b.ReportAllocs()
	for b.Loop() {
		l.Response(l.Request(frame, len(frame)), resp)
	}
}
