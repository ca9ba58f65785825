package slstest_test

// Clients that are broken or hostile: decompression bombs, clients that
// never read or never authenticate, floods of connections. Each test
// checks that the server bounds what the client costs and keeps serving a
// good client. Tests that wait for a timeout run in a testing/synctest
// bubble on an InMemory emulator, so they take no real time.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/slskafka/slskafka/slstest"
)

// compressedBatch frames records, compressed with codec, as a v2 batch that
// claims numRecords records.
func compressedBatch(t *testing.T, codec kgo.CompressionCodec, numRecords int32, records []byte) []byte {
	t.Helper()
	payload, used := compress(t, codec, records)
	return batchOf(used, numRecords, payload)
}

func compress(t *testing.T, codec kgo.CompressionCodec, src []byte) ([]byte, kgo.CompressionCodecType) {
	t.Helper()
	comp, err := kgo.DefaultCompressor(codec)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	payload, used := comp.Compress(&buf, src)
	return bytes.Clone(payload), used
}

// batchOf frames an already compressed payload as a v2 batch.
func batchOf(codec kgo.CompressionCodecType, numRecords int32, payload []byte) []byte {
	raw := recordBatch(numRecords, payload)
	raw[22] = byte(codec) // the low byte of Attributes
	fixCRC(raw)
	return raw
}

// bomb returns a payload that decompresses to mib MiB of zeros: one
// compressed MiB, repeated, as every codec allows (gzip members, lz4 and
// zstd frames, xerial snappy chunks), so that no test builds the bomb
// itself.
func bomb(t *testing.T, codec kgo.CompressionCodec, mib int) ([]byte, kgo.CompressionCodecType) {
	t.Helper()
	chunk, used := compress(t, codec, make([]byte, 1<<20))
	if used != kgo.CodecSnappy {
		return bytes.Repeat(chunk, mib), used
	}
	// The xerial framing: magic, version 1, compatible version 1, then
	// length-prefixed raw snappy chunks.
	out := []byte{130, 83, 78, 65, 80, 80, 89, 0, 0, 0, 0, 1, 0, 0, 0, 1}
	for range mib {
		out = binary.BigEndian.AppendUint32(out, uint32(len(chunk)))
		out = append(out, chunk...)
	}
	return out, used
}

// produceAlive checks that c, a good client, can still produce.
func produceAlive(t *testing.T, c *rawConn, value string) {
	t.Helper()
	if got := c.produce("app", 0, recordBatch(1, record(value))); got.ErrorCode != 0 {
		t.Fatalf("the good client's produce failed: code %d", got.ErrorCode)
	}
}

// allocatedDuring returns the bytes allocated while f ran, process wide.
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDecompressionBombs sends, for every codec, a batch of a few KiB
// that decompresses to 64 MiB of zeros, to an emulator bounded at 1 MiB
// decompressed per request. Each is answered MESSAGE_TOO_LARGE having
// allocated the bound and the decoder's working memory (lz4: up to two
// 4 MiB blocks, allocated afresh when the race detector empties the
// decoder pool), not the bomb.
func TestDecompressionBombs(t *testing.T) {
	const (
		bound    = 1 << 20
		mib      = 64
		maxAlloc = 32 << 20
	)
	// Batches up to 4 MiB on the wire, so that every bomb (snappy's is
	// 3 MB) reaches decompression.
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, MaxDecompressedBytes: bound, MaxBatchBytes: 4 << 20})
	good := rawAuthenticated(t, s)
	bad := rawAuthenticated(t, s)
	for _, tc := range []struct {
		name  string
		codec kgo.CompressionCodec
	}{
		{"gzip", kgo.GzipCompression()},
		{"snappy", kgo.SnappyCompression()},
		{"lz4", kgo.Lz4Compression()},
		{"zstd", kgo.ZstdCompression()},
	} {
		payload, codec := bomb(t, tc.codec, mib)
		batch := batchOf(codec, 1, payload)
		var got kmsg.ProduceResponseTopicPartition
		alloc := allocatedDuring(func() { got = bad.produce("app", 0, batch) })
		if got.ErrorCode != kerr.MessageTooLarge.Code {
			t.Errorf("%s bomb: code %d, want MESSAGE_TOO_LARGE", tc.name, got.ErrorCode)
		}
		t.Logf("%s: refusing a %d-byte batch of %d MiB decompressed allocated %d bytes", tc.name, len(batch), mib, alloc)
		// The frame is allocated by the test and by the server.
		if alloc > maxAlloc+2*uint64(len(batch)) {
			t.Errorf("%s: refusing a %d-byte batch of %d MiB decompressed allocated %d bytes, want under %d", tc.name, len(batch), mib, alloc, maxAlloc)
		}
		produceAlive(t, good, "still served after "+tc.name)
	}
	if n := len(s.Logs("app")); n != 4 {
		t.Errorf("stored %d logs, want only the good client's 4", n)
	}
}

// TestRecordCountBomb sends the zstd batch: 7-byte records, as
// many as 128 MiB holds, declared in the batch header. The default record
// bound refuses it before decompressing anything.
func TestRecordCountBomb(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	good := rawAuthenticated(t, s)
	bad := rawAuthenticated(t, s)
	const n = (128 << 20) / 7
	seven := record("") // length, attributes, deltas, null key, empty value, no headers
	if len(seven) != 7 {
		t.Fatalf("record is %d bytes, want 7", len(seven))
	}
	records := bytes.Repeat(seven, 1<<17) // a sample; the header claims n
	batch := compressedBatch(t, kgo.ZstdCompression(), n, records)
	var got kmsg.ProduceResponseTopicPartition
	alloc := allocatedDuring(func() { got = bad.produce("app", 0, batch) })
	if got.ErrorCode != kerr.MessageTooLarge.Code {
		t.Errorf("%d-record batch (%d bytes): code %d, want MESSAGE_TOO_LARGE", n, len(batch), got.ErrorCode)
	}
	if alloc > 4<<20 {
		t.Errorf("refusing a %d-byte batch allocated %d bytes", len(batch), alloc)
	}
	produceAlive(t, good, "still served")
}

// TestRequestBounds checks that the bounds hold for a produce request as a
// whole: two batches that each fit, on two shards, are more than one
// request may decompress or store; the first is stored, the second
// refused.
func TestRequestBounds(t *testing.T) {
	big := strings.Repeat("x", 600<<10)
	for _, tc := range []struct {
		name    string
		cfg     slstest.Config
		records int32
		batch   []byte
	}{
		{"decompressed bytes", slstest.Config{MaxDecompressedBytes: 1 << 20}, 1, record(big)},
		{"records", slstest.Config{MaxRecords: 10}, 6, bytes.Repeat(record("r"), 6)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Logstores = map[string]int{"app": 2}
			s := slstest.New(t, tc.cfg)
			c := rawAuthenticated(t, s)
			batch := compressedBatch(t, kgo.GzipCompression(), tc.records, tc.batch)
			req := produceReq("app", 0, batch)
			second := req.Topics[0].Partitions[0]
			second.Partition = 1
			req.Topics[0].Partitions = append(req.Topics[0].Partitions, second)
			c.send(req)
			resp := kmsg.NewPtrProduceResponse()
			resp.Version = req.Version
			c.recv(resp)
			parts := resp.Topics[0].Partitions
			if len(parts) != 2 || parts[0].ErrorCode != 0 || parts[1].ErrorCode != kerr.MessageTooLarge.Code {
				t.Fatalf("partitions %+v: want the first stored and the second MESSAGE_TOO_LARGE", parts)
			}
			if logs := s.Logs("app"); len(logs) != int(tc.records) || logs[0].Shard != 0 {
				t.Errorf("stored %d logs, want the %d of shard 0", len(logs), tc.records)
			}
			// The bound is per request: the next request is served.
			if got := c.produce("app", 1, batch); got.ErrorCode != 0 {
				t.Errorf("the next request: code %d", got.ErrorCode)
			}
		})
	}
}

// TestPreAuthRequestBound pipelines ApiVersions requests without
// authenticating and checks that the server closes the connection after
// maxPreAuthRequests, while a good client is served.
func TestPreAuthRequestBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{InMemory: true, Logstores: map[string]int{"app": 1}})
		good := rawAuthenticated(t, s)
		bad := rawDial(t, s)
		// The responses are never read: only the server's reads are
		// what lets the writes through.
		go func() {
			for {
				req := kmsg.NewPtrApiVersionsRequest()
				if _, err := bad.Write(bad.f.AppendRequest(nil, req, 1)); err != nil {
					return
				}
			}
		}()
		synctest.Wait()
		bad.checkClosed()
		produceAlive(t, good, "still served")
	})
}

// TestPreAuthWriteDeadline pipelines a few ApiVersions requests, within the
// request bound, and never reads the responses: the handshake deadline
// closes the connection 10 s after it opened, and its goroutines end.
func TestPreAuthWriteDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{InMemory: true, Logstores: map[string]int{"app": 1}})
		bad := rawDial(t, s) // no time passes in the bubble while it connects
		for range 3 {
			bad.send(kmsg.NewPtrApiVersionsRequest())
		}
		openFor(t, s, 10*time.Second)
		good := rawAuthenticated(t, s)
		produceAlive(t, good, "still served")
	})
}

// TestAuthenticatedNonReaderIsCut pipelines produce requests on an
// authenticated connection and never reads a response: once its queue is
// full, the write deadline (IdleTimeout) closes the connection.
func TestAuthenticatedNonReaderIsCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const idle = time.Minute
		s := slstest.New(t, slstest.Config{InMemory: true, Logstores: map[string]int{"app": 1}, IdleTimeout: idle})
		bad := rawAuthenticated(t, s)
		go func() {
			req := produceReq("app", 0, recordBatch(1, record("unread")))
			for {
				if _, err := bad.Write(bad.f.AppendRequest(nil, req, 1)); err != nil {
					return
				}
			}
		}()
		synctest.Wait()
		if open := s.Stats().OpenConnections; open != 1 {
			t.Fatalf("OpenConnections = %d, want 1", open)
		}
		time.Sleep(idle)
		synctest.Wait()
		if open := s.Stats().OpenConnections; open != 0 {
			t.Errorf("OpenConnections = %d after a write blocked for IdleTimeout, want 0", open)
		}
	})
}

// openFor checks, in a synctest bubble, that s holds one connection until
// d from now and none after.
func openFor(t *testing.T, s *slstest.Server, d time.Duration) {
	t.Helper()
	time.Sleep(d - time.Nanosecond)
	synctest.Wait()
	if open := s.Stats().OpenConnections; open != 1 {
		t.Fatalf("OpenConnections = %d before %v, want 1", open, d)
	}
	time.Sleep(time.Nanosecond)
	synctest.Wait()
	if open := s.Stats().OpenConnections; open != 0 {
		t.Errorf("OpenConnections = %d after %v, want 0", open, d)
	}
}

// TestIdleTimeout checks that an authenticated connection is closed after
// IdleTimeout without a request, and not before.
func TestIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const idle = time.Minute
		s := slstest.New(t, slstest.Config{InMemory: true, Logstores: map[string]int{"app": 1}, IdleTimeout: idle})
		c := rawAuthenticated(t, s)
		time.Sleep(idle - time.Second)
		produceAlive(t, c, "before the idle timeout") // restarts it
		openFor(t, s, idle)
		c.checkClosed()
	})
}

// TestDefaultIdleTimeout checks the default, Kafka's 10 minutes.
func TestDefaultIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{InMemory: true})
		rawAuthenticated(t, s)
		openFor(t, s, 10*time.Minute)
	})
}

// TestLatencyEndsWithConnection leaves a produce response held back by an
// hour of latency and disconnects: the connection's goroutines end at
// once, not when the hour has passed.
func TestLatencyEndsWithConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{InMemory: true, Logstores: map[string]int{"app": 1}, Latency: time.Hour})
		start := time.Now()
		c := rawAuthenticated(t, s)
		c.send(produceReq("app", 0, recordBatch(1, record("held"))))
		synctest.Wait()
		if n := len(s.Logs("app")); n != 1 {
			t.Fatalf("stored %d logs, want 1", n)
		}
		c.Close()
		synctest.Wait()
		if open := s.Stats().OpenConnections; open != 0 {
			t.Errorf("OpenConnections = %d after the client left, want 0", open)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("the connection ended after %v of fake time, want at once", waited)
		}
	})
}

// TestConnectionLimit fills MaxConnections and checks that a further
// connection is closed at once, counted and logged once, and that the
// limit frees up when a connection ends.
func TestConnectionLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		s := slstest.New(t, slstest.Config{InMemory: true, Logstores: map[string]int{"app": 1}, MaxConnections: 2,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		good := rawAuthenticated(t, s)
		hog, err := s.DialContext(t.Context(), "", "")
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			extra, err := s.DialContext(t.Context(), "", "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := extra.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
				t.Errorf("a connection over the limit: read = %v, want EOF", err)
			}
			extra.Close()
		}
		if st := s.Stats(); st.RejectedConnections != 3 || st.OpenConnections != 2 {
			t.Errorf("Stats = %+v, want 3 rejected and 2 open", st)
		}
		if n := strings.Count(logs.String(), "connection limit reached"); n != 1 {
			t.Errorf("logged the limit %d times, want once:\n%s", n, logs.String())
		}
		produceAlive(t, good, "at the limit")
		hog.Close()
		synctest.Wait()
		produceAlive(t, rawAuthenticated(t, s), "after the limit freed up")
	})
}

// TestPlaintextClientLoggedOnce connects two clients that speak plaintext
// Kafka to the TLS port and checks that the first is logged as a warning
// naming the fix, and the second is not logged again.
func TestPlaintextClientLoggedOnce(t *testing.T) {
	var logs bytes.Buffer // written under the handler's lock, read after Close
	s := slstest.New(t, slstest.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for range 2 {
		nc, err := net.Dial("tcp", s.Endpoint().String())
		if err != nil {
			t.Fatal(err)
		}
		var f kmsg.RequestFormatter
		if _, err := nc.Write(f.AppendRequest(nil, kmsg.NewPtrApiVersionsRequest(), 1)); err != nil {
			t.Fatal(err)
		}
		// The server answers with a TLS alert, or closes.
		nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		io.Copy(io.Discard, nc)
		nc.Close()
	}
	s.Close()
	if n := strings.Count(logs.String(), "plaintext"); n != 1 || !strings.Contains(logs.String(), "SASL_SSL") {
		t.Errorf("logged plaintext clients %d times, want once, naming SASL_SSL:\n%s", n, logs.String())
	}
}

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// frameHeader returns the 4-byte header of a request frame of n bytes.
func frameHeader(n int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

// TestDeclaredFrameSizeCostsNothing opens 40 authenticated connections
// that each send only the header of a 100 MiB frame (MaxRequestBytes) and
// one byte of it. The emulator holds what arrived, not what was declared:
// the heap grows by far less than 256 MiB (it grew by 4 GiB when each
// header allocated its frame), and a good client is served meanwhile.
func TestDeclaredFrameSizeCostsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const conns = 40
		s := slstest.New(t, slstest.Config{InMemory: true, Logstores: map[string]int{"app": 1}})
		good := rawAuthenticated(t, s)
		before := heapInUse()
		for range conns {
			bad := rawAuthenticated(t, s)
			if _, err := bad.Write(frameHeader(100 << 20)); err != nil {
				t.Fatal(err)
			}
			// A write on a pipe returns once the server has read it:
			// this byte is read into the frame's buffer.
			if _, err := bad.Write([]byte{0}); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		grown := int64(heapInUse()) - int64(before)
		if grown >= 256<<20 {
			t.Errorf("heap grew by %d MiB for %d frame headers, want < 256 MiB", grown>>20, conns)
		}
		if pending := s.Stats().PendingRequestBytes; pending > conns*64<<10 {
			t.Errorf("PendingRequestBytes = %d, want at most %d: 64 KiB per connection", pending, conns*64<<10)
		}
		t.Logf("heap grew by %.1f MiB; %d bytes pending", float64(grown)/(1<<20), s.Stats().PendingRequestBytes)
		produceAlive(t, good, "served while 40 frames are pending")
		if open := s.Stats().OpenConnections; open != conns+1 {
			t.Errorf("OpenConnections = %d, want %d: a pending frame is not an error", open, conns+1)
		}
	})
}

// apiVersionsFrame is a whole ApiVersions v0 request frame of n bytes
// with correlation id corr: the header, then padding the emulator does not
// read (ApiVersions v0 has no body).
func apiVersionsFrame(n int, corr int32) []byte {
	f := frameHeader(n)
	f = binary.BigEndian.AppendUint16(f, uint16(kmsg.ApiVersions.Int16()))
	f = binary.BigEndian.AppendUint16(f, 0)
	f = binary.BigEndian.AppendUint32(f, uint32(corr))
	f = binary.BigEndian.AppendUint16(f, 0xffff) // null client id
	return append(f, make([]byte, n+4-len(f))...)
}

// TestPendingRequestBytesAreCapped checks the bound on what all
// connections hold together: while one connection's frame holds all of
// MaxPendingRequestBytes, another connection that starts a frame is
// closed; the first is answered, and once it is, a new client is served.
func TestPendingRequestBytesAreCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const budget = 1 << 20
		s := slstest.New(t, slstest.Config{InMemory: true, Logstores: map[string]int{"app": 1},
			MaxRequestBytes: budget, MaxPendingRequestBytes: budget})
		big := rawAuthenticated(t, s)
		other := rawAuthenticated(t, s)
		frame := apiVersionsFrame(budget, 1)
		half := 4 + budget/2 + 1 // past half: the buffer has grown to the whole frame
		if _, err := big.Write(frame[:half]); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if pending := s.Stats().PendingRequestBytes; pending != budget {
			t.Fatalf("PendingRequestBytes = %d, want %d", pending, budget)
		}
		other.Write(frameHeader(1000))
		other.checkClosed()

		if _, err := big.Write(frame[half:]); err != nil {
			t.Fatal(err)
		}
		big.sent = append(big.sent, 1)
		if resp := big.recv(kmsg.NewPtrApiVersionsResponse()).(*kmsg.ApiVersionsResponse); resp.ErrorCode != 0 {
			t.Fatalf("the whole frame: code %d", resp.ErrorCode)
		}
		synctest.Wait()
		if pending := s.Stats().PendingRequestBytes; pending != 0 {
			t.Errorf("PendingRequestBytes = %d once the frame is handled, want 0", pending)
		}
		produceAlive(t, rawAuthenticated(t, s), "served once the frame is handled")
	})
}

// TestUnreadResponsesAreBounded pipelines fetch requests, each answered
// with a 900 KiB record, on a connection that never reads: the
// connection stops reading requests once maxQueuedResponseBytes (8 MiB) of
// responses wait, instead of holding 64 of them (58 MiB).
func TestUnreadResponsesAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := slstest.New(t, slstest.Config{InMemory: true, Logstores: map[string]int{"app": 1}})
		bad := rawAuthenticated(t, s)
		if got := bad.produce("app", 0, recordBatch(1, record(strings.Repeat("f", 900<<10)))); got.ErrorCode != 0 {
			t.Fatalf("produce: code %d", got.ErrorCode)
		}
		fetch := kmsg.NewPtrFetchRequest()
		fetch.Version = 10
		fetch.ReplicaID = -1
		fetch.MaxBytes = 50 << 20
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic = "app"
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.PartitionMaxBytes = 50 << 20
		ft.Partitions = append(ft.Partitions, fp)
		fetch.Topics = append(fetch.Topics, ft)
		frame := bad.f.AppendRequest(nil, fetch, 1)

		before := heapInUse()
		go func() {
			for {
				if _, err := bad.Write(frame); err != nil {
					return
				}
			}
		}()
		synctest.Wait()
		grown := int64(heapInUse()) - int64(before)
		t.Logf("heap grew by %.1f MiB", float64(grown)/(1<<20))
		if grown > 20<<20 {
			t.Errorf("heap grew by %d MiB for unread fetch responses, want at most 20 MiB", grown>>20)
		}
		produceAlive(t, rawAuthenticated(t, s), "still served")
	})
}
