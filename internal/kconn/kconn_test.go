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

// recorder is a Frames that follows produce requests and keeps what it is
// told.
type recorder struct {
	requests, whole int
	keys            []int16
	responses, lost []int // the requests' numbers
}

func (r *recorder) Request(frame []byte, size int) any {
	r.requests++
	if len(frame) == size {
		r.whole++
	}
	key := int16(binary.BigEndian.Uint16(frame))
	r.keys = append(r.keys, key)
	if key != 0 {
		return nil
	}
	return r.requests
}

func (r *recorder) Response(entry any, frame []byte) {
	if len(frame) < 4 {
		panic("a response without its correlation id")
	}
	r.responses = append(r.responses, entry.(int))
}

func (r *recorder) Lost(entry any) { r.lost = append(r.lost, entry.(int)) }

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
		rec := &recorder{}
		started, done := 0, 0
		feedInPieces(r, reqs, func(b []byte) { started += w.frames(b, rec) })
		feedInPieces(r, resps, func(b []byte) {
			for len(b) > 0 {
				var n int
				var entry any
				var body []byte
				b, n, entry, body = rt.feed(b, &w)
				done += n
				if entry != nil {
					rec.Response(entry, body)
				}
			}
		})
		if started != 51 || done != 51 || len(rec.responses) != 50 || rec.requests != 51 {
			t.Fatalf("seed %d: started %d, done %d, requests told %d, produce responses %d; want 51, 51, 51, 50", seed, started, done, rec.requests, len(rec.responses))
		}
		for i, k := range rec.keys {
			if want := int16(0); i == 0 && k != 18 || i > 0 && k != want {
				t.Fatalf("seed %d: request %d has key %d", seed, i, k)
			}
		}
		for i, n := range rec.responses {
			if n != i+2 {
				t.Fatalf("seed %d: response %d settled request %d, want %d", seed, i, n, i+2)
			}
		}
		if len(w.pending) != 0 {
			t.Fatalf("seed %d: %d requests still pending", seed, len(w.pending))
		}
	}
}

// Each request franz-go writes whole reaches Frames whole.
func TestWholeWritesReachFramesWhole(t *testing.T) {
	var w writeTracker
	rec := &recorder{}
	for range 3 {
		w.frames(produceRequest("app", 0, 1), rec)
	}
	if rec.whole != 3 {
		t.Errorf("%d of 3 requests told whole", rec.whole)
	}
}

// A produce request whose response never comes because the connection
// closes is reported lost; one answered is reported answered.
func TestConnReportsResponsesAndLosses(t *testing.T) {
	client, server := net.Pipe()
	rec := &recorder{}
	c := newConn(client, time.Time{}, &Dialer{Frames: rec})
	defer server.Close()
	req := produceRequest("app", 0)
	resp := produceResponse("app", map[int32]int16{0: 0})
	go func() {
		io.ReadFull(server, make([]byte, len(req)))
		server.Write(resp)
		io.ReadFull(server, make([]byte, len(req)))
	}()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, len(resp))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if len(rec.responses) != 1 || rec.responses[0] != 1 || len(rec.lost) != 1 || rec.lost[0] != 2 {
		t.Errorf("answered %v, lost %v; want [1], [2]", rec.responses, rec.lost)
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

// A connection retired with a request in flight lets its response be read,
// then closes; the next write is refused with ErrRetired, which the Kafka
// client retries on a new connection. Frames are counted by their size
// prefix only: the request here is no Kafka request at all.
func TestRetireDrainsInFlight(t *testing.T) {
	client, server := net.Pipe()
	retired := 0
	c := newConn(client, time.Time{}, &Dialer{OnRetire: func() { retired++ }})
	defer server.Close()
	req := []byte{0, 0, 0, 3, 'a', 'b', 'c'}
	resp := []byte{0, 0, 0, 2, 'o', 'k'}
	go func() {
		io.ReadFull(server, make([]byte, len(req)))
		server.Write(resp)
	}()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	c.retire()
	if retired != 1 {
		t.Fatalf("OnRetire called %d times, want 1", retired)
	}
	got := make([]byte, len(resp))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != string(resp) {
		t.Fatalf("read %q, %v; want the response in flight", got, err)
	}
	if _, err := c.Write(req); !errors.Is(err, ErrRetired) || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after retiring: %v, want ErrRetired (net.ErrClosed)", err)
	}
	if _, err := c.Read(got); err == nil {
		t.Error("the retired connection is still open")
	}
}
