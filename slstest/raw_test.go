package slstest_test

// Tests that speak the Kafka protocol by hand, for what clients never send
// (malformed batches, oversize frames) or do not let a test control
// (pipelining, two connections writing one shard).

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/slskafka/slskafka/slstest"
)

// rawConn is a TLS connection to the emulator on which a test writes
// requests and reads responses itself.
type rawConn struct {
	net.Conn
	t    *testing.T
	corr int32
	sent []int32 // correlation ids of requests not yet answered
	f    kmsg.RequestFormatter
}

// rawDial opens a TLS connection, without SASL, through DialContext, so
// that it reaches an InMemory emulator too.
func rawDial(t *testing.T, s *slstest.Server) *rawConn {
	t.Helper()
	nc, err := s.DialContext(t.Context(), "tcp", s.Endpoint().String())
	if err != nil {
		t.Fatal(err)
	}
	c := tls.Client(nc, s.TLSConfig())
	t.Cleanup(func() { c.Close() })
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	return &rawConn{Conn: c, t: t}
}

// rawLogin opens a TLS connection and logs in with SaslHandshake v1 and
// SaslAuthenticate written by hand, returning the SaslAuthenticate
// response.
func rawLogin(t *testing.T, s *slstest.Server, user, pass string) (*rawConn, *kmsg.SASLAuthenticateResponse) {
	t.Helper()
	c := rawDial(t, s)
	hs := kmsg.NewPtrSASLHandshakeRequest()
	hs.Version = 1
	hs.Mechanism = "PLAIN"
	c.roundTrip(hs, hs.ResponseKind())
	au := kmsg.NewPtrSASLAuthenticateRequest()
	au.SASLAuthBytes = []byte("\x00" + user + "\x00" + pass)
	return c, c.roundTrip(au, au.ResponseKind()).(*kmsg.SASLAuthenticateResponse)
}

// rawAuthenticated opens a TLS connection and authenticates by hand,
// leaving the connection idle.
func rawAuthenticated(t *testing.T, s *slstest.Server) *rawConn {
	t.Helper()
	c, resp := rawLogin(t, s, s.Project(), password(t, s))
	if resp.ErrorCode != 0 {
		t.Fatalf("raw SASL authenticate: code %d", resp.ErrorCode)
	}
	return c
}

// send writes a request without waiting for its response.
func (c *rawConn) send(req kmsg.Request) {
	c.t.Helper()
	c.corr++
	c.sent = append(c.sent, c.corr)
	if _, err := c.Write(c.f.AppendRequest(nil, req, c.corr)); err != nil {
		c.t.Fatal(err)
	}
}

// recv reads the response to the oldest request sent and not yet answered
// into resp, which must have the request's version.
func (c *rawConn) recv(resp kmsg.Response) kmsg.Response {
	c.t.Helper()
	// A bound on a test that goes wrong, not a synchronisation.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		c.t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		c.t.Fatal(err)
	}
	if corr := int32(binary.BigEndian.Uint32(body)); corr != c.sent[0] {
		c.t.Fatalf("response has correlation id %d, want %d", corr, c.sent[0])
	}
	c.sent = c.sent[1:]
	if err := resp.ReadFrom(body[4:]); err != nil {
		c.t.Fatal(err)
	}
	return resp
}

func (c *rawConn) roundTrip(req kmsg.Request, resp kmsg.Response) kmsg.Response {
	c.t.Helper()
	c.send(req)
	resp.SetVersion(req.GetVersion())
	return c.recv(resp)
}

// checkClosed checks that the server closes the connection without
// answering.
func (c *rawConn) checkClosed() {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(make([]byte, 1))
	var ne net.Error
	switch {
	case err == nil:
		c.t.Fatalf("server answered (%d bytes), want the connection closed", n)
	case errors.As(err, &ne) && ne.Timeout():
		c.t.Fatalf("connection still open after 5s, want it closed: %v", err)
	}
}

// produceReq builds a produce request (v7, the newest Kafka 2.1 serves)
// for one partition, with records as they go on the wire.
func produceReq(topic string, partition int32, records []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Version = 7
	req.Acks = 1
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition = partition
	rp.Records = records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// produce sends a produce request and returns its one partition result.
func (c *rawConn) produce(topic string, partition int32, records []byte) kmsg.ProduceResponseTopicPartition {
	c.t.Helper()
	c.send(produceReq(topic, partition, records))
	return c.recvProduce()
}

func (c *rawConn) recvProduce() kmsg.ProduceResponseTopicPartition {
	c.t.Helper()
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = 7
	c.recv(resp)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		c.t.Fatalf("produce response = %+v, want one partition", resp)
	}
	return resp.Topics[0].Partitions[0]
}

// record encodes one record holding value, prefixed with its length.
func record(value string) []byte {
	body := recordBody(value)
	return append(kbin.AppendVarint(nil, int32(len(body))), body...)
}

// recordBody encodes one record holding value, without the length prefix.
func recordBody(value string) []byte {
	r := kmsg.Record{Value: []byte(value)}
	return r.AppendTo(nil)[1:] // AppendTo writes Length 0 as one byte
}

// recordBatch frames records as an uncompressed v2 batch that claims
// numRecords records, with a valid length and CRC.
func recordBatch(numRecords int32, records ...[]byte) []byte {
	ts := time.Now().UnixMilli()
	b := kmsg.RecordBatch{
		Magic:           2,
		LastOffsetDelta: numRecords - 1,
		FirstTimestamp:  ts,
		MaxTimestamp:    ts,
		ProducerID:      -1,
		ProducerEpoch:   -1,
		FirstSequence:   -1,
		NumRecords:      numRecords,
		Records:         bytes.Join(records, nil),
	}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	fixCRC(raw)
	return raw
}

// fixCRC sets the CRC of a v2 batch after its CRC-covered part changed.
func fixCRC(raw []byte) {
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
}

// TestMalformedRecordsAreCorrupt sends batches whose CRC is valid but
// whose records are not, and checks that each is refused with
// CORRUPT_MESSAGE, stores nothing, and leaves the connection and server
// serving. A negative record length used to slice out of range and crash
// the process.
func TestMalformedRecordsAreCorrupt(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	c := rawAuthenticated(t, s)
	body := recordBody("payload")
	for _, tc := range []struct {
		name  string
		batch []byte
	}{
		{"negative record length", recordBatch(1, kbin.AppendVarint(nil, -5), body)},
		{"record length past the batch", recordBatch(1, kbin.AppendVarint(nil, 1000), body)},
		{"huge record length", recordBatch(1, kbin.AppendVarint(nil, 1<<30), body)},
		{"record length shorter than the record", recordBatch(1, kbin.AppendVarint(nil, 2), body)},
		{"bytes after the last record", recordBatch(1, record("x"), []byte{0, 0, 0})},
		{"fewer records than counted", recordBatch(2, record("x"))},
		{"negative record count", recordBatch(-1, record("x"))},
		{"negative record count, no records", recordBatch(-1)},
		{"valid batch then a corrupt one", append(recordBatch(1, record("ok")), recordBatch(1, kbin.AppendVarint(nil, -5), body)...)},
	} {
		if got := c.produce("app", 0, tc.batch); got.ErrorCode != kerr.CorruptMessage.Code {
			t.Errorf("%s: error code %d (%v), want CORRUPT_MESSAGE", tc.name, got.ErrorCode, kerr.ErrorForCode(got.ErrorCode))
		}
	}
	if n := len(s.Logs("app")); n != 0 {
		t.Errorf("stored %d logs from corrupt batches", n)
	}
	// The connection still serves, and offsets start at 0.
	if got := c.produce("app", 0, recordBatch(2, record("a"), record("b"))); got.ErrorCode != 0 || got.BaseOffset != 0 {
		t.Errorf("valid batch after corrupt ones: code %d, base offset %d; want 0, 0", got.ErrorCode, got.BaseOffset)
	}
	checkStored(t, waitLogs(t, s, "app", 2), []map[string]string{content("a"), content("b")})
}

// TestDiscardRefusesNegativeRecordCount checks that Discard mode, which
// counts records without parsing them, refuses a negative count instead
// of moving the shard's offsets backwards.
func TestDiscardRefusesNegativeRecordCount(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, Discard: true})
	c := rawAuthenticated(t, s)
	if got := c.produce("app", 0, recordBatch(-3)); got.ErrorCode != kerr.CorruptMessage.Code {
		t.Errorf("negative record count: code %d, want CORRUPT_MESSAGE", got.ErrorCode)
	}
	for _, want := range []int64{0, 2} {
		if got := c.produce("app", 0, recordBatch(2, record("a"), record("b"))); got.ErrorCode != 0 || got.BaseOffset != want {
			t.Errorf("valid batch: code %d, base offset %d; want 0, %d", got.ErrorCode, got.BaseOffset, want)
		}
	}
	if got := s.Stats().Records; got != 4 {
		t.Errorf("Stats().Records = %d, want 4", got)
	}
}

// TestPreAuthFrameCap checks that before SASL authentication a frame over
// 512 KiB (Kafka's sasl.server.max.receive.size) closes the connection
// although MaxRequestBytes is larger, while after authentication such a
// frame is served.
func TestPreAuthFrameCap(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	c := rawDial(t, s)
	// Only the size: a server that accepted it would wait for the body.
	if _, err := c.Write(binary.BigEndian.AppendUint32(nil, 512<<10+1)); err != nil {
		t.Fatal(err)
	}
	c.checkClosed()

	authed := rawAuthenticated(t, s)
	big := strings.Repeat("x", 600<<10)
	if got := authed.produce("app", 0, recordBatch(1, record(big))); got.ErrorCode != 0 {
		t.Fatalf("600 KiB produce after authentication: code %d", got.ErrorCode)
	}
	if l := waitLogs(t, s, "app", 1); l[0].Fields["content"] != big {
		t.Errorf("600 KiB record stored as %d bytes", len(l[0].Fields["content"]))
	}
}

// TestMaxRequestBytes checks that an authenticated client sending a frame
// over MaxRequestBytes is disconnected.
func TestMaxRequestBytes(t *testing.T) {
	const limit = 64 << 10
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, MaxRequestBytes: limit})
	c := rawAuthenticated(t, s)
	if got := c.produce("app", 0, recordBatch(1, record(strings.Repeat("x", limit/2)))); got.ErrorCode != 0 {
		t.Fatalf("produce under the limit: code %d", got.ErrorCode)
	}
	if _, err := c.Write(binary.BigEndian.AppendUint32(nil, limit+1)); err != nil {
		t.Fatal(err)
	}
	c.checkClosed()
}

// TestSetLatencyKeepsPipelining sends produce requests back to back on one
// connection and checks that the latency delays each response without
// serialising them: all n are answered within two latencies, where one
// after the other they would take n. In a testing/synctest bubble on the
// in-memory listener, so the times are exact on any machine.
func TestSetLatencyKeepsPipelining(t *testing.T) {
	synctest.Test(t, testSetLatencyKeepsPipelining)
}

func testSetLatencyKeepsPipelining(t *testing.T) {
	const (
		latency = 500 * time.Millisecond
		n       = 5
	)
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, InMemory: true})
	c := rawAuthenticated(t, s)
	s.SetLatency(latency)
	start := time.Now()
	for i := range n {
		c.send(produceReq("app", 0, recordBatch(1, record(strings.Repeat("p", i+1)))))
	}
	for i := range n {
		if got := c.recvProduce(); got.ErrorCode != 0 || got.BaseOffset != int64(i) {
			t.Errorf("response %d: code %d, base offset %d", i, got.ErrorCode, got.BaseOffset)
		}
	}
	took := time.Since(start)
	if took < latency {
		t.Errorf("%d pipelined produces with latency %v answered in %v, want >= the latency", n, latency, took)
	}
	if took >= 2*latency {
		t.Errorf("%d pipelined produces with latency %v took %v, want < %v: responses were delayed one after another", n, latency, took, 2*latency)
	}
}

// TestOnLogOrderAcrossConnections has two connections write one shard while
// OnLog is busy with the first one's logs, and checks that OnLog still sees
// the shard's logs in offset order, one call at a time.
func TestOnLogOrderAcrossConnections(t *testing.T) {
	var (
		mu      sync.Mutex
		offsets []int64
		entered = make(chan struct{})
		release = make(chan struct{})
	)
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, OnLog: func(_ string, l slstest.Log) {
		mu.Lock()
		offsets = append(offsets, l.Offset)
		first := len(offsets) == 1
		mu.Unlock()
		if first {
			close(entered)
			<-release
		}
	}})
	a, b := rawAuthenticated(t, s), rawAuthenticated(t, s)

	a.send(produceReq("app", 0, recordBatch(2, record("a0"), record("a1"))))
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("OnLog not called within 10s")
	}
	b.send(produceReq("app", 0, recordBatch(1, record("b0"))))
	// While OnLog is busy with a0, b0 must not be stored (and handed to
	// OnLog before a1). The wait bounds how long b gets to show that it
	// can; with correct locking it cannot.
	c, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if _, err := s.WaitLogs(c, "app", 3); err == nil {
		t.Error("a log from a second connection was stored while OnLog ran for the first")
	}
	close(release)

	if got := a.recvProduce(); got.ErrorCode != 0 || got.BaseOffset != 0 {
		t.Errorf("first connection: code %d, base offset %d; want 0, 0", got.ErrorCode, got.BaseOffset)
	}
	if got := b.recvProduce(); got.ErrorCode != 0 || got.BaseOffset != 2 {
		t.Errorf("second connection: code %d, base offset %d; want 0, 2", got.ErrorCode, got.BaseOffset)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []int64{0, 1, 2}; !slices.Equal(offsets, want) {
		t.Errorf("OnLog saw offsets %v, want %v", offsets, want)
	}
}

// TestOnLogGetsOwnFields checks that OnLog may change the fields it is
// given without changing what Logs returns.
func TestOnLogGetsOwnFields(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, OnLog: func(_ string, l slstest.Log) {
		l.Fields["content"] = "changed by OnLog"
		l.Fields["added"] = "x"
	}})
	c := rawAuthenticated(t, s)
	if got := c.produce("app", 0, recordBatch(1, record("original"))); got.ErrorCode != 0 {
		t.Fatalf("produce: code %d", got.ErrorCode)
	}
	checkStored(t, s.Logs("app"), []map[string]string{content("original")})
}
