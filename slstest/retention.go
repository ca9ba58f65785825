package slstest

// logOverhead approximates what a stored log costs besides the bytes of
// its fields: the Log, its map, and the consumer's copy.
const logOverhead = 200

// logSize approximates the bytes a stored log holds: its fields, once in
// Logs and once more in what consumers read, and logOverhead.
func logSize(l Log) int64 {
	n := int64(logOverhead)
	for k, v := range l.Fields {
		n += 2 * int64(len(k)+len(v))
	}
	return n
}

// retain drops a logstore's oldest logs until what it holds is within
// the store's maxBytes (Config.MaxStoredBytes); the newest log is always
// kept. A dropped log leaves Logs, and its shard's first offset moves past
// it, so that a consumer reading there gets OFFSET_OUT_OF_RANGE, as from a
// Kafka log whose retention deleted the segment. Called with mu held,
// after logs were added.
func (s *store) retain(ls *logstore) {
	for s.maxBytes > 0 && ls.held > s.maxBytes && len(ls.logs) > 1 {
		old := ls.logs[0]
		ls.logs[0] = Log{} // let the fields go before the array is reallocated
		ls.logs = ls.logs[1:]
		ls.held -= logSize(old)
		sh := &ls.shards[old.Shard]
		// Per shard, arrival order is offset order: the oldest log of
		// the logstore is the oldest of its shard.
		sh.recs[0] = stored{}
		sh.recs = sh.recs[1:]
		sh.start = old.Offset + 1
	}
}
