package slstest

import (
	"encoding/binary"
	"hash/crc32"
	"maps"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// served is the set of requests the emulator answers, at the version
// ranges a Kafka 2.1 broker advertises for them (see advertised). SLS's
// Kafka endpoint is a produce endpoint: consumer-group and admin requests
// are not served.
var served = map[int16]bool{
	kmsg.Produce.Int16():          true,
	kmsg.Metadata.Int16():         true,
	kmsg.SASLHandshake.Int16():    true, // 0..1, the range librdkafka requires before it authenticates
	kmsg.ApiVersions.Int16():      true,
	kmsg.InitProducerID.Int16():   true, // advertised so idempotent clients ask, then refused
	kmsg.SASLAuthenticate.Int16(): true,
}

// advertised is what ApiVersions lists: every request a Kafka 2.1 broker
// advertises, of which the emulator serves only the produce subset (served).
// Clients derive features from the whole list, not only from the requests
// they send: librdkafka (kcat, Fluent Bit, collectd) enables message format
// v2 only if Produce >= 3 and Fetch >= 4 are offered, LZ4 only if
// FindCoordinator is, and zstd only if Fetch >= 10 is. Offered the produce
// keys alone it falls back to message format v0, which SLS and the emulator
// refuse with UNSUPPORTED_FOR_MESSAGE_FORMAT. A request that is advertised
// but not served closes the connection (see conn.handleFrame).
var advertised, maxVersions = func() ([]kmsg.ApiVersionsResponseApiKey, map[int16]int16) {
	var keys []kmsg.ApiVersionsResponseApiKey
	maxV := make(map[int16]int16)
	kversion.V2_1_0().EachMaxKeyVersion(func(k, v int16) {
		keys = append(keys, kmsg.ApiVersionsResponseApiKey{ApiKey: k, MinVersion: 0, MaxVersion: v})
		maxV[k] = v
	})
	return keys, maxV
}()

// isAdvertised reports whether ApiVersions offers key at version.
func isAdvertised(key, version int16) bool {
	maxV, ok := maxVersions[key]
	return ok && version >= 0 && version <= maxV
}

// supported reports whether the emulator serves key at version.
func supported(key, version int16) bool {
	return served[key] && isAdvertised(key, version)
}

// apiVersions answers ApiVersions. A request newer than the broker knows is
// answered at v0 with UNSUPPORTED_VERSION and the supported ranges, which is
// how clients discover they must downgrade.
func apiVersions(version int16) kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	if !supported(kmsg.ApiVersions.Int16(), version) {
		version = 0
		resp.ErrorCode = kerr.UnsupportedVersion.Code
	}
	resp.SetVersion(version)
	resp.ApiKeys = append(resp.ApiKeys, advertised...)
	return resp
}

// nodeID is the single broker's id. SLS presents its endpoint as one broker
// that leads every shard.
const nodeID = 1

func (s *Server) metadata(req *kmsg.MetadataRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	clusterID := "sls-" + s.cfg.Project
	resp.ClusterID = &clusterID
	resp.ControllerID = nodeID
	resp.Brokers = []kmsg.MetadataResponseBroker{{NodeID: nodeID, Host: s.host, Port: int32(s.port)}}

	var topics []string
	if req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0) {
		// Every logstore is listed in both topic forms. Clients that
		// produce from a cached all-topics metadata response (kafka-go's
		// Transport by default) otherwise report <logstore>.json as
		// unknown, although produce requests to it are served.
		seen := make(map[string]bool)
		for _, name := range s.store.names() {
			for _, topic := range []string{name, name + jsonSuffix} {
				if !seen[topic] {
					seen[topic] = true
					topics = append(topics, topic)
				}
			}
		}
	} else {
		for _, t := range req.Topics {
			if t.Topic != nil {
				topics = append(topics, *t.Topic)
			}
		}
	}
	for _, topic := range topics {
		rt := kmsg.NewMetadataResponseTopic()
		rt.Topic = kmsg.StringPtr(topic)
		name, _, ok := s.store.resolve(topic)
		if !ok {
			rt.ErrorCode = kerr.UnknownTopicOrPartition.Code
			resp.Topics = append(resp.Topics, rt)
			continue
		}
		for shard := range s.store.shards(name) {
			p := kmsg.NewMetadataResponseTopicPartition()
			p.Partition = int32(shard)
			p.Leader = nodeID
			p.Replicas = []int32{nodeID}
			p.ISR = []int32{nodeID}
			rt.Partitions = append(rt.Partitions, p)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// produce stores what a produce request carries and builds its response.
// Every partition is answered; a partition's records are stored only if
// the whole partition is accepted, as Kafka appends a batch atomically.
func (s *Server) produce(c *conn, req *kmsg.ProduceRequest) kmsg.Response {
	s.stats.produces.Add(1)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	authErr := s.keys.valid(c.id)
	for _, t := range req.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = t.Topic
		name, expand, ok := s.store.resolve(t.Topic)

		var code int16
		switch {
		case authErr != nil:
			code = kerr.TopicAuthorizationFailed.Code
			s.log.Info("slstest: produce refused", "logstore", t.Topic, "reason", authErr.Error())
		case !ok:
			code = kerr.UnknownTopicOrPartition.Code
		default:
			if f, ok := s.takeFault(name); ok {
				code = faultCode(f)
				s.log.Info("slstest: serving injected fault", "logstore", name, "fault", f.String())
			}
		}

		for _, p := range t.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition = p.Partition
			rp.BaseOffset = -1
			switch {
			case code != 0:
				rp.ErrorCode = code
				if code == kerr.TopicAuthorizationFailed.Code {
					s.stats.authz.Add(1)
				}
			case p.Partition < 0 || int(p.Partition) >= s.store.shards(name):
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case s.cfg.Discard:
				n, errCode := s.count(p.Records)
				if errCode != 0 {
					rp.ErrorCode = errCode
					break
				}
				rp.BaseOffset = s.store.advance(name, int(p.Partition), n)
				s.stats.records.Add(int64(n))
			default:
				logs, errCode := s.decode(p.Records, expand)
				if errCode != 0 {
					rp.ErrorCode = errCode
					break
				}
				rp.BaseOffset = s.appendLogs(name, int(p.Partition), logs)
				rp.LogStartOffset = 0
				s.stats.records.Add(int64(len(logs)))
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// appendLogs stores logs on one shard, hands them to OnLog and returns the
// first offset assigned. Storing and OnLog happen under one lock, so that
// OnLog sees the logs of a shard in offset order and one call at a time,
// even when several connections write to the shard. OnLog gets its own
// copy of the fields, so it may keep or change them without touching
// what Logs returns.
func (s *Server) appendLogs(name string, shard int, logs []Log) int64 {
	if s.cfg.OnLog == nil {
		return s.store.append(name, shard, logs)
	}
	s.onLogMu.Lock()
	defer s.onLogMu.Unlock()
	base := s.store.append(name, shard, logs)
	for _, l := range logs {
		l.Fields = maps.Clone(l.Fields)
		s.cfg.OnLog(name, l)
	}
	return base
}

func faultCode(f Fault) int16 {
	if f == NetworkError {
		return kerr.NetworkException.Code
	}
	return kerr.KafkaStorageError.Code
}

// batchHeaderLen is the bytes before a v2 batch's CRC-covered part:
// FirstOffset(8) Length(4) PartitionLeaderEpoch(4) Magic(1) CRC(4).
const batchHeaderLen = 21

// count validates the record batches of one partition and returns how many
// records they hold, or the Kafka error code the partition is answered with.
func (s *Server) count(raw []byte) (int, int16) {
	n := 0
	for len(raw) > 0 {
		batch, rest, code := s.nextBatch(raw)
		if code != 0 {
			return 0, code
		}
		n += int(batch.NumRecords)
		raw = rest
	}
	return n, 0
}

// nextBatch splits off and checks the first record batch of raw.
func (s *Server) nextBatch(raw []byte) (kmsg.RecordBatch, []byte, int16) {
	var batch kmsg.RecordBatch
	if len(raw) < batchHeaderLen {
		return batch, nil, kerr.CorruptMessage.Code
	}
	length := int(int32(binary.BigEndian.Uint32(raw[8:])))
	if length < batchHeaderLen-12 || 12+length > len(raw) {
		return batch, nil, kerr.CorruptMessage.Code
	}
	if 12+length > s.cfg.MaxBatchBytes {
		return batch, nil, kerr.MessageTooLarge.Code
	}
	if magic := raw[16]; magic != 2 {
		// SLS accepts message format v2 only (Kafka 0.11+ clients).
		return batch, nil, kerr.UnsupportedForMessageFormat.Code
	}
	batchBytes := raw[:12+length]
	if crc32.Checksum(batchBytes[batchHeaderLen:], castagnoli) != binary.BigEndian.Uint32(batchBytes[17:]) {
		return batch, nil, kerr.CorruptMessage.Code
	}
	if err := batch.ReadFrom(batchBytes); err != nil || batch.NumRecords < 0 {
		// A negative count would move offsets backwards in Discard mode.
		return batch, nil, kerr.CorruptMessage.Code
	}
	return batch, raw[12+length:], 0
}

// decompressor decompresses record batches; it is safe for concurrent use.
var decompressor = kgo.DefaultDecompressor()

// decode parses the record batches of one partition into logs, or returns
// the Kafka error code the partition is answered with.
func (s *Server) decode(raw []byte, expand bool) ([]Log, int16) {
	var logs []Log
	for len(raw) > 0 {
		batch, rest, code := s.nextBatch(raw)
		if code != 0 {
			return nil, code
		}
		raw = rest
		codec := kgo.CompressionCodecType(batch.Attributes & 0x07)
		records, err := decompressor.Decompress(batch.Records, codec)
		if err != nil {
			return nil, kerr.CorruptMessage.Code
		}
		rd := kbin.Reader{Src: records}
		for range batch.NumRecords {
			// A record is its length (a varint) and that many bytes.
			// Record.ReadFrom does not check the length against what it
			// parses, so the record is cut out first and parsed alone:
			// a length that is negative, runs past the batch or is too
			// short for the record's fields makes the batch corrupt.
			start := rd.Src
			rd.Span(int(rd.Varint()))
			if !rd.Ok() {
				return nil, kerr.CorruptMessage.Code
			}
			var rec kmsg.Record
			if err := rec.ReadFrom(start[:len(start)-len(rd.Src)]); err != nil {
				return nil, kerr.CorruptMessage.Code
			}

			exp := expand
			for _, h := range rec.Headers {
				if h.Key == parseFormatHeader && string(h.Value) == "json" {
					exp = true
				}
			}
			logs = append(logs, Log{
				Time:   time.UnixMilli(batch.FirstTimestamp + rec.TimestampDelta64),
				Fields: fields(rec.Value, exp),
			})
		}
		if len(rd.Src) != 0 {
			// Bytes after the last record the batch counts.
			return nil, kerr.CorruptMessage.Code
		}
	}
	return logs, 0
}
