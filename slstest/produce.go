package slstest

import (
	"maps"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// produce stores what a produce request carries and builds its response.
// Every partition is answered; a partition's records are stored only if
// the whole partition is accepted, as Kafka appends a batch atomically.
func (s *Server) produce(c *conn, req *kmsg.ProduceRequest) *kmsg.ProduceResponse {
	s.stats.produces.Add(1)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	authErr := c.authorized()
	b := budget{bytes: s.cfg.MaxDecompressedBytes, records: s.cfg.MaxRecords}
	var throttle time.Duration
	for _, t := range req.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = t.Topic
		name, expand, ok := c.resolve(t.Topic)

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
			if ok {
				throttle = max(throttle, s.store.throttle(name, int(p.Partition)))
			}
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
				logs, errCode := s.decode(p.Records, expand, &b)
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
	if throttle > 0 {
		resp.ThrottleMillis = int32(throttle / time.Millisecond)
		s.log.Debug("slstest: produce request throttled (ThrottleShard)", "throttle", throttle)
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
