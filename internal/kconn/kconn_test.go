package kconn

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// request frames a request header (key, version, correlation id, null
// client id) and body.
func request(key, version int16, body []byte) []byte {
	b := make([]byte, 4, 64)
	b = binary.BigEndian.AppendUint16(b, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, 7)
	b = binary.BigEndian.AppendUint16(b, 0xFFFF)
	b = append(b, body...)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func response(body []byte) []byte {
	b := make([]byte, 8, 64)
	b = append(b, body...)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// produceRequest is a v7 produce request frame carrying a batch for each
// partition of topic.
func produceRequest(topic string, partitions ...int32) []byte {
	req := kmsg.NewProduceRequest()
	req.SetVersion(7)
	req.Acks = 1
	t := kmsg.NewProduceRequestTopic()
	t.Topic = topic
	for _, p := range partitions {
		pt := kmsg.NewProduceRequestTopicPartition()
		pt.Partition = p
		pt.Records = make([]byte, 100)
		t.Partitions = append(t.Partitions, pt)
	}
	req.Topics = append(req.Topics, t)
	return request(0, 7, req.AppendTo(nil))
}

// produceResponse is a v7 produce response frame with an error code per
// partition of topic.
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
	return response(resp.AppendTo(nil))
}

// feedInPieces splits b at random points, as TCP may.
func feedInPieces(r *rand.Rand, b []byte, fn func([]byte)) {
	for len(b) > 0 {
		n := 1 + r.IntN(len(b))
		fn(b[:n])
		b = b[n:]
	}
}

func TestTrackersCountFramesAcrossArbitrarySplits(t *testing.T) {
	var reqs, resps []byte
	reqs = append(reqs, request(18, 2, nil)...)
	resps = append(resps, response([]byte{0, 0})...)
	for range 50 {
		reqs = append(reqs, produceRequest("app", 0, 1)...)
		resps = append(resps, produceResponse("app", map[int32]int16{0: 0, 1: kerr.KafkaStorageError.Code})...)
	}
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 1))
		var w writeTracker
		var rt readTracker
		l := &Ledger{}
		started, done, produced := 0, 0, 0
		feedInPieces(r, reqs, func(b []byte) { started += w.frames(b, l) })
		feedInPieces(r, resps, func(b []byte) {
			n, pr := rt.feed(b, &w)
			done += n
			for _, p := range pr {
				if p.req.written == nil {
					t.Fatalf("seed %d: a produce response without its request in the ledger", seed)
				}
				l.answer(p.req.written, nil)
			}
			produced += len(pr)
		})
		if started != 51 || done != 51 || produced != 50 {
			t.Fatalf("seed %d: started %d, done %d, produce responses %d; want 51, 51, 50", seed, started, done, produced)
		}
		if len(w.pending) != 0 {
			t.Fatalf("seed %d: %d requests still pending", seed, len(w.pending))
		}
		if l.WriteSeq() != 50 {
			t.Fatalf("seed %d: ledger saw %d produce requests, want 50", seed, l.WriteSeq())
		}
	}
}

func TestProduceRequestPartitions(t *testing.T) {
	frame := produceRequest("app.json", 3, 0)
	got := produceRequestPartitions(frame[4:], 7)
	want := []TopicPartition{{"app.json", 3}, {"app.json", 0}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("partitions = %v, want %v", got, want)
	}
	if got := produceRequestPartitions(frame[4:len(frame)-10], 7); got != nil {
		t.Errorf("a truncated request gave partitions %v, want nil (unknown)", got)
	}
}

// The ledger says a record may be stored only if a request for its
// partition was written after the record was handed over and that request
// is unanswered, lost, or (while closing) answered with success.
func TestLedgerMaybeStored(t *testing.T) {
	app0, app1, other := TopicPartition{"app", 0}, TopicPartition{"app", 1}, TopicPartition{"app", 2}
	l := &Ledger{}
	before := l.WriteSeq()
	frame := produceRequest("app", 0, 1)
	w := l.write(frame[4:], 7)
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
	resp := kmsg.NewPtrProduceResponse()
	resp.SetVersion(7)
	rt := kmsg.NewProduceResponseTopic()
	rt.Topic = "app"
	ok := kmsg.NewProduceResponseTopicPartition()
	ok.Partition = 0
	bad := kmsg.NewProduceResponseTopicPartition()
	bad.Partition = 1
	bad.ErrorCode = kerr.NetworkException.Code
	rt.Partitions = append(rt.Partitions, ok, bad)
	resp.Topics = append(resp.Topics, rt)
	l.answer(w, resp)
	if l.MaybeStored(app0, before, false) || l.MaybeStored(app1, before, false) {
		t.Error("after the answer, a record not acknowledged may still be stored")
	}
	if !l.MaybeStored(app0, before, true) {
		t.Error("closing: a success answer may not have been handled; want maybe stored")
	}
	if l.MaybeStored(app1, before, true) {
		t.Error("closing: an error answer means not stored")
	}
	w2 := l.write(frame[4:], 7)
	l.lose(w2)
	if !l.MaybeStored(app1, before, false) {
		t.Error("a request lost with its connection may have been stored")
	}
	if l.MaybeStored(app1, l.WriteSeq(), false) {
		t.Error("a record handed over after the lost request cannot be in it")
	}
	l.write(nil, 7) // a frame split over writes: every partition
	if !l.MaybeStored(other, after+1, false) {
		t.Error("a request whose partitions are unknown counts for every partition")
	}
}

// A produce request whose response never comes because the connection
// closes is lost; one answered is settled.
func TestConnSettlesLedger(t *testing.T) {
	client, server := net.Pipe()
	l := &Ledger{}
	c := newConn(client, time.Time{}, &Dialer{Ledger: l})
	defer server.Close()
	tp := TopicPartition{"app", 0}
	req := produceRequest("app", 0)
	go func() {
		io.ReadFull(server, make([]byte, len(req)))
		server.Write(produceResponse("app", map[int32]int16{0: 0}))
		io.ReadFull(server, make([]byte, len(req)))
	}()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	if !l.MaybeStored(tp, 0, false) {
		t.Fatal("written, unanswered: want maybe stored")
	}
	resp := produceResponse("app", map[int32]int16{0: 0})
	if _, err := io.ReadFull(c, make([]byte, len(resp))); err != nil {
		t.Fatal(err)
	}
	if l.MaybeStored(tp, 0, false) {
		t.Fatal("answered: want settled")
	}
	mark := l.WriteSeq()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if !l.MaybeStored(tp, mark, false) {
		t.Error("written, then the connection closed: want maybe stored")
	}
}

// pipeDialer dials in-memory connections whose server end is served by
// serve.
func pipeDialer(serve func(server net.Conn)) *Dialer {
	return &Dialer{
		TLS: &tls.Config{ServerName: "sls.example"},
		NetDial: func(context.Context, string, string) (net.Conn, error) {
			client, server := net.Pipe()
			go serve(server)
			return client, nil
		},
	}
}

// checkServerClosed fails the test unless err is a ServerClosedError
// during during, which Kafka clients retry as a broken connection
// (net.ErrClosed) and do not take for an EOF.
func checkServerClosed(t *testing.T, err error, during string) {
	t.Helper()
	var sc *ServerClosedError
	if !errors.As(err, &sc) || sc.During != during {
		t.Fatalf("err = %v, want a ServerClosedError during %s", err, during)
	}
	if !errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) {
		t.Errorf("%v: wraps net.ErrClosed %v, io.EOF %v; want net.ErrClosed only", err, errors.Is(err, net.ErrClosed), errors.Is(err, io.EOF))
	}
	if !strings.Contains(err.Error(), "connection closed by the server during "+during) || strings.Contains(err.Error(), "TLS misconfigured") {
		t.Errorf("message %q", err)
	}
}

// A server that closes the connection during the TLS handshake (at once,
// or after reading the ClientHello) is named as such.
func TestHandshakeClosedByServer(t *testing.T) {
	for name, serve := range map[string]func(net.Conn){
		"at once":           func(c net.Conn) { c.Close() },
		"after ClientHello": func(c net.Conn) { c.Read(make([]byte, 1<<14)); c.Close() },
	} {
		t.Run(name, func(t *testing.T) {
			_, err := pipeDialer(serve).DialContext(context.Background(), "tcp", "sls.example:10012")
			checkServerClosed(t, err, "the TLS handshake")
		})
	}
}

// A server that refuses the handshake with a TLS alert gets the alert, not
// a ServerClosedError: that one is about TLS.
func TestHandshakeAlertIsNotServerClosed(t *testing.T) {
	d := pipeDialer(func(c net.Conn) {
		tls.Server(c, &tls.Config{}).Handshake() // no certificate: an alert
		c.Close()
	})
	_, err := d.DialContext(context.Background(), "tcp", "sls.example:10012")
	var sc *ServerClosedError
	if err == nil || errors.As(err, &sc) || !strings.Contains(err.Error(), "remote error: tls") {
		t.Fatalf("err = %v, want the TLS alert", err)
	}
}

// The end of the stream before any response is a ServerClosedError; after
// a response it is the plain io.EOF of a connection that ended.
func TestFirstReadClosedByServer(t *testing.T) {
	client, server := net.Pipe()
	c := newConn(client, time.Time{}, &Dialer{})
	server.Close()
	_, err := c.Read(make([]byte, 64))
	checkServerClosed(t, err, "the first request")

	client, server = net.Pipe()
	c = newConn(client, time.Time{}, &Dialer{})
	resp := response([]byte{0, 0})
	go func() {
		server.Write(resp)
		server.Close()
	}()
	if _, err := io.ReadFull(c, make([]byte, len(resp))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 64)); err != io.EOF {
		t.Errorf("after a response: err = %v, want io.EOF", err)
	}
}
