package slstest

import (
	"encoding/binary"
	"hash/crc32"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxFetchBytes caps a fetch response, whatever the client asks for
// (Kafka's broker caps it at fetch.max.bytes, 55 MiB). Responses queue
// per connection while a client does not read them; the cap keeps that
// queue small. A record larger than the cap is still returned, alone, as
// Kafka returns the first batch whatever its size.
const maxFetchBytes = 1 << 20

// fetch answers a Fetch request: the records of each partition from the
// fetch offset on, keys and values as SLS serves them (see consumed), in
// one uncompressed batch. If there is less than MinBytes to return, it waits for writes up
// to MaxWaitMillis, as a Kafka broker does. It returns nil if the
// connection ends while it waits.
//
// Fetch sessions (KIP-227) are not kept: every response has session id 0,
// which tells clients to send full fetch requests.
func (s *Server) fetch(c *conn, req *kmsg.FetchRequest) kmsg.Response {
	if req.SessionID != 0 {
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		return resp
	}
	authErr := c.authorized()
	wait := time.NewTimer(min(time.Duration(req.MaxWaitMillis)*time.Millisecond, s.cfg.IdleTimeout))
	defer wait.Stop()
	for {
		resp, size, failed, changed := s.fetchOnce(c, req, authErr)
		if failed || size >= int(req.MinBytes) {
			return resp
		}
		select {
		case <-changed:
		case <-wait.C:
			return resp
		case <-c.quit:
			return nil
		}
	}
}

// fetchOnce builds a fetch response from what is stored now. It returns
// the bytes of record values in it, whether a partition failed (which
// answers at once), and a channel closed on the next write.
func (s *Server) fetchOnce(c *conn, req *kmsg.FetchRequest, authErr error) (*kmsg.FetchResponse, int, bool, <-chan struct{}) {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	left := maxFetchBytes
	if req.Version >= 3 {
		left = min(left, int(req.MaxBytes))
	}
	// Taken first, so that a write after any read below wakes the wait.
	changed := s.store.changes()
	size, failed := 0, false
	for _, t := range req.Topics {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = t.Topic
		name, _, known := c.resolve(t.Topic)
		for _, p := range t.Partitions {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition = p.Partition
			// Empty, not null: librdkafka fails to parse a null
			// record set, which Kafka never sends.
			rp.RecordBatches = []byte{}
			start, next, ok := s.store.offsets(name, int(p.Partition))
			rp.ErrorCode = s.readable(authErr, known, ok, req.Version)
			switch {
			case rp.ErrorCode != 0:
			case p.FetchOffset < start || p.FetchOffset > next:
				rp.ErrorCode = kerr.OffsetOutOfRange.Code
			default:
				limit := min(int(p.PartitionMaxBytes), left)
				recs := s.store.read(name, int(p.Partition), p.FetchOffset, limit, size == 0)
				if len(recs) > 0 {
					rp.RecordBatches = encodeBatch(recs)
					for _, r := range recs {
						size += r.size()
						left -= r.size()
					}
				}
			}
			if rp.ErrorCode != 0 {
				failed = true
			}
			if rp.ErrorCode == 0 || rp.ErrorCode == kerr.OffsetOutOfRange.Code {
				rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = next, next, start
			} else {
				rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = -1, -1, -1
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp, size, failed, changed
}

// readable returns the error code a partition a consumer asks for is
// answered with, or 0.
func (s *Server) readable(authErr error, known, exists bool, fetchVersion int16) int16 {
	switch {
	case authErr != nil:
		s.stats.authz.Add(1)
		return kerr.TopicAuthorizationFailed.Code
	case !known || !exists:
		return kerr.UnknownTopicOrPartition.Code
	case fetchVersion >= 0 && fetchVersion < 4:
		// Fetch v0-v3 carry message format v0/v1, which SLS never
		// stored (it takes v2 only) and the emulator does not convert
		// to. Clients of Kafka 0.11 and later fetch at v4 or above.
		return kerr.UnsupportedForMessageFormat.Code
	}
	return 0
}

// encodeBatch encodes stored records, in offset order, as one
// uncompressed v2 record batch. Offsets may have gaps between records
// (Config.JumpingOffsets), as compacted Kafka batches do. Headers are not
// kept, so records carry none.
func encodeBatch(recs []stored) []byte {
	base := recs[0].offset
	first, last := recs[0].ms, recs[0].ms
	var records, body []byte
	for _, r := range recs {
		last = max(last, r.ms)
		body = append(body[:0], 0) // attributes
		body = kbin.AppendVarlong(body, r.ms-first)
		body = kbin.AppendVarint(body, int32(r.offset-base))
		if r.key == nil {
			body = kbin.AppendVarint(body, -1)
		} else {
			body = kbin.AppendVarint(body, int32(len(r.key)))
			body = append(body, r.key...)
		}
		body = kbin.AppendVarint(body, int32(len(r.value)))
		body = append(body, r.value...)
		body = kbin.AppendVarint(body, 0) // no headers
		records = kbin.AppendVarint(records, int32(len(body)))
		records = append(records, body...)
	}
	b := kmsg.RecordBatch{
		FirstOffset:          base,
		PartitionLeaderEpoch: -1,
		Magic:                2,
		LastOffsetDelta:      int32(recs[len(recs)-1].offset - base),
		FirstTimestamp:       first,
		MaxTimestamp:         last,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           int32(len(recs)),
		Records:              records,
	}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[batchHeaderLen:], castagnoli))
	return raw
}

// listOffsets answers ListOffsets: the first offset held (timestamp -2),
// the next offset (-1), or the first offset whose record timestamp is at
// or after the one asked for.
func (s *Server) listOffsets(c *conn, req *kmsg.ListOffsetsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	authErr := c.authorized()
	for _, t := range req.Topics {
		rt := kmsg.NewListOffsetsResponseTopic()
		rt.Topic = t.Topic
		name, _, known := c.resolve(t.Topic)
		for _, p := range t.Partitions {
			rp := kmsg.NewListOffsetsResponseTopicPartition()
			rp.Partition = p.Partition
			start, next, ok := s.store.offsets(name, int(p.Partition))
			rp.ErrorCode = s.readable(authErr, known, ok, -1)
			if rp.ErrorCode == 0 {
				rp.Offset, rp.Timestamp = -1, -1
				switch p.Timestamp {
				case -2:
					rp.Offset = start
				case -1:
					rp.Offset = next
				default:
					if o, at, found := s.store.offsetForTime(name, int(p.Partition), p.Timestamp); found {
						rp.Offset, rp.Timestamp = o, at
					}
				}
				if req.Version == 0 && rp.Offset >= 0 {
					rp.OldStyleOffsets = []int64{rp.Offset}
				}
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}
