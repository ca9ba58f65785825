package slstest_test

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/slskafka/slskafka/slstest"
)

// listGroups returns the group names ListGroups answers, sorted.
func listGroups(t *testing.T, cl *kgo.Client) []string {
	t.Helper()
	resp, err := kmsg.NewPtrListGroupsRequest().RequestWith(ctx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		t.Fatalf("ListGroups: %v", err)
	}
	var out []string
	for _, g := range resp.Groups {
		out = append(out, g.Group)
	}
	slices.Sort(out)
	return out
}

// deleteGroup deletes a group and returns its error.
func deleteGroup(t *testing.T, cl *kgo.Client, group string) error {
	t.Helper()
	req := kmsg.NewPtrDeleteGroupsRequest()
	req.Groups = []string{group}
	resp, err := req.RequestWith(ctx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	return kerr.ErrorForCode(resp.Groups[0].ErrorCode)
}

// describeGroup describes one group.
func describeGroup(t *testing.T, cl *kgo.Client, group string) kmsg.DescribeGroupsResponseGroup {
	t.Helper()
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{group}
	resp, err := req.RequestWith(ctx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Groups[0]
}

// TestGroupAdmin drives ListGroups, DescribeGroups and DeleteGroups as SLS's
// samples do: a consumer group is listed and described while it reads, can
// only be deleted once its members have left, and is gone after.
func TestGroupAdmin(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2}})
	sdkWrite(t, s, 0, 4)
	admin := franzClient(t, s, s.Project(), password(t, s))
	c := franzConsumer(t, s, kgo.ConsumerGroup("readers"), kgo.ConsumeTopics("app"), kgo.ClientID("reader-1"))
	poll(ctx(t), t, c, 4)

	if got := listGroups(t, admin); !slices.Equal(got, []string{"readers"}) {
		t.Errorf("ListGroups = %v, want [readers]", got)
	}
	d := describeGroup(t, admin, "readers")
	if d.ErrorCode != 0 || d.State != "Stable" || d.ProtocolType != "consumer" || d.Protocol == "" || len(d.Members) != 1 {
		t.Fatalf("DescribeGroups = %+v, want one member of a stable consumer group", d)
	}
	if m := d.Members[0]; m.ClientID != "reader-1" || !strings.HasPrefix(m.ClientHost, "/127.0.0.1") || len(m.MemberAssignment) == 0 {
		t.Errorf("member = %+v, want client id reader-1, host /127.0.0.1 and an assignment", m)
	}
	if err := deleteGroup(t, admin, "readers"); !errors.Is(err, kerr.NonEmptyGroup) {
		t.Errorf("deleting a group with a member: %v, want NON_EMPTY_GROUP", err)
	}

	c.Close() // leaves the group
	if d := describeGroup(t, admin, "readers"); d.State != "Empty" {
		t.Errorf("after the member left: state %q, want Empty", d.State)
	}
	if err := deleteGroup(t, admin, "readers"); err != nil {
		t.Fatalf("deleting the empty group: %v", err)
	}
	if got := listGroups(t, admin); len(got) != 0 {
		t.Errorf("ListGroups after delete = %v, want none", got)
	}
	if d := describeGroup(t, admin, "readers"); d.ErrorCode != 0 || d.State != "Dead" {
		t.Errorf("a deleted group: %+v, want state Dead", d)
	}
	if err := deleteGroup(t, admin, "readers"); !errors.Is(err, kerr.GroupIDNotFound) {
		t.Errorf("deleting it again: %v, want GROUP_ID_NOT_FOUND", err)
	}
	// Its committed offsets went with it.
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = "readers"
	req.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "app", Partitions: []int32{0, 1}}}
	resp, err := req.RequestWith(ctx(t), admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range resp.Topics[0].Partitions {
		if p.Offset != -1 {
			t.Errorf("partition %d: offset %d still committed after delete", p.Partition, p.Offset)
		}
	}
}

// TestDeletedGroupFreesItsSlot fills a logstore's 15 consumer groups,
// checks that the refused 16th leaves no group behind, and that deleting
// one of the 15 lets the 16th in without a restart.
func TestDeletedGroupFreesItsSlot(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	cl := franzClient(t, s, s.Project(), password(t, s))
	var want []string
	for i := range 15 {
		g := "g" + strconv.Itoa(i)
		if err := commitOffset(t, cl, g, "app"); err != nil {
			t.Fatalf("group %d: %v", i, err)
		}
		want = append(want, g)
	}
	slices.Sort(want)
	if err := commitOffset(t, cl, "late", "app"); !errors.Is(err, kerr.GroupMaxSizeReached) {
		t.Fatalf("16th group: %v, want GROUP_MAX_SIZE_REACHED", err)
	}
	// Neither the refused commit nor a refused join creates a group.
	j := franzConsumer(t, s, kgo.ConsumerGroup("late-join"), kgo.ConsumeTopics("app"))
	if err := j.PollFetches(ctx(t)).Err0(); !errors.Is(err, kerr.GroupMaxSizeReached) {
		t.Fatalf("16th group joining: %v, want GROUP_MAX_SIZE_REACHED", err)
	}
	j.Close()
	if got := listGroups(t, cl); !slices.Equal(got, want) {
		t.Errorf("ListGroups = %v, want the 15 groups only", got)
	}

	if err := deleteGroup(t, cl, "g7"); err != nil {
		t.Fatalf("delete g7: %v", err)
	}
	if err := commitOffset(t, cl, "late", "app"); err != nil {
		t.Errorf("16th group after a delete: %v", err)
	}
	if err := commitOffset(t, cl, "g7-again", "app"); !errors.Is(err, kerr.GroupMaxSizeReached) {
		t.Errorf("another group: %v, want GROUP_MAX_SIZE_REACHED: the freed slot is taken", err)
	}
}

// TestAtMost50LogstoresPerGroup checks SLS's other group limit: a group
// reads at most 50 logstores, by commits and by subscription alike.
func TestAtMost50LogstoresPerGroup(t *testing.T) {
	logstores := make(map[string]int)
	for i := range 52 {
		logstores["ls"+strconv.Itoa(i)] = 1
	}
	s := slstest.New(t, slstest.Config{Logstores: logstores})
	cl := franzClient(t, s, s.Project(), password(t, s))
	for i := range 50 {
		if err := commitOffset(t, cl, "wide", "ls"+strconv.Itoa(i)); err != nil {
			t.Fatalf("logstore %d: %v", i, err)
		}
	}
	if err := commitOffset(t, cl, "wide", "ls50"); !errors.Is(err, kerr.GroupMaxSizeReached) {
		t.Errorf("51st logstore: %v, want GROUP_MAX_SIZE_REACHED", err)
	}
	if err := commitOffset(t, cl, "wide", "ls3.json"); err != nil {
		t.Errorf("a logstore the group already reads: %v", err)
	}

	var topics []string
	for i := range 51 {
		topics = append(topics, "ls"+strconv.Itoa(i))
	}
	c := franzConsumer(t, s, kgo.ConsumerGroup("wide-join"), kgo.ConsumeTopics(topics...))
	if err := c.PollFetches(ctx(t)).Err0(); !errors.Is(err, kerr.GroupMaxSizeReached) {
		t.Errorf("joining for 51 logstores: %v, want GROUP_MAX_SIZE_REACHED", err)
	}
}

// joinReq is a JoinGroup v4 request of a new member: one the emulator
// admits is answered MEMBER_ID_REQUIRED (KIP-394), one it refuses the
// refusal.
func joinReq(group, protocolType string, metadata []byte) *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = 4
	req.Group = group
	req.SessionTimeoutMillis = 10_000
	req.RebalanceTimeoutMillis = 10_000
	req.ProtocolType = protocolType
	req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: metadata}}
	return req
}

// TestJoinGroupCountsEveryProtocolType checks that a group cannot get
// past the 15-groups limit by joining with a protocol type other than
// "consumer", or with a subscription that does not parse: SLS serves
// consumer groups only, and both are refused without creating a group.
func TestJoinGroupCountsEveryProtocolType(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	c := rawAuthenticated(t, s)
	meta := (&kmsg.ConsumerMemberMetadata{Topics: []string{"app"}}).AppendTo(nil)
	for _, tc := range []struct {
		name string
		req  *kmsg.JoinGroupRequest
	}{
		{"connect", joinReq("connect-group", "connect", meta)},
		{"empty type", joinReq("no-type", "", meta)},
		{"bad subscription", joinReq("garbled", "consumer", []byte{0xff})},
	} {
		resp := c.roundTrip(tc.req, tc.req.ResponseKind()).(*kmsg.JoinGroupResponse)
		if resp.ErrorCode != kerr.InconsistentGroupProtocol.Code {
			t.Errorf("%s: code %d, want INCONSISTENT_GROUP_PROTOCOL", tc.name, resp.ErrorCode)
		}
	}
	lg := kmsg.NewPtrListGroupsRequest()
	if got := c.roundTrip(lg, lg.ResponseKind()).(*kmsg.ListGroupsResponse); len(got.Groups) != 0 {
		t.Errorf("refused joins left groups %+v", got.Groups)
	}
}

// TestListOffsetsByTime resets offsets by time as SLS's samples do:
// ListOffsets with a timestamp answers the first offset at or after it,
// and a franz-go consumer reset to a time starts there.
func TestListOffsetsByTime(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	cl := franzClient(t, s, s.Project(), password(t, s))
	base := time.Unix(1_700_000_000, 0) // whole seconds: SLS keeps no more
	for i := range 4 {
		r := &kgo.Record{Topic: "app", Value: []byte("r" + strconv.Itoa(i)), Timestamp: base.Add(time.Duration(i) * time.Minute)}
		if err := cl.ProduceSync(ctx(t), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		at         time.Time
		want, wtss int64
	}{
		{base.Add(-time.Hour), 0, base.UnixMilli()},
		{base.Add(time.Minute), 1, base.Add(time.Minute).UnixMilli()},
		{base.Add(90 * time.Second), 2, base.Add(2 * time.Minute).UnixMilli()},
		{base.Add(time.Hour), -1, -1}, // nothing that late
	} {
		req := kmsg.NewPtrListOffsetsRequest()
		req.ReplicaID = -1
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "app"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = tc.at.UnixMilli()
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx(t), cl)
		if err != nil {
			t.Fatal(err)
		}
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != 0 || p.Offset != tc.want || p.Timestamp != tc.wtss {
			t.Errorf("at %v: offset %d timestamp %d code %d, want offset %d timestamp %d", tc.at, p.Offset, p.Timestamp, p.ErrorCode, tc.want, tc.wtss)
		}
	}
	c := franzConsumer(t, s, kgo.ConsumeTopics("app"), kgo.ConsumeResetOffset(kgo.NewOffset().AfterMilli(base.Add(90*time.Second).UnixMilli())))
	got := poll(ctx(t), t, c, 2)
	if string(got[0].Value) != "r2" || string(got[1].Value) != "r3" {
		t.Errorf("reset to 1m30s read %q, %q; want r2, r3", got[0].Value, got[1].Value)
	}
}

// TestTopicAdminIsAnswered checks that CreateTopics, DeleteTopics and
// DescribeConfigs, which SLS's samples send for SPL virtual topics, are
// answered with an error a client can show, and that the connection keeps
// serving.
func TestTopicAdminIsAnswered(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	c := rawAuthenticated(t, s)

	ct := kmsg.NewPtrCreateTopicsRequest()
	ct.Version = 3
	for _, name := range []string{"app.0", "app", "other", "app.32"} {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, 1, 1
		if name == "app.0" {
			q := "* | where level = 'ERROR'"
			rt.Configs = []kmsg.CreateTopicsRequestTopicConfig{{Name: "query", Value: &q}}
		}
		ct.Topics = append(ct.Topics, rt)
	}
	cresp := c.roundTrip(ct, ct.ResponseKind()).(*kmsg.CreateTopicsResponse)
	want := map[string]struct {
		code int16
		msg  string
	}{
		"app.0":  {kerr.PolicyViolation.Code, "SPL virtual topics"},
		"app":    {kerr.TopicAlreadyExists.Code, ""},
		"other":  {kerr.PolicyViolation.Code, "console or API"},
		"app.32": {kerr.PolicyViolation.Code, "console or API"}, // past .31: not a virtual topic
	}
	for _, rt := range cresp.Topics {
		w := want[rt.Topic]
		msg := ""
		if rt.ErrorMessage != nil {
			msg = *rt.ErrorMessage
		}
		if rt.ErrorCode != w.code || !strings.Contains(msg, w.msg) {
			t.Errorf("CreateTopics %s: code %d %q, want code %d with %q", rt.Topic, rt.ErrorCode, msg, w.code, w.msg)
		}
	}

	dt := kmsg.NewPtrDeleteTopicsRequest()
	dt.Version = 3
	dt.TopicNames = []string{"app.0", "app", "none"}
	dresp := c.roundTrip(dt, dt.ResponseKind()).(*kmsg.DeleteTopicsResponse)
	for i, code := range []int16{kerr.PolicyViolation.Code, kerr.PolicyViolation.Code, kerr.UnknownTopicOrPartition.Code} {
		if got := dresp.Topics[i]; got.ErrorCode != code {
			t.Errorf("DeleteTopics %s: code %d, want %d", dt.TopicNames[i], got.ErrorCode, code)
		}
	}

	dc := kmsg.NewPtrDescribeConfigsRequest()
	dc.Version = 2
	for _, name := range []string{"app.0", "none"} {
		r := kmsg.NewDescribeConfigsRequestResource()
		r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, name
		dc.Resources = append(dc.Resources, r)
	}
	cfg := c.roundTrip(dc, dc.ResponseKind()).(*kmsg.DescribeConfigsResponse)
	if r := cfg.Resources[0]; r.ErrorCode != kerr.PolicyViolation.Code || r.ErrorMessage == nil {
		t.Errorf("DescribeConfigs app.0: %+v, want POLICY_VIOLATION with a message", r)
	}
	if r := cfg.Resources[1]; r.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("DescribeConfigs none: code %d, want UNKNOWN_TOPIC_OR_PARTITION", r.ErrorCode)
	}

	produceAlive(t, c, "still served")
}

// TestTransactionalClientFailsClearly checks that a client configured for
// transactions, which SLS does not have, fails with an error that says
// so instead of hanging or losing the connection.
func TestTransactionalClientFailsClearly(t *testing.T) {
	var emulatorLog bytes.Buffer // written under the handler's lock, read after Close
	s := slstest.New(t, slstest.Config{Logger: slog.New(slog.NewTextHandler(&emulatorLog, nil))})
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(s.Endpoint().String()),
		kgo.DialTLSConfig(s.TLSConfig()),
		kgo.SASL(plain.Auth{User: s.Project(), Pass: password(t, s)}.AsMechanism()),
		kgo.TransactionalID("tx"),
		kgo.RecordDeliveryTimeout(3*time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// franz-go asks for a producer id when the transaction begins.
	err = cl.BeginTransaction()
	if err == nil {
		err = cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("x")}).FirstErr()
	}
	if !errors.Is(err, kerr.TransactionalIDAuthorizationFailed) {
		t.Errorf("transaction err = %v, want TRANSACTIONAL_ID_AUTHORIZATION_FAILED", err)
	}
	cl.Close()
	s.Close()
	if !strings.Contains(emulatorLog.String(), "SLS has no transactions") {
		t.Errorf("emulator log %q does not say SLS has no transactions", emulatorLog.String())
	}
	if n := len(s.Logs("app")); n != 0 {
		t.Errorf("transactional client stored %d logs, want 0", n)
	}
}
