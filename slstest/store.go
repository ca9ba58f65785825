package slstest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slskafka/slskafka/slstest/internal/jsonfields"
)

// Log is one log as SLS would have stored it.
type Log struct {
	// Time is the log time (__time__): the Kafka record's timestamp, in
	// whole seconds, as SLS keeps it.
	Time time.Time
	// Shard is the shard (Kafka partition) the record was written to.
	Shard int
	// Offset is the record's offset within its shard. With
	// Config.JumpingOffsets the offsets of a shard are not dense.
	Offset int64
	// Fields are the log's fields. A record stored in the plain form has
	// one field, "content"; an expanded JSON record has one field per
	// top-level key.
	Fields map[string]string
}

// jsonSuffix is the topic suffix that asks SLS to expand a JSON value.
const jsonSuffix = ".json"

// parseFormatHeader is the record header that asks for the same expansion
// on a plain topic.
const parseFormatHeader = "data-parse-format"

// store holds the logstores, their shards and what was written to them.
type store struct {
	mu        sync.Mutex
	logstores map[string]*logstore
	changed   chan struct{} // closed and replaced on every write
	maxBytes  int64         // Config.MaxStoredBytes, per logstore
	jumping   bool          // Config.JumpingOffsets
}

// offsetJump is the block that, with Config.JumpingOffsets, every batch a
// shard stores starts on: the first offset at or after the shard's next
// offset that is a multiple of it.
const offsetJump = 1000

type logstore struct {
	shards []shard
	logs   []Log // arrival order, which is offset order per shard
	held   int64 // approximate bytes of logs (logSize), for retain
}

// shard is what consumers read: the records SLS serves, by offset.
type shard struct {
	start    int64         // the first offset held; = next in Discard mode, which keeps nothing
	next     int64         // the next offset to assign (the high watermark)
	recs     []stored      // ascending offsets from start to below next, dense unless jumping
	throttle time.Duration // Server.ThrottleShard: how long writes to it are throttled
}

// stored is one log as a consumer reads it back (see consumed).
type stored struct {
	offset int64
	key    []byte // nil: a null key
	value  string
	ms     int64 // timestamp, Unix milliseconds: the log time, whole seconds
}

// size is what a record counts against a fetch's byte limits.
func (r stored) size() int { return len(r.key) + len(r.value) }

func newStore(logstores map[string]int, jumping bool) *store {
	s := &store{logstores: make(map[string]*logstore), changed: make(chan struct{}), jumping: jumping}
	for name, shards := range logstores {
		s.logstores[name] = &logstore{shards: make([]shard, shards)}
	}
	return s
}

// resolve maps a Kafka topic to its logstore and storage form. The second
// result is true for the "<logstore>.json" form.
func (s *store) resolve(topic string) (string, bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.logstores[topic]; ok {
		return topic, false, true
	}
	if name, ok := strings.CutSuffix(topic, jsonSuffix); ok {
		if _, ok := s.logstores[name]; ok {
			return name, true, true
		}
	}
	return "", false, false
}

// shards returns the shard count of a logstore, or -1 if it does not exist.
func (s *store) shards(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ls, ok := s.logstores[name]; ok {
		return len(ls.shards)
	}
	return -1
}

// names returns every logstore name, sorted.
func (s *store) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.logstores))
	for name := range s.logstores {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// setShards creates a logstore or changes its shard count. Shards are only
// ever added: like Kafka partitions, a shard index never disappears while
// clients may still address it.
func (s *store) setShards(name string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ls, ok := s.logstores[name]
	if !ok {
		s.logstores[name] = &logstore{shards: make([]shard, n)}
		return
	}
	for len(ls.shards) < n {
		ls.shards = append(ls.shards, shard{})
	}
}

// append stores the logs of one batch on one shard and returns the first
// offset assigned. It sets each log's shard and offset, and cuts its time
// to whole seconds, as SLS keeps __time__.
func (s *store) append(name string, shardID int, logs []Log) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ls := s.logstores[name]
	sh := &ls.shards[shardID]
	base := s.assign(sh, len(logs))
	for i := range logs {
		l := &logs[i]
		l.Shard, l.Offset = shardID, base+int64(i)
		l.Time = l.Time.Truncate(time.Second)
		key, value := consumed(l.Fields)
		sh.recs = append(sh.recs, stored{offset: l.Offset, key: key, value: value, ms: l.Time.UnixMilli()})
	}
	ls.logs = append(ls.logs, logs...)
	for _, l := range logs {
		ls.held += logSize(l)
	}
	s.retain(ls)
	s.notify()
	return base
}

// advance assigns the offsets of a batch of n records on one shard
// without storing logs.
func (s *store) advance(name string, shardID, n int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := &s.logstores[name].shards[shardID]
	base := s.assign(sh, n)
	sh.start = sh.next
	s.notify()
	return base
}

// assign takes the offsets of a batch of n records on a shard and returns
// the first. The batch's offsets are consecutive, since a produce
// response tells a client only the first; with jumping, the batch starts
// on the next block of offsetJump. Called with mu held.
func (s *store) assign(sh *shard, n int) int64 {
	base := sh.next
	if s.jumping && base%offsetJump != 0 {
		base += offsetJump - base%offsetJump
	}
	sh.next = base + int64(n)
	return base
}

// setThrottle sets how long a produce request that writes to a shard is
// throttled; ok is false if the shard does not exist.
func (s *store) setThrottle(name string, shardID int, d time.Duration) (ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shardLocked(name, shardID)
	if sh == nil {
		return false
	}
	sh.throttle = d
	return true
}

// throttle returns how long a produce request that writes to a shard is
// throttled, 0 for a shard that is not or does not exist.
func (s *store) throttle(name string, shardID int) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh := s.shardLocked(name, shardID); sh != nil {
		return sh.throttle
	}
	return 0
}

// notify wakes everyone waiting for a write. Called with mu held.
func (s *store) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// offsets returns a shard's first held offset and its next offset (the
// high watermark); ok is false if the logstore or shard does not exist.
func (s *store) offsets(name string, shardID int) (start, next int64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shardLocked(name, shardID)
	if sh == nil {
		return 0, 0, false
	}
	return sh.start, sh.next, true
}

// changes returns a channel that is closed on the next write.
func (s *store) changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// read returns the records of a shard from offset on while their values
// stay within maxBytes; with atLeastOne, the first record whatever its
// size, so that a large record cannot stall a consumer (Kafka's KIP-74 does
// this for the first non-empty partition of a fetch only).
func (s *store) read(name string, shardID int, offset int64, maxBytes int, atLeastOne bool) []stored {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shardLocked(name, shardID)
	if sh == nil || offset < sh.start || offset >= sh.next {
		return nil
	}
	// The first record at or after offset: with jumping offsets, an
	// offset in a gap reads on from the next record, as Kafka reads on
	// past the gaps compaction leaves.
	i, _ := slices.BinarySearchFunc(sh.recs, offset, func(r stored, o int64) int { return cmp.Compare(r.offset, o) })
	recs := sh.recs[i:]
	n, size := 0, 0
	for n < len(recs) && (n == 0 && atLeastOne || size+recs[n].size() <= maxBytes) {
		size += recs[n].size()
		n++
	}
	return slices.Clone(recs[:n])
}

// offsetForTime returns the first offset of a shard whose record timestamp
// is at or after ms, as Kafka's time index finds it, and that timestamp;
// ok is false if no held record is that late.
func (s *store) offsetForTime(name string, shardID int, ms int64) (offset, at int64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.shardLocked(name, shardID)
	if sh == nil {
		return 0, 0, false
	}
	for _, r := range sh.recs {
		if r.ms >= ms {
			return r.offset, r.ms, true
		}
	}
	return 0, 0, false
}

func (s *store) shardLocked(name string, shardID int) *shard {
	ls, ok := s.logstores[name]
	if !ok || shardID < 0 || shardID >= len(ls.shards) {
		return nil
	}
	return &ls.shards[shardID]
}

// logs returns a copy of what a logstore holds, or nil if it does not exist.
func (s *store) logs(name string) []Log {
	logs, _ := s.logsIfAtLeast(name, 0)
	return logs
}

// logsIfAtLeast returns a copy of what a logstore holds if it holds at
// least n logs, and nil without copying anything otherwise, together with
// a channel that is closed on the next write.
func (s *store) logsIfAtLeast(name string, n int) ([]Log, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ls, ok := s.logstores[name]
	if !ok || len(ls.logs) < n {
		return nil, s.changed
	}
	out := make([]Log, len(ls.logs))
	for i, l := range ls.logs {
		out[i] = l
		out[i].Fields = maps.Clone(l.Fields)
	}
	return out, s.changed
}

// wait blocks until the logstore holds at least n logs. It copies the logs
// once, when there are enough, so that waiting costs O(1) per write.
func (s *store) wait(ctx context.Context, name string, n int) ([]Log, error) {
	for {
		got, changed := s.logsIfAtLeast(name, n)
		if got != nil || n <= 0 {
			return got, nil
		}
		select {
		case <-ctx.Done():
			got = s.logs(name)
			return got, fmt.Errorf("slstest: logstore %q holds %d logs, waiting for %d: %w", name, len(got), n, ctx.Err())
		case <-changed:
		}
	}
}

// fields turns a record value into the fields SLS stores. In the expanded
// form a JSON object becomes one field per top-level key; nested objects and
// arrays stay JSON text, strings are unquoted, numbers, booleans and null
// keep their JSON spelling. A value that is not a JSON object is stored
// whole in "content", as SLS does when parsing fails. value is raw as a
// string, which the content form shares rather than copying raw again.
func fields(raw []byte, value string, expand bool) map[string]string {
	if expand {
		if m, ok := jsonfields.Expand(raw); ok {
			return m
		}
	}
	return map[string]string{"content": value}
}

// Kafka fields of a log imported from Kafka: SLS's consumers get such a
// log back as the Kafka record it was, with its key and value.
var kafkaFields = [...]string{"kafka_topic", "kafka_partition", "kafka_offset", "key", "value"}

// consumed returns the key and value a Kafka consumer reads for a log with
// these fields, as SLS's consumption overview describes them: a log whose
// only field is content has the key "content" and that field as its
// value; a log holding the Kafka fields has their key and value (an empty
// key is null); any other log has a null key and the JSON object of its
// fields, every value a string, since SLS stores text.
func consumed(fields map[string]string) (key []byte, value string) {
	if c, ok := fields["content"]; ok && len(fields) == 1 {
		return []byte("content"), c
	}
	kafka := true
	for _, f := range kafkaFields {
		_, has := fields[f]
		kafka = kafka && has
	}
	if kafka {
		if k := fields["key"]; k != "" {
			key = []byte(k)
		}
		return key, fields["value"]
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Field text goes out as stored: no \u003c for "<".
	enc.SetEscapeHTML(false)
	// A map of strings always encodes (invalid UTF-8 becomes U+FFFD).
	_ = enc.Encode(fields)
	return nil, strings.TrimSuffix(buf.String(), "\n")
}
