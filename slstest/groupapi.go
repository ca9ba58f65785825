package slstest

import (
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
	}
	return nil, false
}

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
		msg := "SLS has no transactions"
		resp.ErrorMessage = &msg
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
	case req.ProtocolType == "" || len(req.Protocols) == 0:
		resp.ErrorCode = kerr.InconsistentGroupProtocol.Code
	}
	if resp.ErrorCode != 0 {
		return resp
	}

	co.mu.Lock()
	g := co.group(req.Group)
	m, done, code := co.admit(c, g, req, session, rebalance)
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
	if req.ProtocolType == "consumer" && !co.attachSubscription(c, g.id, req.Protocols) {
		return nil, nil, kerr.GroupMaxSizeReached.Code
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
		m = &member{id: id, clientID: c.clientID}
		g.members[id] = m
	}
	m.session, m.rebalTmo, m.protocols = session, rebalance, req.Protocols
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
// topics its member subscribes to, or reports false if one has reached
// maxGroupsPerLogstore groups. Called with mu held.
func (co *coordinator) attachSubscription(c *conn, group string, protocols []kmsg.JoinGroupRequestProtocol) bool {
	for _, p := range protocols {
		var meta kmsg.ConsumerMemberMetadata
		if err := meta.ReadFrom(p.Metadata); err != nil {
			continue
		}
		for _, topic := range meta.Topics {
			if name, _, ok := c.resolve(topic); ok && !co.attach(group, name) {
				c.s.log.Warn("slstest: consumer group refused: the logstore already has the most consumer groups SLS allows",
					"group", group, "logstore", name, "max", maxGroupsPerLogstore)
				return false
			}
		}
	}
	return true
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
						other.assignment = a.MemberAssignment
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
		if g = co.group(req.Group); g.state != groupEmpty {
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
			case !co.attach(g.id, name):
				c.s.log.Warn("slstest: offset commit refused: the logstore already has the most consumer groups SLS allows",
					"group", g.id, "logstore", name, "max", maxGroupsPerLogstore)
				rp.ErrorCode = kerr.GroupMaxSizeReached.Code
			default:
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
