package slstest

import (
	"encoding/binary"
	"hash/crc32"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

const apiVersionsKey = 18

var (
	errUnsupportedVersion         = kerr.UnsupportedVersion.Code
	errUnsupportedSASLMechanism   = kerr.UnsupportedSaslMechanism.Code
	errSASLAuthenticationFailed   = kerr.SaslAuthenticationFailed.Code
	errClusterAuthorizationFailed = kerr.ClusterAuthorizationFailed.Code
)

// served lists the requests the emulator answers, with the version ranges a
// Kafka 2.1 broker advertises for them. SLS's Kafka endpoint is a produce
// endpoint: consumer-group and admin requests are not served.
var served = func() map[int16][2]int16 {
	v21 := kversion.V2_1_0()
	m := make(map[int16][2]int16)
	for _, k := range []int16{
		0,  // Produce
		3,  // Metadata
		17, // SaslHandshake: 0..1, the range librdkafka requires before it authenticates
		18, // ApiVersions
		22, // InitProducerID: advertised so idempotent clients ask, then refused
		36, // SaslAuthenticate
	} {
		maxV, ok := v21.LookupMaxKeyVersion(k)
		if !ok {
			panic("slstest: kversion 2.1.0 lacks key " + kmsg.NameForKey(k))
		}
		m[k] = [2]int16{0, maxV}
	}
	return m
}()

func supported(key, version int16) bool {
	r, ok := served[key]
	return ok && version >= r[0] && version <= r[1]
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
var advertised = func() []kmsg.ApiVersionsResponseApiKey {
	var keys []kmsg.ApiVersionsResponseApiKey
	kversion.V2_1_0().EachMaxKeyVersion(func(k, v int16) {
		keys = append(keys, kmsg.ApiVersionsResponseApiKey{ApiKey: k, MinVersion: 0, MaxVersion: v})
	})
	for _, k := range keys {
		if r, ok := served[k.ApiKey]; ok && (r[0] != k.MinVersion || r[1] != k.MaxVersion) {
			panic("slstest: served and advertised ranges differ for " + kmsg.NameForKey(k.ApiKey))
		}
	}
	return keys
}()

// isAdvertised reports whether ApiVersions offers key at version.
func isAdvertised(key, version int16) bool {
	for _, k := range advertised {
		if k.ApiKey == key {
			return version >= k.MinVersion && version <= k.MaxVersion
		}
	}
	return false
}

// apiVersions answers ApiVersions. A request newer than the broker knows is
// answered at v0 with UNSUPPORTED_VERSION and the supported ranges, which is
// how clients discover they must downgrade.
func apiVersions(version int16) kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	if !supported(apiVersionsKey, version) {
		version = 0
		resp.ErrorCode = errUnsupportedVersion
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
			rp.LogAppendTime = -1
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
				rp.BaseOffset = s.store.append(name, int(p.Partition), logs)
				rp.LogStartOffset = 0
				s.stats.records.Add(int64(len(logs)))
				if s.cfg.OnLog != nil {
					for _, l := range logs {
						s.cfg.OnLog(name, l)
					}
				}
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
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
	if err := batch.ReadFrom(batchBytes); err != nil {
		return batch, nil, kerr.CorruptMessage.Code
	}
	return batch, raw[12+length:], 0
}

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
		records, err := kgo.DefaultDecompressor().Decompress(batch.Records, codec)
		if err != nil {
			return nil, kerr.CorruptMessage.Code
		}
		for range batch.NumRecords {
			var rec kmsg.Record
			if err := rec.ReadFrom(records); err != nil {
				return nil, kerr.CorruptMessage.Code
			}
			n, amt := binary.Varint(records)
			if amt <= 0 || int(n)+amt > len(records) {
				return nil, kerr.CorruptMessage.Code
			}
			records = records[int(n)+amt:]

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
	}
	return logs, 0
}
