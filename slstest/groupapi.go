package slstest

import (
	"bytes"
	"maps"
	"net"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// handle answers the group requests. It returns false for any other
// request, and a nil response if the connection ended while the request
// waited (JoinGroup and SyncGroup wait for the other members).
func (co *coordinator) handle(c *conn, req kmsg.Request) (kmsg.Response, bool) {
	switch req := req.(type) {
	case *kmsg.FindCoordinatorRequest:
		return co.findCoordinator(c, req), true
	case *kmsg.JoinGroupRequest:
		return co.join(c, req), true
	case *kmsg.SyncGroupRequest:
		return co.sync(c, req), true
	case *kmsg.HeartbeatRequest:
		return co.heartbeat(c, req), true
	case *kmsg.LeaveGroupRequest:
		return co.leave(c, req), true
	case *kmsg.OffsetCommitRequest:
		return co.offsetCommit(c, req), true
	case *kmsg.OffsetFetchRequest:
		return co.offsetFetch(c, req), true
	case *kmsg.ListGroupsRequest:
		return co.listGroups(c, req), true
	case *kmsg.DescribeGroupsRequest:
		return co.describeGroups(c, req), true
	case *kmsg.DeleteGroupsRequest:
		return co.deleteGroups(c, req), true
	}
	return nil, false
}

// noTransactions is why a transactional client is refused, sent in
// FindCoordinator's error message (which librdkafka and the Java client
// show; franz-go shows the code only) and logged.
var noTransactions = "SLS has no transactions: produce without a transactional id, with idempotence off (enable.idempotence=false)"

// findCoordinator names the one broker as every group's coordinator. SLS
// has no transactions, so a transaction coordinator is refused.
func (co *coordinator) findCoordinator(c *conn, req *kmsg.FindCoordinatorRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	resp.NodeID = -1
	switch {
	case c.authorized() != nil:
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
	case req.CoordinatorType != 0:
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		resp.ErrorMessage = &noTransactions
		c.s.log.Warn("slstest: transaction coordinator refused: "+noTransactions, "remote", c.remote(), "client_id", c.clientID)
	default:
		resp.NodeID, resp.Host, resp.Port = nodeID, c.s.host, int32(c.s.port)
	}
	return resp
}

func (co *coordinator) join(c *conn, req *kmsg.JoinGroupRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.Generation = -1
	session := time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	rebalance := session
	if req.Version >= 1 {
		rebalance = time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
	}
	switch {
	case c.authorized() != nil:
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
	case req.Group == "":
		resp.ErrorCode = kerr.InvalidGroupID.Code
	case session < minSessionTimeout || session > maxSessionTimeout:
		resp.ErrorCode = kerr.InvalidSessionTimeout.Code
	case req.ProtocolType != "consumer":
		// SLS serves consumer groups only. Another protocol type (Kafka
		// Connect's "connect", say) carries no subscription the
		// emulator can read, so it could not count the group against
		// the logstores' limit.
		c.s.log.Warn("slstest: group refused: SLS serves consumer groups only", "group", req.Group, "protocol_type", req.ProtocolType)
		resp.ErrorCode = kerr.InconsistentGroupProtocol.Code
	case len(req.Protocols) == 0:
		resp.ErrorCode = kerr.InconsistentGroupProtocol.Code
	}
	if resp.ErrorCode != 0 {
		return resp
	}

	co.mu.Lock()
	g := co.group(req.Group)
	m, done, code := co.admit(c, g, req, session, rebalance)
	if code != 0 && code != kerr.MemberIDRequired.Code {
		co.dropIfUnused(g) // a refused join leaves no group behind
	}
	co.mu.Unlock()
	if code != 0 {
		resp.ErrorCode = code
		if code == kerr.MemberIDRequired.Code {
			resp.MemberID = m.id
		}
		return resp
	}

	select {
	case <-done:
	case <-c.quit:
		return nil
	}

	co.mu.Lock()
	defer co.mu.Unlock()
	if g.members[m.id] != m {
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp
	}
	r := m.result
	resp.Generation, resp.Protocol, resp.LeaderID, resp.MemberID, resp.Members = r.generation, &r.protocol, r.leader, m.id, r.members
	return resp
}

// admit adds or updates the member a JoinGroup request is for and starts
// or joins a rebalance. It returns the member, a channel closed when the
// join phase ends, or an error code (with the new member for
// MEMBER_ID_REQUIRED). Called with mu held.
func (co *coordinator) admit(c *conn, g *group, req *kmsg.JoinGroupRequest, session, rebalance time.Duration) (*member, <-chan struct{}, int16) {
	if g.state != groupEmpty && g.protocolType != req.ProtocolType {
		return nil, nil, kerr.InconsistentGroupProtocol.Code
	}
	others := make(map[string]*member, len(g.members))
	for id, m := range g.members {
		if id != req.MemberID {
			others[id] = m
		}
	}
	if !sharesProtocol(req.Protocols, others) {
		return nil, nil, kerr.InconsistentGroupProtocol.Code
	}
	if code := co.attachSubscription(c, g.id, req.Protocols); code != 0 {
		return nil, nil, code
	}

	id := req.MemberID
	switch {
	case id == "" && req.Version >= 4:
		// KIP-394 (Kafka 2.2): hand out an id and have the client join
		// again with it, so a client that times out joining does not
		// leave a member behind.
		id = newMemberID(c.clientID)
		if len(g.pending) >= maxPendingMembers {
			// Clients that never came back with their id.
			clear(g.pending)
		}
		g.pending[id] = true
		return &member{id: id}, nil, kerr.MemberIDRequired.Code
	case id == "":
		id = newMemberID(c.clientID)
	case g.members[id] == nil && !g.pending[id]:
		return nil, nil, kerr.UnknownMemberID.Code
	}
	delete(g.pending, id)
	m := g.members[id]
	if m == nil {
		m = &member{id: id, clientID: c.clientID, clientHost: clientHost(c)}
		g.members[id] = m
	}
	m.session, m.rebalTmo, m.protocols = session, rebalance, cloneProtocols(req.Protocols)
	m.stopExpiry() // a member waiting to join is not expected to heartbeat
	g.protocolType = req.ProtocolType
	if g.state != groupPreparing {
		co.prepare(g)
	}
	m.joining = true
	done := g.joined
	co.maybeCompleteJoin(g)
	return m, done, 0
}

// cloneProtocols copies the protocols of a JoinGroup request, whose
// metadata are slices of the request frame: a member keeps them, and must
// not keep the frame (which may be much larger) with them.
func cloneProtocols(ps []kmsg.JoinGroupRequestProtocol) []kmsg.JoinGroupRequestProtocol {
	out := make([]kmsg.JoinGroupRequestProtocol, len(ps))
	for i, p := range ps {
		out[i] = kmsg.JoinGroupRequestProtocol{Name: p.Name, Metadata: bytes.Clone(p.Metadata)}
	}
	return out
}

// sharesProtocol reports whether one of protocols is supported by every
// member of others (true if there are none).
func sharesProtocol(protocols []kmsg.JoinGroupRequestProtocol, others map[string]*member) bool {
	for _, p := range protocols {
		if supportsAll(p.Name, others) {
			return true
		}
	}
	return false
}

// attachSubscription attaches a consumer group to the logstores of the
// topics its member subscribes to, or returns the code that refuses the
// join: GROUP_MAX_SIZE_REACHED past SLS's limits (attachable), or
// INCONSISTENT_GROUP_PROTOCOL for a subscription that does not parse.
// Called with mu held.
func (co *coordinator) attachSubscription(c *conn, group string, protocols []kmsg.JoinGroupRequestProtocol) int16 {
	var logstores []string
	for _, p := range protocols {
		var meta kmsg.ConsumerMemberMetadata
		if err := meta.ReadFrom(p.Metadata); err != nil {
			c.s.log.Warn("slstest: group refused: its consumer subscription does not parse", "group", group, "protocol", p.Name, "err", err)
			return kerr.InconsistentGroupProtocol.Code
		}
		for _, topic := range meta.Topics {
			if name, _, ok := c.resolve(topic); ok && !slices.Contains(logstores, name) {
				logstores = append(logstores, name)
			}
		}
	}
	if code, why := co.attachable(group, logstores); code != 0 {
		c.s.log.Warn("slstest: consumer group refused: "+why, "group", group)
		return code
	}
	co.attach(group, logstores)
	return 0
}

// clientHost is how Kafka's DescribeGroups shows a member's host: a slash
// and the client's IP.
func clientHost(c *conn) string {
	addr := c.remote()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	return "/" + addr
}

func (co *coordinator) sync(c *conn, req *kmsg.SyncGroupRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	if c.authorized() != nil {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}
	co.mu.Lock()
	g, m, code := co.memberOf(req.Group, req.MemberID, req.Generation)
	if code == 0 {
		switch g.state {
		case groupPreparing:
			code = kerr.RebalanceInProgress.Code
		case groupSyncing:
			co.resetExpiry(g, m)
			if m.id == g.leader {
				for _, a := range req.GroupAssignment {
					if other := g.members[a.MemberID]; other != nil {
						// A copy: the request's bytes are the frame's buffer.
						other.assignment = bytes.Clone(a.MemberAssignment)
					}
				}
				g.state = groupStable
				close(g.synced)
			}
		}
	}
	if code != 0 || g.state == groupStable {
		resp.ErrorCode = code
		if code == 0 {
			resp.MemberAssignment = m.assignment
		}
		co.mu.Unlock()
		return resp
	}
	// A follower waits for the leader's assignment.
	synced, generation := g.synced, g.generation
	co.mu.Unlock()
	select {
	case <-synced:
	case <-c.quit:
		return nil
	}
	co.mu.Lock()
	defer co.mu.Unlock()
	if g.state != groupStable || g.generation != generation || g.members[m.id] != m {
		resp.ErrorCode = kerr.RebalanceInProgress.Code
		return resp
	}
	resp.MemberAssignment = m.assignment
	return resp
}

// memberOf finds a member of a group at a generation, or returns the error
// code Kafka answers with. Called with mu held.
func (co *coordinator) memberOf(group, memberID string, generation int32) (*group, *member, int16) {
	g := co.groups[group]
	if g == nil || g.state == groupEmpty {
		return g, nil, kerr.UnknownMemberID.Code
	}
	m := g.members[memberID]
	switch {
	case m == nil:
		return g, nil, kerr.UnknownMemberID.Code
	case generation != g.generation:
		return g, m, kerr.IllegalGeneration.Code
	}
	return g, m, 0
}

func (co *coordinator) heartbeat(c *conn, req *kmsg.HeartbeatRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	if c.authorized() != nil {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}
	co.mu.Lock()
	defer co.mu.Unlock()
	g, m, code := co.memberOf(req.Group, req.MemberID, req.Generation)
	if code == 0 {
		co.resetExpiry(g, m)
		if g.state != groupStable {
			code = kerr.RebalanceInProgress.Code
		}
	}
	resp.ErrorCode = code
	return resp
}

func (co *coordinator) leave(c *conn, req *kmsg.LeaveGroupRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	if c.authorized() != nil {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}
	co.mu.Lock()
	defer co.mu.Unlock()
	g := co.groups[req.Group]
	var m *member
	if g != nil {
		m = g.members[req.MemberID]
	}
	if m == nil {
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp
	}
	co.remove(g, m)
	return resp
}

func (co *coordinator) offsetCommit(c *conn, req *kmsg.OffsetCommitRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	co.mu.Lock()
	defer co.mu.Unlock()
	var code int16
	var g *group
	switch {
	case c.authorized() != nil:
		code = kerr.GroupAuthorizationFailed.Code
	case req.Group == "":
		code = kerr.InvalidGroupID.Code
	case req.Version >= 1 && (req.Generation >= 0 || req.MemberID != ""):
		// A member of the group commits: it must be of the current
		// generation, and not between joining and its assignment.
		var m *member
		if g, m, code = co.memberOf(req.Group, req.MemberID, req.Generation); code == 0 {
			co.resetExpiry(g, m)
			if g.state == groupSyncing {
				code = kerr.RebalanceInProgress.Code
			}
		}
	default:
		// A consumer that assigns itself partitions and only stores
		// offsets in the group: allowed while the group has no members.
		// The group is created by its first stored offset, so that a
		// commit refused for every partition leaves none behind.
		if g = co.groups[req.Group]; g != nil && g.state != groupEmpty {
			code = kerr.UnknownMemberID.Code
		}
	}
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		name, _, known := c.resolve(t.Topic)
		shards := c.s.store.shards(name)
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			switch {
			case code != 0:
				rp.ErrorCode = code
			case !known || p.Partition < 0 || int(p.Partition) >= shards:
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			default:
				if code, why := co.attachable(req.Group, []string{name}); code != 0 {
					c.s.log.Warn("slstest: offset commit refused: "+why, "group", req.Group)
					rp.ErrorCode = code
					break
				}
				co.attach(req.Group, []string{name})
				if g == nil {
					g = co.group(req.Group)
				}
				if g.offsets[t.Topic] == nil {
					g.offsets[t.Topic] = make(map[int32]commit)
				}
				epoch := int32(-1)
				if req.Version >= 6 {
					epoch = p.LeaderEpoch
				}
				g.offsets[t.Topic][p.Partition] = commit{offset: p.Offset, epoch: epoch, metadata: p.Metadata}
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

func (co *coordinator) offsetFetch(c *conn, req *kmsg.OffsetFetchRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	var code int16
	if c.authorized() != nil {
		code = kerr.GroupAuthorizationFailed.Code
		if req.Version >= 2 {
			resp.ErrorCode = code
			return resp
		}
	}
	co.mu.Lock()
	defer co.mu.Unlock()
	var offsets map[string]map[int32]commit
	if g := co.groups[req.Group]; g != nil {
		offsets = g.offsets
	}
	topics := req.Topics
	if topics == nil && req.Version >= 2 {
		// Every partition the group has committed.
		for topic, parts := range offsets {
			t := kmsg.OffsetFetchRequestTopic{Topic: topic}
			for p := range parts {
				t.Partitions = append(t.Partitions, p)
			}
			topics = append(topics, t)
		}
	}
	for _, t := range topics {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition = p
			rp.ErrorCode = code
			rp.Offset, rp.LeaderEpoch = -1, -1
			empty := ""
			rp.Metadata = &empty
			if cm, ok := offsets[t.Topic][p]; ok && code == 0 {
				rp.Offset, rp.LeaderEpoch, rp.Metadata = cm.offset, cm.epoch, cm.metadata
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// listGroups answers ListGroups: every group, those that only hold
// committed offsets included (protocol type "", as Kafka lists them).
func (co *coordinator) listGroups(c *conn, req *kmsg.ListGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	if c.authorized() != nil {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}
	co.mu.Lock()
	defer co.mu.Unlock()
	for _, id := range slices.Sorted(maps.Keys(co.groups)) {
		g := co.groups[id]
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType = id, g.protocolType
		resp.Groups = append(resp.Groups, lg)
	}
	return resp
}

// stateNames are the group states as Kafka's DescribeGroups names them.
var stateNames = map[groupState]string{
	groupEmpty:     "Empty",
	groupPreparing: "PreparingRebalance",
	groupSyncing:   "CompletingRebalance",
	groupStable:    "Stable",
}

// describeGroups answers DescribeGroups. A group that does not exist is
// "Dead" with no error, as Kafka answers it before version 6.
func (co *coordinator) describeGroups(c *conn, req *kmsg.DescribeGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	authErr := c.authorized()
	co.mu.Lock()
	defer co.mu.Unlock()
	for _, id := range req.Groups {
		dg := kmsg.NewDescribeGroupsResponseGroup()
		dg.Group = id
		g := co.groups[id]
		switch {
		case authErr != nil:
			dg.ErrorCode = kerr.GroupAuthorizationFailed.Code
		case g == nil:
			dg.State = "Dead"
		default:
			dg.State, dg.ProtocolType = stateNames[g.state], g.protocolType
			if g.state == groupStable {
				// The protocol is chosen once the join phase ends; Kafka
				// shows it for a stable group.
				dg.Protocol = g.members[g.leader].result.protocol
			}
			for _, mid := range slices.Sorted(maps.Keys(g.members)) {
				m := g.members[mid]
				dm := kmsg.NewDescribeGroupsResponseGroupMember()
				dm.MemberID, dm.ClientID, dm.ClientHost = m.id, m.clientID, m.clientHost
				if g.state == groupStable {
					dm.MemberAssignment = m.assignment
					for _, p := range m.protocols {
						if p.Name == dg.Protocol {
							dm.ProtocolMetadata = p.Metadata
						}
					}
				}
				dg.Members = append(dg.Members, dm)
			}
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

// deleteGroups answers DeleteGroups. SLS's samples delete a consumer group
// by hand, the groups of a deleted logstore in particular: a deleted group
// frees its place among the logstore's 15. A group with members is
// NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND, as in Kafka.
func (co *coordinator) deleteGroups(c *conn, req *kmsg.DeleteGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	authErr := c.authorized()
	co.mu.Lock()
	defer co.mu.Unlock()
	for _, id := range req.Groups {
		dg := kmsg.NewDeleteGroupsResponseGroup()
		dg.Group = id
		g := co.groups[id]
		switch {
		case authErr != nil:
			dg.ErrorCode = kerr.GroupAuthorizationFailed.Code
		case id == "":
			dg.ErrorCode = kerr.InvalidGroupID.Code
		case g == nil:
			dg.ErrorCode = kerr.GroupIDNotFound.Code
		case len(g.members) > 0:
			dg.ErrorCode = kerr.NonEmptyGroup.Code
		default:
			co.drop(g)
			c.s.log.Debug("slstest: consumer group deleted", "group", id)
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}
