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
// The emulator behaves like the SLS endpoint, so code that works against it
// meets the same rules as in production:
//
//   - TLS only (TLS 1.2+), with a CA and server certificate generated at start
//     for 127.0.0.1, ::1 and localhost; TLSConfig and CACertPEM hand clients
//     the trust root.
//   - SASL PLAIN only, with SaslHandshake v0 and v1 and SaslAuthenticate v0 as
//     a Kafka 2.1 broker offers them. The username must be the project; the
//     password <AccessKeyId>#<AccessKeySecret>, or
//     <AccessKeyId>#<AccessKeySecret>#<SecurityToken> for an STS key that has
//     not expired. AddKey, AddSTSKey and RevokeKey change the key table at
//     run time.
//   - Authentication failures: a bad password, unknown or revoked key,
//     expired STS key or wrong project fails SASL with
//     SASL_AUTHENTICATION_FAILED (and a message saying which rule failed,
//     never the secret), then the connection is closed. A connection whose key
//     is revoked or expires after it authenticated stays open, but its produce
//     requests are answered with TOPIC_AUTHORIZATION_FAILED: Kafka 2.1 cannot
//     re-authenticate, so clients must re-dial with a fresh credential.
//   - API versions capped at Kafka 2.1 (kversion.V2_1_0). Only what the SLS
//     endpoint serves for producers is served: ApiVersions, SaslHandshake,
//     SaslAuthenticate, Metadata, Produce. InitProducerID is advertised and
//     refused with CLUSTER_AUTHORIZATION_FAILED, so an idempotent client fails
//     clearly instead of producing without sequence numbers.
//   - A logstore is a topic with N shards = N partitions, led by one broker.
//     An unknown logstore is UNKNOWN_TOPIC_OR_PARTITION. The topic
//     "<logstore>.json", or the record header data-parse-format: json, stores
//     a JSON object value expanded one level into fields (nested objects and
//     arrays stay JSON text); anything else is stored in the field "content".
//     The log time is the record timestamp.
//   - Record batches must be message format v2 with a valid CRC, compressed
//     with none, gzip, snappy, lz4 or zstd. A batch over MaxBatchBytes is
//     MESSAGE_TOO_LARGE; a batch whose records do not parse (a record length
//     that does not match, bytes left over, a negative record count) is
//     CORRUPT_MESSAGE. A request frame over MaxRequestBytes, or over 512 KiB
//     before SASL authentication, closes the connection, as Kafka does.
//
// Faults on demand: FailNext answers produce requests with
// KAFKA_STORAGE_ERROR or NETWORK_EXCEPTION (SLS's "wait 1 s and retry"
// errors), DropConnections cuts every connection, SetLatency delays produce
// responses (pipelining is kept), SetShards splits a logstore. Stats counts
// what the emulator saw. Logs and WaitLogs return what it stored, in arrival
// order, which is offset order within each shard.
//
// cmd/sls-emulator runs the same emulator as a process for other Kafka
// clients (Beats, Telegraf, collectd, kcat).
package slstest
