package slstest

import (
	"crypto/rand"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxGroupsPerLogstore is how many consumer groups SLS lets read one
// logstore, and maxLogstoresPerGroup how many logstores one group may
// read: both documented (consumption).
const (
	maxGroupsPerLogstore = 15
	maxLogstoresPerGroup = 50
)

// maxPendingMembers bounds the member ids handed out with
// MEMBER_ID_REQUIRED and not yet used, per group.
const maxPendingMembers = 1024

// Session timeout bounds, Kafka's group.min.session.timeout.ms and
// group.max.session.timeout.ms.
const (
	minSessionTimeout = 6 * time.Second
	maxSessionTimeout = 30 * time.Minute
)

// coordinator is the group coordinator: consumer groups, their members,
// generations and committed offsets. It follows Kafka's eager rebalance
// protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), except that a
// rebalance completes as soon as every member has joined: there is no
// group.initial.rebalance.delay.ms wait for a new group.
type coordinator struct {
	mu         sync.Mutex
	groups     map[string]*group
	byLogstore map[string]map[string]bool // logstore -> groups that use it
	byGroup    map[string]map[string]bool // group -> logstores it uses
	closed     bool
}

type groupState int

const (
	groupEmpty     groupState = iota // no members; offsets may still be committed
	groupPreparing                   // PreparingRebalance: waiting for members to join
	groupSyncing                     // CompletingRebalance: waiting for the leader's assignment
	groupStable
)

type group struct {
	id           string
	state        groupState
	generation   int32
	protocolType string
	leader       string
	members      map[string]*member
	pending      map[string]bool // member ids handed out with MEMBER_ID_REQUIRED
	joined       chan struct{}   // closed when the join phase of the rebalance ends
	synced       chan struct{}   // closed when the leader's assignment arrives or the generation is abandoned
	rebalance    *time.Timer     // ends the join phase without the members that did not join
	offsets      map[string]map[int32]commit
}

type member struct {
	id, clientID      string
	clientHost        string // "/" + the client's IP, as Kafka's DescribeGroups shows it
	session, rebalTmo time.Duration
	protocols         []kmsg.JoinGroupRequestProtocol
	joining           bool       // joined the rebalance in progress
	result            joinResult // of the last completed join phase
	assignment        []byte
	expiry            *time.Timer // session timeout, stopped while the member waits in JoinGroup
	expiryEpoch       int         // bumped on every reset, so a stale expiry is ignored
}

type joinResult struct {
	generation int32
	protocol   string
	leader     string
	members    []kmsg.JoinGroupResponseMember // for the leader only
}

type commit struct {
	offset   int64
	epoch    int32
	metadata *string
}

func newCoordinator() *coordinator {
	return &coordinator{groups: make(map[string]*group), byLogstore: make(map[string]map[string]bool), byGroup: make(map[string]map[string]bool)}
}

// close stops every timer; the server's connections are closed by then.
func (co *coordinator) close() {
	co.mu.Lock()
	defer co.mu.Unlock()
	co.closed = true
	for _, g := range co.groups {
		if g.rebalance != nil {
			g.rebalance.Stop()
		}
		for _, m := range g.members {
			m.stopExpiry()
		}
	}
}

// group returns the group named id, creating it empty. Called with mu held.
func (co *coordinator) group(id string) *group {
	g, ok := co.groups[id]
	if !ok {
		g = &group{id: id, members: make(map[string]*member), pending: make(map[string]bool), offsets: make(map[string]map[int32]commit)}
		co.groups[id] = g
	}
	return g
}

// attachable reports 0 if group may read every one of logstores, or the
// error code that refuses it: GROUP_MAX_SIZE_REACHED if one of them already
// has maxGroupsPerLogstore other groups, or if the group would read more
// than maxLogstoresPerGroup. The message says which. Called with mu held.
func (co *coordinator) attachable(group string, logstores []string) (int16, string) {
	mine := co.byGroup[group]
	adding := 0
	for _, ls := range logstores {
		if mine[ls] {
			continue
		}
		if len(co.byLogstore[ls]) >= maxGroupsPerLogstore {
			return kerr.GroupMaxSizeReached.Code, "logstore " + ls + " already has the most consumer groups SLS allows (15)"
		}
		adding++
	}
	if len(mine)+adding > maxLogstoresPerGroup {
		return kerr.GroupMaxSizeReached.Code, "a consumer group may read at most 50 logstores in SLS"
	}
	return 0, ""
}

// attach records that group reads logstores; attachable has allowed it. A
// group stays attached until DeleteGroups deletes it, as an SLS consumer
// group stays until it is deleted. Called with mu held.
func (co *coordinator) attach(group string, logstores []string) {
	for _, ls := range logstores {
		if co.byLogstore[ls] == nil {
			co.byLogstore[ls] = make(map[string]bool)
		}
		co.byLogstore[ls][group] = true
		if co.byGroup[group] == nil {
			co.byGroup[group] = make(map[string]bool)
		}
		co.byGroup[group][ls] = true
	}
}

// drop deletes a group and frees its place on the logstores it read.
// Called with mu held; the group has no members.
func (co *coordinator) drop(g *group) {
	if g.rebalance != nil {
		g.rebalance.Stop()
	}
	for ls := range co.byGroup[g.id] {
		delete(co.byLogstore[ls], g.id)
		if len(co.byLogstore[ls]) == 0 {
			delete(co.byLogstore, ls)
		}
	}
	delete(co.byGroup, g.id)
	delete(co.groups, g.id)
}

// dropIfUnused deletes a group that a refused request created and that
// holds nothing: no members, no member ids handed out, no offsets, no
// logstore. Called with mu held.
func (co *coordinator) dropIfUnused(g *group) {
	if g.state == groupEmpty && len(g.members) == 0 && len(g.pending) == 0 && len(g.offsets) == 0 && len(co.byGroup[g.id]) == 0 {
		co.drop(g)
	}
}

// newMemberID builds a member id as Kafka does: the client id and a unique
// suffix.
func newMemberID(clientID string) string {
	return clientID + "-" + rand.Text()
}

// prepare starts a rebalance: every member must join again. Called with mu
// held.
func (co *coordinator) prepare(g *group) {
	if g.state == groupSyncing {
		close(g.synced) // followers waiting for an assignment learn of the rebalance
	}
	g.state = groupPreparing
	g.joined = make(chan struct{})
	var timeout time.Duration
	for _, m := range g.members {
		m.joining = false
		timeout = max(timeout, m.rebalTmo)
	}
	if g.rebalance != nil {
		g.rebalance.Stop()
	}
	round := g.joined
	g.rebalance = time.AfterFunc(timeout, func() { co.rebalanceExpired(g, round) })
}

// rebalanceExpired ends a join phase that waited the rebalance timeout:
// members that did not join are removed.
func (co *coordinator) rebalanceExpired(g *group, round chan struct{}) {
	co.mu.Lock()
	defer co.mu.Unlock()
	if co.closed || g.state != groupPreparing || g.joined != round {
		return
	}
	for id, m := range g.members {
		if !m.joining {
			m.stopExpiry()
			delete(g.members, id)
		}
	}
	co.completeJoin(g)
}

// maybeCompleteJoin ends the join phase once every member has joined.
// Called with mu held.
func (co *coordinator) maybeCompleteJoin(g *group) {
	if g.state != groupPreparing {
		return
	}
	for _, m := range g.members {
		if !m.joining {
			return
		}
	}
	co.completeJoin(g)
}

// completeJoin starts the next generation with the members that joined and
// releases their JoinGroup requests. Called with mu held.
func (co *coordinator) completeJoin(g *group) {
	g.rebalance.Stop()
	if len(g.members) == 0 {
		g.state = groupEmpty
		g.leader = ""
		close(g.joined)
		return
	}
	g.generation++
	ids := slices.Sorted(maps.Keys(g.members))
	if g.members[g.leader] == nil {
		g.leader = ids[0]
	}
	protocol := commonProtocol(g.members[g.leader], g.members)
	var all []kmsg.JoinGroupResponseMember
	for _, id := range ids {
		m := g.members[id]
		for _, p := range m.protocols {
			if p.Name == protocol {
				all = append(all, kmsg.JoinGroupResponseMember{MemberID: id, ProtocolMetadata: p.Metadata})
			}
		}
	}
	for _, m := range g.members {
		m.result = joinResult{generation: g.generation, protocol: protocol, leader: g.leader}
		if m.id == g.leader {
			m.result.members = all
		}
		m.assignment = nil
		co.resetExpiry(g, m)
	}
	g.state = groupSyncing
	g.synced = make(chan struct{})
	close(g.joined)
}

// commonProtocol returns the first protocol of the leader's that every
// member supports. Joins that share none are refused, so there is one.
func commonProtocol(leader *member, members map[string]*member) string {
	for _, p := range leader.protocols {
		if supportsAll(p.Name, members) {
			return p.Name
		}
	}
	return ""
}

func supportsAll(protocol string, members map[string]*member) bool {
	for _, m := range members {
		if !slices.ContainsFunc(m.protocols, func(p kmsg.JoinGroupRequestProtocol) bool { return p.Name == protocol }) {
			return false
		}
	}
	return true
}

// remove takes a member out of its group (LeaveGroup, session timeout) and
// rebalances the rest. Called with mu held.
func (co *coordinator) remove(g *group, m *member) {
	m.stopExpiry()
	delete(g.members, m.id)
	switch {
	case g.state == groupPreparing:
		co.maybeCompleteJoin(g)
	case len(g.members) > 0:
		co.prepare(g)
	default:
		if g.state == groupSyncing {
			close(g.synced)
		}
		g.state = groupEmpty
		g.leader = ""
	}
}

// resetExpiry (re)starts a member's session timeout. Called with mu held.
func (co *coordinator) resetExpiry(g *group, m *member) {
	m.stopExpiry()
	epoch := m.expiryEpoch
	m.expiry = time.AfterFunc(m.session, func() {
		co.mu.Lock()
		defer co.mu.Unlock()
		if co.closed || m.expiryEpoch != epoch || g.members[m.id] != m {
			return
		}
		co.remove(g, m)
	})
}

func (m *member) stopExpiry() {
	m.expiryEpoch++
	if m.expiry != nil {
		m.expiry.Stop()
	}
}
