// Package slstest runs an in-process emulator of the Alibaba Cloud Simple
// Log Service (SLS) Kafka endpoint, for tests and demos, the way
// net/http/httptest runs an HTTP server.
//
//	s := slstest.New(t, slstest.Config{Project: "demo", Logstores: map[string]int{"app": 2}})
//	p, _ := producer.New(producer.Config{
//		Project:     s.Project(),
//		Endpoint:    s.Endpoint(),
//		Credentials: s.Credentials(),
//		TLS:         s.TLSConfig(),
//	})
//	// ... log ...
//	logs, _ := s.WaitLogs(ctx, "app", 3) // what SLS would have stored
//
// # What it serves
//
// The emulator behaves like the SLS endpoint, so code that works against it
// meets the same rules as in production:
//
//   - TLS only (TLS 1.2+), with a server certificate for 127.0.0.1, ::1,
//     localhost and AdvertisedHost, signed by a CA generated at start or
//     handed in (Config.CA, Server.CA: restart on the same trust root).
//     TLSConfig and CACertPEM hand clients the trust root.
//   - SASL PLAIN only, with SaslHandshake v0 and v1 and SaslAuthenticate v0 as
//     a Kafka 2.1 broker offers them. The username must be the project; the
//     password <AccessKeyId>#<AccessKeySecret>, or
//     <AccessKeyId>#<AccessKeySecret>#<SecurityToken> for an STS key that has
//     not expired (unless Config.RefuseSecurityTokens). AddKey, AddSTSKey
//     and RevokeKey change the key table at run time.
//   - A refused credential (wrong secret, unknown, revoked or expired key)
//     fails where Config.AuthFailure says: by default
//     (AtProduce) SASL succeeds and the connection's Metadata, Produce,
//     Fetch and ListOffsets requests are answered with
//     TOPIC_AUTHORIZATION_FAILED (an all-topics Metadata request lists
//     every logstore with it, so that clients which look their topic up
//     in that list, such as kafka-go, report the refusal rather than an
//     unknown topic; Kafka would list none) and its group requests with
//     GROUP_AUTHORIZATION_FAILED; with AtSASL, SaslAuthenticate fails with
//     SASL_AUTHENTICATION_FAILED and a message saying which rule failed
//     (never the secret), and the connection is closed. A key revoked or
//     expired after its connection authenticated gets
//     TOPIC_AUTHORIZATION_FAILED in both modes: Kafka 2.1 cannot
//     re-authenticate, so clients must re-dial with a fresh credential.
//   - A valid key with a username other than the project authenticates
//     in both modes and finds no logstore: every topic it names is
//     UNKNOWN_TOPIC_OR_PARTITION, and an all-topics Metadata request lists
//     none, as SLS answers a project that does not exist.
//   - Producer requests at Kafka 2.1: ApiVersions, SaslHandshake,
//     SaslAuthenticate, Metadata, Produce (v0-v7). InitProducerID is
//     advertised and refused with CLUSTER_AUTHORIZATION_FAILED, so an
//     idempotent client fails clearly instead of producing without
//     sequence numbers. Transactions, which SLS does not have either, are
//     refused with a clear message: FindCoordinator for a transaction
//     coordinator is answered TRANSACTIONAL_ID_AUTHORIZATION_FAILED with the
//     message "SLS has no transactions: produce without a transactional
//     id, with idempotence off" (shown by librdkafka and the Java client;
//     franz-go shows the code) and logged as a warning; a transactional
//     franz-go client fails at BeginTransaction. The transaction requests
//     proper close the connection: no client reaches them without a
//     producer id.
//   - Consumer requests at Kafka 2.2: Fetch (v4-v10), ListOffsets (v0-v5),
//     FindCoordinator, JoinGroup (v0-v4), SyncGroup, Heartbeat, LeaveGroup,
//     OffsetCommit, OffsetFetch. A consumer reads any shard from any
//     offset and gets what SLS serves: a log whose only field is content
//     as the key "content" and that field's text; a log holding the
//     fields kafka_topic, kafka_partition, kafka_offset, key and value as
//     that key (null if empty) and value; any other log as a null key and
//     the JSON object of its fields, every value a string (a field sent
//     as 1 comes back as "1"). Record keys and headers sent by producers
//     are not kept. The timestamp is the log time, in whole seconds.
//     With Config.JumpingOffsets a shard's offsets jump between batches,
//     as SLS's do. Consumer groups rebalance eagerly or cooperatively (the
//     protocol is the clients'); a logstore takes at most 15 groups, and a
//     16th is refused with GROUP_MAX_SIZE_REACHED.
//   - The admin requests SLS's samples send: ListGroups, DescribeGroups
//     and DeleteGroups are served (a deleted group frees its place among
//     the logstore's 15; one with members is NON_EMPTY_GROUP), and
//     ListOffsets with a timestamp answers the first offset at or after
//     it. CreateTopics, DeleteTopics and DescribeConfigs, which SLS serves
//     for SPL virtual topics (<logstore>.0 to .31 with a query config),
//     are answered, not cut off: an existing logstore is
//     TOPIC_ALREADY_EXISTS to CreateTopics, an unknown topic
//     UNKNOWN_TOPIC_OR_PARTITION to the other two, and everything else
//     POLICY_VIOLATION with a message saying why. SPL virtual topics are
//     not emulated: without an SPL engine a virtual topic would serve
//     every log as if its query matched, which a test would mistake for
//     the query working.
//   - A consumer group may read at most 50 logstores; past that, or past
//     a logstore's 15 groups, a JoinGroup or OffsetCommit is refused with
//     GROUP_MAX_SIZE_REACHED and leaves no group behind. A JoinGroup with a
//     protocol type other than "consumer", or a subscription that does not
//     parse, is INCONSISTENT_GROUP_PROTOCOL: SLS serves consumer groups
//     only.
//   - Every other request a Kafka 2.1 broker advertises (transactions,
//     the rest of the admin requests) is advertised too, since clients
//     derive features from the list, and closes the connection when sent.
//   - A logstore is a topic with N shards = N partitions, led by one broker.
//     An unknown logstore is UNKNOWN_TOPIC_OR_PARTITION. The topic
//     "<logstore>.json", or the record header data-parse-format: json, stores
//     a JSON object value expanded one level into fields (nested objects and
//     arrays stay JSON text); anything else is stored in the field "content".
//     The log time (__time__, Log.Time) is the record timestamp cut to
//     whole seconds, as SLS keeps it.
//   - Record batches must be message format v2 with a valid CRC, compressed
//     with none, gzip, snappy, lz4 or zstd (but not with a codec in
//     Config.RefuseCodecs, which is answered as Config.CodecRefusal says:
//     UNSUPPORTED_COMPRESSION_TYPE or CORRUPT_MESSAGE). A batch over MaxBatchBytes is
//     MESSAGE_TOO_LARGE; a batch whose records do not parse (a record length
//     that does not match, bytes left over, a negative record count) is
//     CORRUPT_MESSAGE. Server.CodecBatches counts the stored batches per
//     codec: what went on the wire, whatever the client was configured
//     with.
//
// # Bad input
//
// The emulator is a server other processes can reach (cmd/sls-emulator),
// so a broken or hostile client gets an error or a closed connection,
// never a crash or unbounded memory:
//
//   - A produce request may decompress to MaxDecompressedBytes (32 MiB) and
//     store MaxRecords (100,000) records, all batches together; decompression
//     stops at the bound, a record count past it is refused before
//     decompressing, and both are answered with MESSAGE_TOO_LARGE. At most
//     GOMAXPROCS batches decompress at once.
//   - Before SASL completes, a connection has 10 s from connecting, for
//     reads and writes alike, at most 8 requests, and frames of at most
//     512 KiB (Kafka's sasl.server.max.receive.size). After, frames are
//     capped at MaxRequestBytes (100 MiB), and a connection that sends no
//     request or does not read a response for IdleTimeout (10 min, Kafka's
//     connections.max.idle.ms) is closed.
//   - A request frame is read into a buffer that grows with the bytes
//     that arrive, from 64 KiB, never to more than its header declares: a
//     header declaring 100 MiB costs what was sent after it. What the
//     frames being read hold, all connections together, is bounded by
//     MaxPendingRequestBytes (256 MiB): a connection whose bytes would
//     pass it is closed (Stats.PendingRequestBytes shows the total).
//   - A connection queues at most 64 responses and 8 MiB of them (one
//     response always passes, however large) for a client that pipelines
//     requests; past that it reads no more requests until the client
//     reads its responses, as a Kafka broker mutes a connection, and a
//     client that reads nothing for IdleTimeout is closed.
//   - At most MaxConnections (1024) connections are open at once; further
//     ones are closed at once, logged once and counted in Stats.
//   - A fetch response holds at most 1 MiB of records (more only for a
//     single record larger than that).
//   - A logstore keeps about MaxStoredBytes (1 GiB) of logs; past that its
//     oldest logs are dropped (Logs and consumers no longer see them), so
//     an emulator that runs for days does not grow without end. SLS keeps
//     logs for a retention period instead.
//   - A client that speaks plaintext to the TLS port is logged once as a
//     warning, naming the fix (security.protocol=SASL_SSL).
//
// # Documented and assumed
//
// Each behaviour below names the test of the conformance kit (package
// slstest/conformance) that checks it: against this emulator in CI, where
// the test fails if the emulator does not do what this list says, and
// against a real SLS project with SLS_CONFORMANCE=1. "Documented" names
// the SLS document that says so: "upload" is the page "Use the Kafka
// protocol to upload logs", "consumption" the Kafka consumption overview,
// "samples" SLS's own Kafka samples, "sls-doc" the aliyun-sls/sls-doc
// repository. "Assumed" means no SLS document says so: the emulator
// encodes a best guess, which the kit's table shows next to what a real
// project does.
//
//   - The SASL PLAIN username is the project and the password
//     <AccessKeyId>#<AccessKeySecret>: documented (upload).
//     TestAccessKeyPassword.
//   - STS credentials sent as <AccessKeyId>#<AccessKeySecret>#<SecurityToken>:
//     assumed. TestSTSPassword. Config.RefuseSecurityTokens plays an SLS
//     that takes AccessKey pairs only.
//   - A wrong AccessKey, or one without write permission, answered with
//     TOPIC_AUTHORIZATION_FAILED: documented (upload); that SASL passes
//     first (AtProduce), and that an all-topics Metadata request lists
//     every logstore refused, are assumed; AtSASL is an emulator mode.
//     TestWrongSecret.
//   - A project that does not exist, with a valid AccessKey, is
//     UNKNOWN_TOPIC_OR_PARTITION: documented (upload: "the project or
//     logstore does not exist"); that SASL passes first is assumed.
//     TestWrongProject.
//   - An unknown logstore, or an endpoint in another region than the
//     project, is UNKNOWN_TOPIC_OR_PARTITION: documented (upload).
//     TestMissingLogstore, TestWrongRegion (the emulator has one region: a
//     second emulator without the logstore stands in for another).
//   - Batches compressed with gzip, and uncompressed ones, are accepted:
//     documented (samples); snappy, lz4 and zstd batches: assumed.
//     TestCodec/none, TestCodec/gzip, TestCodec/snappy, TestCodec/lz4,
//     TestCodec/zstd, TestCodec/default (the producer's default codec).
//     Config.RefuseCodecs plays an SLS that refuses a codec; with lz4,
//     snappy and zstd refused it takes only what SLS's documents show.
//   - A batch over MaxBatchBytes (Kafka's default message.max.bytes) is
//     MESSAGE_TOO_LARGE: assumed. TestLargestRecord.
//   - The value is stored in "content"; "<logstore>.json", or the header
//     data-parse-format: json, expands a JSON object into fields:
//     documented (upload). TestContentField, TestJSONTopic,
//     TestJSONHeader.
//   - The expansion is one level deep: nested objects and arrays stay JSON
//     text, numbers, booleans and null keep their JSON spelling, and a
//     value that is not an object is stored in "content": assumed.
//     TestJSONNested, TestJSONArrays, TestJSONNumbers, TestJSONNonObject.
//   - The record timestamp is the log time (__time__), in whole seconds:
//     documented (sls-doc; consumption); for records stamped an hour ago
//     or a day ahead: assumed.
//     TestTime/now, TestTime/hour_ago, TestTime/day_ahead.
//   - Topic = logstore and shard = partition, under both topic forms:
//     documented (upload); one broker leading every shard: assumed.
//     TestMetadataShards.
//   - No idempotent producer: documented (the samples set
//     enable.idempotence=false); InitProducerID refused with
//     CLUSTER_AUTHORIZATION_FAILED: assumed. TestInitProducerID.
//   - Kafka 2.1.0 and newer for producers: documented (upload); consumer
//     group requests up to Kafka 2.2: documented (consumption); the other
//     requests of a 2.1 broker advertised but not served: assumed.
//     TestApiVersions.
//   - Consumer groups read what was written: a content log with the key
//     "content", a log of several fields with a null key and the JSON
//     object of its fields as strings, a log of Kafka fields as its key
//     and value, timestamps in whole seconds, offsets that jump:
//     documented (consumption). Whether the JSON object holds system
//     fields such as __source__, the order of its keys, how far offsets
//     jump and that headers are dropped: assumed. TestConsumerGroup,
//     TestTime.
//
// These are not checked against a real project: a run cannot cause them,
// or must not.
//
//   - At most 15 consumer groups per logstore: documented (consumption);
//     the 16th refused with GROUP_MAX_SIZE_REACHED, and a refused key's
//     group requests with GROUP_AUTHORIZATION_FAILED: assumed.
//   - At most 50 logstores per consumer group: documented (consumption);
//     refused with GROUP_MAX_SIZE_REACHED: assumed.
//   - ListGroups, DescribeGroups, DeleteGroups, ListOffsets by time, and
//     CreateTopics, DescribeConfigs and DeleteTopics for SPL virtual
//     topics: documented (samples); how SLS answers a topic admin request
//     it does not serve (POLICY_VIOLATION here): assumed.
//   - NetworkException and KafkaStorageException as "wait 1 s and retry":
//     documented (upload); served on demand only (FailNext).
//   - Permissions are not modelled: every valid key may write and read.
//     SLS documents log:GetProject on the project and log:GetLogStore,
//     log:ListShards and log:PostLogStoreLogs on the logstore for writers
//     (upload), log:GetCursorOrData for readers (consumption).
//   - A rebalance completes as soon as every member has joined (no
//     group.initial.rebalance.delay.ms); fetch sessions are not kept
//     (session id 0: clients send full fetches); Fetch v0-v3 (message
//     formats v0/v1) are answered with UNSUPPORTED_FOR_MESSAGE_FORMAT:
//     assumed.
//   - The size, count, connection and idle bounds above are Kafka's or the
//     emulator's; SLS's own are not documented for the Kafka endpoint.
//   - Quotas: SLS documents per-shard soft limits (5 MB/s of raw data with
//     an index, 10 MB/s without, 500 writes/s) and per-project hard limits
//     for its HTTP API; how the Kafka endpoint enforces them is not
//     documented. ThrottleShard answers as a Kafka 2.1 broker throttles a
//     client over its quota (ThrottleTimeMs in the produce response, the
//     connection muted meanwhile): assumed, and served on demand only;
//     no quota is enforced by itself.
//
// # Faults and tests
//
// Faults on demand: FailNext answers produce requests with
// KAFKA_STORAGE_ERROR or NETWORK_EXCEPTION (SLS's "wait 1 s and retry"
// errors), DropConnections cuts every connection, SetLatency delays produce
// responses (pipelining is kept), ThrottleShard throttles the writes to a
// shard, SetShards splits a logstore.
// Config.RefuseSecurityTokens and Config.RefuseCodecs play an SLS where an
// assumption above does not hold, to test how a client reports it. Stats
// counts what the emulator saw. Logs and WaitLogs return what it stored, in arrival
// order, which is offset order within each shard.
//
// With Config.InMemory the emulator listens in memory and clients connect
// through DialContext (net.Pipe connections): started inside a
// testing/synctest bubble, its timeouts and STS expiry run on the bubble's
// fake clock, so a test of a ten-minute idle timeout or of credential
// rotation takes no real time.
//
// cmd/sls-emulator runs the same emulator as a process for other Kafka
// clients (Beats, Telegraf, collectd, kcat).
package slstest
