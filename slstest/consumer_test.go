package slstest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// franzConsumer builds a franz-go consumer configured as the SLS document
// configures a Kafka consumer (SASL_SSL, PLAIN, Kafka 2.2: JoinGroup v4
// with KIP-394's member id round trip), reading topics from the start.
func franzConsumer(t *testing.T, s *slstest.Server, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	base := []kgo.Opt{
		kgo.MaxVersions(kversion.V2_2_0()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200 * time.Millisecond),
	}
	return franzClient(t, s, s.Project(), password(t, s), append(base, opts...)...)
}

// poll collects n records from cl, or fails the test when ctx ends.
func poll(ctx context.Context, t *testing.T, cl *kgo.Client, n int) []*kgo.Record {
	t.Helper()
	var got []*kgo.Record
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records: %v", len(got), n, ctx.Err())
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("fetch %s/%d: %v", topic, p, err)
		})
		got = append(got, fs.Records()...)
	}
	return got
}

// sdkWrite logs n records with ids from..from+n-1 through the SDK, which
// writes <logstore>.json over SASL_SSL, and waits until they are stored.
func sdkWrite(t *testing.T, s *slstest.Server, from, n int) {
	t.Helper()
	p, err := producer.New(producer.Config{
		Project: s.Project(), Endpoint: s.Endpoint(), Credentials: s.Credentials(), TLS: s.TLSConfig(),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		if err := p.Log(ctx(t), "app", producer.Record{Fields: []producer.Field{{Key: "id", Value: strconv.Itoa(i)}, {Key: "msg", Value: "read me back"}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

// ids decodes the SDK's JSON record values and returns how often each id
// was read.
func ids(t *testing.T, recs []*kgo.Record) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for _, r := range recs {
		var v map[string]string
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatalf("record value %q is not the JSON the SDK sent: %v", r.Value, err)
		}
		if v["msg"] != "read me back" {
			t.Errorf("record value %q", r.Value)
		}
		seen[v["id"]]++
	}
	return seen
}

// TestConsumerGroupReadsWhatTheSDKWrote writes through the SDK, reads back
// with a franz-go consumer group over SASL_SSL, commits, and checks that
// the group resumes after its committed offsets.
func TestConsumerGroupReadsWhatTheSDKWrote(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 3}})
	sdkWrite(t, s, 0, 60)

	c := franzConsumer(t, s, kgo.ConsumerGroup("readers"), kgo.ConsumeTopics("app.json"), kgo.DisableAutoCommit())
	got := poll(ctx(t), t, c, 60)
	seen := ids(t, got)
	for i := range 60 {
		if seen[strconv.Itoa(i)] != 1 {
			t.Errorf("id %d read %d times, want once", i, seen[strconv.Itoa(i)])
		}
	}
	stored := map[int]map[int64]bool{}
	for _, l := range s.Logs("app") {
		if stored[l.Shard] == nil {
			stored[l.Shard] = map[int64]bool{}
		}
		stored[l.Shard][l.Offset] = true
	}
	for _, r := range got {
		if !stored[int(r.Partition)][r.Offset] {
			t.Errorf("read shard %d offset %d, which is not stored", r.Partition, r.Offset)
		}
	}
	if err := c.CommitUncommittedOffsets(ctx(t)); err != nil {
		t.Fatal(err)
	}
	c.Close() // leaves the group

	sdkWrite(t, s, 60, 6)
	again := franzConsumer(t, s, kgo.ConsumerGroup("readers"), kgo.ConsumeTopics("app.json"))
	seen = ids(t, poll(ctx(t), t, again, 6))
	for i := 60; i < 66; i++ {
		if seen[strconv.Itoa(i)] != 1 {
			t.Errorf("after resuming: id %d read %d times, want once (read: %v)", i, seen[strconv.Itoa(i)], seen)
		}
	}
	if len(seen) != 6 {
		t.Errorf("after resuming read %v, want only ids 60..65: the committed offsets were not used", seen)
	}
}

// TestConsumerGroupSharesShards has two members in a group and checks that
// the second member's join rebalances the group: each member ends up with
// shards of its own, and between them they read every record.
func TestConsumerGroupSharesShards(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 4}})
	sdkWrite(t, s, 0, 40)
	// franz-go's default balancer is cooperative-sticky: callbacks carry
	// the shards added and revoked, so each member's set is kept here.
	var mu sync.Mutex
	owned := map[string]map[int32]bool{"a": {}, "b": {}}
	changed := make(chan struct{}, 100)
	member := func(name string) *kgo.Client {
		update := func(add bool) func(context.Context, *kgo.Client, map[string][]int32) {
			return func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
				mu.Lock()
				for _, p := range m["app.json"] {
					if add {
						owned[name][p] = true
					} else {
						delete(owned[name], p)
					}
				}
				mu.Unlock()
				changed <- struct{}{}
			}
		}
		// Frequent heartbeats: a member learns of a rebalance from one.
		return franzConsumer(t, s, kgo.ConsumerGroup("pair"), kgo.ConsumeTopics("app.json"), kgo.HeartbeatInterval(50*time.Millisecond),
			kgo.OnPartitionsAssigned(update(true)), kgo.OnPartitionsRevoked(update(false)), kgo.OnPartitionsLost(update(false)))
	}
	split := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(owned["a"]) > 0 && len(owned["b"]) > 0 && len(owned["a"])+len(owned["b"]) == 4
	}
	a := member("a")
	first := poll(ctx(t), t, a, 40)
	if err := a.CommitUncommittedOffsets(ctx(t)); err != nil {
		t.Fatal(err)
	}
	b := member("b")
	for !split() {
		select {
		case <-changed:
		case <-ctx(t).Done():
			mu.Lock()
			t.Fatalf("shards owned %v, want the 4 shards split between a and b", owned)
		}
	}
	sdkWrite(t, s, 40, 40)
	var second []*kgo.Record
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for len(second) < 40 && c.Err() == nil {
		for _, cl := range []*kgo.Client{a, b} {
			pc, pcancel := context.WithTimeout(c, 100*time.Millisecond)
			second = append(second, cl.PollFetches(pc).Records()...)
			pcancel()
		}
	}
	seen := ids(t, append(first, second...))
	for i := range 80 {
		if seen[strconv.Itoa(i)] == 0 {
			t.Errorf("id %d never read", i)
		}
	}
}

// TestConsumerReadsFromAnyOffset assigns a shard directly (no group) at an
// offset, and checks ListOffsets for the earliest, latest and a timestamp.
func TestConsumerReadsFromAnyOffset(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	cl := franzClient(t, s, s.Project(), password(t, s))
	base := time.UnixMilli(1_700_000_000_000)
	var recs []*kgo.Record
	for i := range 10 {
		recs = append(recs, &kgo.Record{Topic: "app", Value: []byte("v" + strconv.Itoa(i)), Timestamp: base.Add(time.Duration(i) * time.Second)})
	}
	if err := cl.ProduceSync(ctx(t), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	c := franzConsumer(t, s, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"app": {0: kgo.NewOffset().At(7)}}))
	got := poll(ctx(t), t, c, 3)
	for i, r := range got {
		if want := "v" + strconv.Itoa(7+i); string(r.Value) != want || r.Offset != int64(7+i) || !r.Timestamp.Equal(base.Add(time.Duration(7+i)*time.Second)) {
			t.Errorf("record %d = %q at offset %d, time %v; want %q at %d", i, r.Value, r.Offset, r.Timestamp, want, 7+i)
		}
	}

	for _, tc := range []struct {
		ts   int64
		want int64
	}{
		{-2, 0},  // earliest
		{-1, 10}, // latest
		{base.Add(4500 * time.Millisecond).UnixMilli(), 5},
		{base.Add(time.Hour).UnixMilli(), -1},
	} {
		req := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "app.json"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = tc.ts
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx(t), cl)
		if err != nil {
			t.Fatal(err)
		}
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.Offset != tc.want {
			t.Errorf("ListOffsets at %d: offset %d, code %d; want %d", tc.ts, p.Offset, p.ErrorCode, tc.want)
		}
	}

	fetch := kmsg.NewPtrFetchRequest()
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "app"
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.FetchOffset = 11
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = append(ft.Partitions, fp)
	fetch.Topics = append(fetch.Topics, ft)
	fetch.MaxBytes = 1 << 20
	resp, err := fetch.RequestWith(ctx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != kerr.OffsetOutOfRange.Code || p.HighWatermark != 10 {
		t.Errorf("fetch past the end: code %d, high watermark %d; want OFFSET_OUT_OF_RANGE, 10", p.ErrorCode, p.HighWatermark)
	}
}

// TestDiscardLeavesNothingToRead checks that in Discard mode, which keeps
// no records, offsets advance and a consumer finds the shard empty.
func TestDiscardLeavesNothingToRead(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, Discard: true})
	cl := franzClient(t, s, s.Project(), password(t, s))
	if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("gone")}, &kgo.Record{Topic: "app", Value: []byte("gone")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for ts, want := range map[int64]int64{-2: 2, -1: 2} {
		req := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "app"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = ts
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx(t), cl)
		if err != nil {
			t.Fatal(err)
		}
		if p := resp.Topics[0].Partitions[0]; p.Offset != want {
			t.Errorf("Discard: ListOffsets(%d) = %d, want %d", ts, p.Offset, want)
		}
	}
}

// commitOffset commits offset 1 of shard 0 of topic for group, as a
// consumer outside group management does, and returns the partition's
// error.
func commitOffset(t *testing.T, cl *kgo.Client, group, topic string) error {
	t.Helper()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group = group
	req.Generation = -1
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Offset = 1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	return kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode)
}

// TestAtMost15GroupsPerLogstore checks SLS's limit: a sixteenth consumer
// group on a logstore is refused (both topic forms are one logstore),
// while other logstores and the fifteen groups keep working.
func TestAtMost15GroupsPerLogstore(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1, "audit": 1}})
	cl := franzClient(t, s, s.Project(), password(t, s))
	for i := range 15 {
		topic := "app"
		if i%2 == 1 {
			topic = "app.json"
		}
		if err := commitOffset(t, cl, "g"+strconv.Itoa(i), topic); err != nil {
			t.Fatalf("group %d: %v", i, err)
		}
	}
	if err := commitOffset(t, cl, "g15", "app.json"); !errors.Is(err, kerr.GroupMaxSizeReached) {
		t.Errorf("16th group on app: %v, want GROUP_MAX_SIZE_REACHED", err)
	}
	if err := commitOffset(t, cl, "g15", "audit"); err != nil {
		t.Errorf("16th group on audit: %v", err)
	}
	if err := commitOffset(t, cl, "g3", "app"); err != nil {
		t.Errorf("one of the 15 groups again: %v", err)
	}
	// A consumer group member joining for app is refused as well.
	c := franzConsumer(t, s, kgo.ConsumerGroup("g16"), kgo.ConsumeTopics("app"))
	fs := c.PollFetches(ctx(t))
	if err := fs.Err0(); !errors.Is(err, kerr.GroupMaxSizeReached) {
		t.Errorf("16th group joining: %v, want GROUP_MAX_SIZE_REACHED", err)
	}
}

// TestRefusedCredentialCannotRead checks that under AtProduce a refused key
// passes SASL but can neither read nor use a group.
func TestRefusedCredentialCannotRead(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}})
	c, _ := s.Credentials().Credential(context.Background())
	cl := franzClient(t, s, s.Project(), c.AccessKeyID+"#wrong-secret")
	fetch := kmsg.NewPtrFetchRequest()
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "app"
	ft.Partitions = append(ft.Partitions, kmsg.NewFetchRequestTopicPartition())
	fetch.Topics = append(fetch.Topics, ft)
	resp, err := fetch.RequestWith(ctx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != kerr.TopicAuthorizationFailed.Code {
		t.Errorf("fetch with a refused key: code %d, want TOPIC_AUTHORIZATION_FAILED", code)
	}
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorKey = "g"
	fcr, err := fc.RequestWith(ctx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if fcr.ErrorCode != kerr.GroupAuthorizationFailed.Code {
		t.Errorf("FindCoordinator with a refused key: code %d, want GROUP_AUTHORIZATION_FAILED", fcr.ErrorCode)
	}
	if st := s.Stats(); st.Authentications != 0 || st.AuthFailures == 0 {
		t.Errorf("Stats = %+v, want the key counted as refused", st)
	}
}

// TestFetchResponseIsCapped checks that a fetch response holds at most
// 1 MiB of records whatever the client asks for, but always the first
// record, however large.
func TestFetchResponseIsCapped(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, MaxBatchBytes: 4 << 20})
	cl := franzClient(t, s, s.Project(), password(t, s), kgo.ProducerBatchMaxBytes(4<<20))
	big := bytes.Repeat([]byte("b"), 1200<<10)
	small := bytes.Repeat([]byte("s"), 400<<10)
	for _, v := range [][]byte{big, small, small, small} {
		if err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		offset int64
		want   int
	}{
		{0, 1}, // the first record alone is over the cap
		{1, 2}, // 800 KiB fit, 1200 KiB would not
	} {
		fetch := kmsg.NewPtrFetchRequest()
		fetch.MaxBytes = 50 << 20
		ft := kmsg.NewFetchRequestTopic()
		ft.Topic = "app"
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.FetchOffset = tc.offset
		fp.PartitionMaxBytes = 50 << 20
		ft.Partitions = append(ft.Partitions, fp)
		fetch.Topics = append(fetch.Topics, ft)
		resp, err := fetch.RequestWith(ctx(t), cl)
		if err != nil {
			t.Fatal(err)
		}
		var batch kmsg.RecordBatch
		if err := batch.ReadFrom(resp.Topics[0].Partitions[0].RecordBatches); err != nil {
			t.Fatal(err)
		}
		if int(batch.NumRecords) != tc.want {
			t.Errorf("fetch from offset %d returned %d records, want %d", tc.offset, batch.NumRecords, tc.want)
		}
	}
	// Only the first partition with records may go over the cap: after
	// 800 KiB from offset 1, the 1200 KiB record at offset 0 (asked for
	// as a second partition entry) does not fit what is left.
	fetch := kmsg.NewPtrFetchRequest()
	fetch.MaxBytes = 50 << 20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = "app"
	for _, offset := range []int64{1, 0} {
		fp := kmsg.NewFetchRequestTopicPartition()
		fp.FetchOffset = offset
		fp.PartitionMaxBytes = 50 << 20
		ft.Partitions = append(ft.Partitions, fp)
	}
	fetch.Topics = append(fetch.Topics, ft)
	resp, err := fetch.RequestWith(ctx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if parts := resp.Topics[0].Partitions; len(parts[0].RecordBatches) == 0 || len(parts[1].RecordBatches) != 0 {
		t.Errorf("a fetch naming the shard twice got %d and %d bytes of batches, want records in the first entry only",
			len(parts[0].RecordBatches), len(parts[1].RecordBatches))
	}
}

// TestConsumersGetWhatSLSServes checks the shapes of SLS's consumption
// overview through a franz-go consumer group: a log whose only field is
// content is read with the key "content" and the field's text; an
// expanded log with a null key and the JSON object of its fields, every
// value a string; a log holding the Kafka fields with their key and
// value. Timestamps are the log time in whole seconds. With
// JumpingOffsets the group reads the same across the gaps.
func TestConsumersGetWhatSLSServes(t *testing.T) {
	for _, jumping := range []bool{false, true} {
		t.Run("jumping="+strconv.FormatBool(jumping), func(t *testing.T) {
			s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, JumpingOffsets: jumping})
			cl := franzClient(t, s, s.Project(), password(t, s))
			at := time.Unix(1_700_000_000, 987_000_000)
			writes := []*kgo.Record{
				{Topic: "app", Value: []byte("plain <text> line")},
				{Topic: "app.json", Value: []byte(`{"n":1,"ok":true,"s":"a<b","obj":{"k":[1,2]},"nil":null}`)},
				{Topic: "app.json", Value: []byte(`{"kafka_topic":"orders","kafka_partition":"3","kafka_offset":"42","key":"order-7","value":"{\"total\":12}"}`)},
				{Topic: "app", Value: []byte(`{"not":"expanded"}`)},
			}
			// One produce request each: with JumpingOffsets every one
			// starts a new block of offsets.
			for _, r := range writes {
				r.Timestamp = at
				if err := cl.ProduceSync(ctx(t), r).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			want := []struct {
				key   *string // nil: null
				value string
			}{
				{kmsg.StringPtr("content"), "plain <text> line"},
				{nil, `{"n":"1","nil":"null","obj":"{\"k\":[1,2]}","ok":"true","s":"a<b"}`},
				{kmsg.StringPtr("order-7"), `{"total":12}`},
				{kmsg.StringPtr("content"), `{"not":"expanded"}`},
			}

			c := franzConsumer(t, s, kgo.ConsumerGroup("shapes"), kgo.ConsumeTopics("app"))
			got := poll(ctx(t), t, c, len(want))
			for i, r := range got {
				w := want[i]
				switch {
				case w.key == nil && r.Key != nil:
					t.Errorf("record %d: key %q, want null", i, r.Key)
				case w.key != nil && string(r.Key) != *w.key:
					t.Errorf("record %d: key %q, want %q", i, r.Key, *w.key)
				}
				if string(r.Value) != w.value {
					t.Errorf("record %d: value %s, want %s", i, r.Value, w.value)
				}
				if w.key == nil {
					var obj map[string]string
					if err := json.Unmarshal(r.Value, &obj); err != nil {
						t.Errorf("record %d: value is not a JSON object of strings: %v", i, err)
					}
				}
				if !r.Timestamp.Equal(at.Truncate(time.Second)) {
					t.Errorf("record %d: timestamp %v, want the log time in whole seconds, %v", i, r.Timestamp, at.Truncate(time.Second))
				}
			}
			logs := s.Logs("app")
			for i, l := range logs {
				if !l.Time.Equal(at.Truncate(time.Second)) {
					t.Errorf("log %d: time %v, want whole seconds", i, l.Time)
				}
				if i < len(got) && got[i].Offset != l.Offset {
					t.Errorf("record %d read at offset %d, stored at %d", i, got[i].Offset, l.Offset)
				}
			}
			dense := logs[len(logs)-1].Offset == int64(len(logs)-1)
			if dense == jumping {
				t.Errorf("offsets %v with JumpingOffsets %v", offsetsOf(logs), jumping)
			}
		})
	}
}

// TestJumpingOffsets checks what a consumer outside a group sees of
// jumping offsets: a batch's offsets are consecutive and the produce
// response's base offset is the first, a fetch from an offset in a gap
// starts at the next log, and ListOffsets answers the first held and the
// next offset.
func TestJumpingOffsets(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 1}, JumpingOffsets: true})
	cl := franzClient(t, s, s.Project(), password(t, s))
	var bases []int64
	for i := range 3 {
		recs := []*kgo.Record{{Topic: "app", Value: []byte("a" + strconv.Itoa(i))}, {Topic: "app", Value: []byte("b" + strconv.Itoa(i))}}
		if err := cl.ProduceSync(ctx(t), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if recs[0].Offset+1 != recs[1].Offset {
			t.Errorf("batch %d at offsets %d, %d: want consecutive offsets within a batch", i, recs[0].Offset, recs[1].Offset)
		}
		bases = append(bases, recs[0].Offset)
	}
	if bases[0] != 0 || bases[1] <= 2 || bases[2] <= bases[1]+2 {
		t.Fatalf("batches start at %v, want 0 and then jumps", bases)
	}
	if got := offsetsOf(s.Logs("app")); len(got) != 6 || got[2] != bases[1] || got[4] != bases[2] {
		t.Errorf("stored offsets %v, batches at %v", got, bases)
	}

	c := franzConsumer(t, s, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"app": {0: kgo.NewOffset().At(bases[1] - 1)}}))
	got := poll(ctx(t), t, c, 4)
	for i, w := range []string{"a1", "b1", "a2", "b2"} {
		if string(got[i].Value) != w {
			t.Errorf("from offset %d in a gap: record %d = %q at %d, want %q", bases[1]-1, i, got[i].Value, got[i].Offset, w)
		}
	}

	for ts, want := range map[int64]int64{-2: 0, -1: bases[2] + 2} {
		req := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "app"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = ts
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx(t), cl)
		if err != nil {
			t.Fatal(err)
		}
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.Offset != want {
			t.Errorf("ListOffsets(%d) = %d (code %d), want %d", ts, p.Offset, p.ErrorCode, want)
		}
	}
}

func offsetsOf(logs []slstest.Log) []int64 {
	out := make([]int64, len(logs))
	for i, l := range logs {
		out[i] = l.Offset
	}
	return out
}
