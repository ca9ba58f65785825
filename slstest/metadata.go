package slstest

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// nodeID is the single broker's id. SLS presents its endpoint as one broker
// that leads every shard.
const nodeID = 1

// metadata answers a Metadata request. A connection whose credential is
// refused (AtProduce, or a key revoked or expired since it authenticated)
// is told every topic it names is TOPIC_AUTHORIZATION_FAILED, and so is
// every topic when it asks for all. Kafka would list it no topic, as it
// lists only the topics a principal may describe; but clients that look
// their topic up in an all-topics response (kafka-go's Transport) then
// report a wrong AccessKey as an unknown topic, and SLS documents a wrong
// key as TopicAuthorizationException. What SLS answers is not documented.
func (s *Server) metadata(c *conn, req *kmsg.MetadataRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	authErr := c.authorized()
	clusterID := "sls-" + s.cfg.Project
	resp.ClusterID = &clusterID
	resp.ControllerID = nodeID
	resp.Brokers = []kmsg.MetadataResponseBroker{{NodeID: nodeID, Host: s.host, Port: int32(s.port)}}

	var topics []string
	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	switch {
	case all && c.id.otherProject:
		// The project does not exist, so it has no logstore to list.
	case all:
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
	default:
		for _, t := range req.Topics {
			if t.Topic != nil {
				topics = append(topics, *t.Topic)
			}
		}
	}
	if all && authErr != nil {
		s.log.Info("slstest: metadata refused", "topics", len(topics), "reason", authErr.Error())
	}
	for _, topic := range topics {
		rt := kmsg.NewMetadataResponseTopic()
		rt.Topic = kmsg.StringPtr(topic)
		name, _, ok := c.resolve(topic)
		if authErr != nil {
			rt.ErrorCode = kerr.TopicAuthorizationFailed.Code
			s.stats.authz.Add(1)
			if !all {
				s.log.Info("slstest: metadata refused", "logstore", topic, "reason", authErr.Error())
			}
			resp.Topics = append(resp.Topics, rt)
			continue
		}
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
