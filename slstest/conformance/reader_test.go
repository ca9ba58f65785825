package conformance

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/slskafka/slskafka/slstest/internal/jsonfields"
)

// groupName is the consumer group every run reads with. SLS keeps a
// consumer group until it is deleted and allows 15 per logstore, so runs
// share one rather than each adding one; the run never commits offsets.
const groupName = "slskafka-conformance"

// consumed is one record as a consumer read it back.
type consumed struct {
	key, value []byte
	time       time.Time
	partition  int32
	offset     int64
}

// reader reads the target's logstore through a consumer group, as SLS
// documents its Kafka consumers, from the offsets the logstore had when
// the run started. It finds records by their content, never by offset:
// SLS's offsets jump.
type reader struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	recs    []consumed
	lastErr error         // the last fetch error, for a read-back that times out
	changed chan struct{} // closed and replaced when records arrive
}

// startReader starts the target's reader.
func (tg *target) startReader() error {
	ctx, cancel := context.WithTimeout(context.Background(), tg.timeout)
	defer cancel()
	start, err := tg.endOffsets(ctx)
	if err != nil {
		return fmt.Errorf("conformance: read the end offsets of logstore %q with the AccessKey: %w", tg.logstore, err)
	}
	opts := append(tg.clientOpts(tg.accessKey()),
		kgo.ConsumerGroup(groupName),
		kgo.ConsumeTopics(tg.logstore),
		kgo.DisableAutoCommit(),
		kgo.AdjustFetchOffsetsFn(func(_ context.Context, m map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
			for _, ps := range m {
				for p := range ps {
					o := kgo.NewOffset().AtStart() // a shard split off since the run started
					if at, ok := start[p]; ok {
						o = kgo.NewOffset().At(at)
					}
					ps[p] = o.WithEpoch(-1)
				}
			}
			return m, nil
		}),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	rctx, rcancel := context.WithCancel(context.Background())
	r := &reader{cl: cl, cancel: rcancel, done: make(chan struct{}), changed: make(chan struct{})}
	go r.poll(rctx)
	tg.read = r
	return nil
}

// endOffsets returns the next offset of every shard of the logstore.
func (tg *target) endOffsets(ctx context.Context) (map[int32]int64, error) {
	cl, err := kgo.NewClient(tg.clientOpts(tg.accessKey())...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	md, err := metadata(ctx, cl, tg.logstore)
	if err != nil {
		return nil, err
	}
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = tg.logstore
	for _, p := range md.Topics[0].Partitions {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p.Partition
		rp.Timestamp = -1 // the latest offset
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	out := make(map[int32]int64)
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("shard %d: %w", p.Partition, err)
			}
			out[p.Partition] = p.Offset
		}
	}
	return out, nil
}

// metadata returns what a Metadata request says of one topic.
func metadata(ctx context.Context, cl *kgo.Client, topic string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	if len(resp.Topics) != 1 {
		return nil, fmt.Errorf("metadata for %q lists %d topics", topic, len(resp.Topics))
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		return nil, err
	}
	return resp, nil
}

func (r *reader) poll(ctx context.Context) {
	defer close(r.done)
	for {
		fs := r.cl.PollFetches(ctx)
		if fs.IsClientClosed() || ctx.Err() != nil {
			return
		}
		r.mu.Lock()
		fs.EachError(func(_ string, _ int32, err error) { r.lastErr = err })
		fs.EachRecord(func(rec *kgo.Record) {
			r.recs = append(r.recs, consumed{key: rec.Key, value: rec.Value, time: rec.Timestamp, partition: rec.Partition, offset: rec.Offset})
		})
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
	}
}

// find waits for the record whose key or value holds token.
func (r *reader) find(ctx context.Context, token string) (consumed, error) {
	seen := 0
	for {
		r.mu.Lock()
		for _, c := range r.recs[seen:] {
			if bytes.Contains(c.value, []byte(token)) || bytes.Contains(c.key, []byte(token)) {
				r.mu.Unlock()
				return c, nil
			}
		}
		seen = len(r.recs)
		changed, lastErr := r.changed, r.lastErr
		r.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			err := fmt.Errorf("consumer group %q read %d records, none holding %s: %w", groupName, seen, token, ctx.Err())
			if lastErr != nil {
				err = fmt.Errorf("%w (last fetch error: %v)", err, lastErr)
			}
			return consumed{}, err
		}
	}
}

// close leaves the group and stops the reader.
func (r *reader) close() {
	r.cancel()
	r.cl.Close()
	<-r.done
}

// stored is one log as the target stored it.
type stored struct {
	fields map[string]string
	time   time.Time
	read   consumed // as the consumer group read it
}

// stored reads back the log that holds token, from what the consumer
// returned (fieldsOf), the same way on the emulator and on a real
// project: the log time is the consumed timestamp.
func (tg *target) stored(ctx context.Context, token string) (stored, error) {
	c, err := tg.read.find(ctx, token)
	if err != nil {
		return stored{}, err
	}
	return stored{fields: fieldsOf(c), time: c.time, read: c}, nil
}

// fieldsOf is the log a consumer returned, decoded from either shape of
// SLS's consumption overview: a log whose only field is content comes as
// the key "content" and that field's value; a log of several fields as a
// null key and the JSON object of its fields. A value that is not a JSON
// object is taken as the log's content.
func fieldsOf(c consumed) map[string]string {
	if string(c.key) != "content" {
		if m, ok := jsonfields.Expand(c.value); ok {
			return m
		}
	}
	return map[string]string{"content": string(c.value)}
}

// tokenField is the field every record written through the SDK carries.
const tokenField = "conformance_id"

// render prints fields sorted by key as k=v, without the token field and
// with token itself shown as <id>, so that a row's text is the same on
// every run.
func render(fields map[string]string, token string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if k == tokenField {
			continue
		}
		parts = append(parts, k+"="+strings.ReplaceAll(fields[k], token, "<id>"))
	}
	return strings.Join(parts, ", ")
}
