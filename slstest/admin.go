package slstest

import (
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxVirtualTopics is how many SPL virtual topics SLS lets a logstore have:
// <logstore>.0 to <logstore>.31 (SLS samples).
const maxVirtualTopics = 32

// Why the topic admin requests are refused. They are answered, not cut
// off, so that an admin tool shows the reason instead of a broken
// connection.
const (
	notEmulatedSPL = "slstest does not emulate SPL virtual topics (<logstore>.0 to .31 with a query config, which SLS creates with CreateTopics): try them against an SLS project"
	noLogstoreDDL  = "SLS creates and deletes logstores through its console or API, not through the Kafka endpoint (slstest: Config.Logstores, Server.SetShards)"
	noConfigs      = "slstest does not emulate topic configs (SLS keeps a query config on SPL virtual topics only)"
)

// virtualTopic reports whether topic names an SPL virtual topic of an
// existing logstore, <logstore>.N with N from 0 to 31.
func (s *Server) virtualTopic(topic string) bool {
	i := strings.LastIndexByte(topic, '.')
	if i < 0 {
		return false
	}
	n, err := strconv.Atoi(topic[i+1:])
	if err != nil || n < 0 || n >= maxVirtualTopics || strconv.Itoa(n) != topic[i+1:] {
		return false
	}
	return s.store.shards(topic[:i]) > 0
}

// createTopics refuses every topic with an error a client can show. An
// existing logstore is TOPIC_ALREADY_EXISTS; anything else is
// POLICY_VIOLATION with a message (v1 and later carry one) saying why.
func (s *Server) createTopics(c *conn, req *kmsg.CreateTopicsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	authErr := c.authorized()
	for _, t := range req.Topics {
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic = t.Topic
		msg := ""
		_, _, known := c.resolve(t.Topic)
		switch {
		case authErr != nil:
			rt.ErrorCode = kerr.TopicAuthorizationFailed.Code
		case known:
			rt.ErrorCode = kerr.TopicAlreadyExists.Code
		case s.virtualTopic(t.Topic):
			rt.ErrorCode, msg = kerr.PolicyViolation.Code, notEmulatedSPL
		default:
			rt.ErrorCode, msg = kerr.PolicyViolation.Code, noLogstoreDDL
		}
		if msg != "" {
			s.log.Warn("slstest: CreateTopics refused: "+msg, "topic", t.Topic)
			rt.ErrorMessage = &msg
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// deleteTopics refuses every topic: UNKNOWN_TOPIC_OR_PARTITION for one
// that does not exist, POLICY_VIOLATION otherwise (DeleteTopics up to v3
// carries no message, so the reason is logged).
func (s *Server) deleteTopics(c *conn, req *kmsg.DeleteTopicsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	authErr := c.authorized()
	for _, topic := range req.TopicNames {
		rt := kmsg.NewDeleteTopicsResponseTopic()
		rt.Topic = &topic
		_, _, known := c.resolve(topic)
		switch {
		case authErr != nil:
			rt.ErrorCode = kerr.TopicAuthorizationFailed.Code
		case known:
			rt.ErrorCode = kerr.PolicyViolation.Code
			s.log.Warn("slstest: DeleteTopics refused: "+noLogstoreDDL, "topic", topic)
		case s.virtualTopic(topic):
			rt.ErrorCode = kerr.PolicyViolation.Code
			s.log.Warn("slstest: DeleteTopics refused: "+notEmulatedSPL, "topic", topic)
		default:
			rt.ErrorCode = kerr.UnknownTopicOrPartition.Code
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// describeConfigs refuses every resource: UNKNOWN_TOPIC_OR_PARTITION for a
// topic that does not exist, POLICY_VIOLATION with a message otherwise.
func (s *Server) describeConfigs(c *conn, req *kmsg.DescribeConfigsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	authErr := c.authorized()
	for _, r := range req.Resources {
		rr := kmsg.NewDescribeConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = r.ResourceType, r.ResourceName
		msg := noConfigs
		switch _, _, known := c.resolve(r.ResourceName); {
		case r.ResourceType != kmsg.ConfigResourceTypeTopic:
			if authErr != nil {
				rr.ErrorCode, msg = kerr.ClusterAuthorizationFailed.Code, ""
			} else {
				rr.ErrorCode = kerr.PolicyViolation.Code
			}
		case authErr != nil:
			rr.ErrorCode, msg = kerr.TopicAuthorizationFailed.Code, ""
		case known:
			rr.ErrorCode = kerr.PolicyViolation.Code
		case s.virtualTopic(r.ResourceName):
			rr.ErrorCode, msg = kerr.PolicyViolation.Code, notEmulatedSPL
		default:
			rr.ErrorCode, msg = kerr.UnknownTopicOrPartition.Code, ""
		}
		if msg != "" {
			rr.ErrorMessage = &msg
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return resp
}
