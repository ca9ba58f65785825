// Package conformance checks every assumption this SDK and its emulator
// make about the SLS Kafka endpoint, against the emulator or against a real
// SLS project. It holds tests only:
//
//	go test -v ./slstest/conformance                     # against the in-process emulator (CI)
//	SLS_CONFORMANCE=1 go test -v ./slstest/conformance   # against the project in SLS_*
//
// Each assumption is one named test (TestSTSPassword, TestCodec/lz4, ...)
// that writes through the SDK (or, for what the SDK never sends, a plain
// franz-go client), then reads back what was stored through SLS's Kafka
// consumer interface: one consumer group, "slskafka-conformance", reading
// the logstore from the offsets it had when the run started. With -v (and
// always against a real project) the run ends with a table:
//
//	| test | assumption | evidence | emulator | this target | SDK needs | result |
//
// evidence is "documented" with the SLS document that says so, or
// "assumed" where no document does; emulator is what the emulator is
// documented to do (package slstest); this target is what the run observed.
//
// Against the emulator every row must observe what the emulator is
// documented to do, so CI notices when the emulator and its documentation
// part. Against a real project a row records what it observed and fails
// only where the SDK's behaviour depends on it (the rows with an entry
// under "SDK needs": the AccessKey and STS password forms, how a wrong key,
// project, region or logstore fails, the default codec and gzip, the largest record,
// the .json topic and the content field, __time__ for now, shards in
// metadata and the ApiVersions ranges); a row whose result is "differs"
// observed something else than the emulator does, which the SDK does not
// depend on: the emulator, not the SDK, needs changing.
//
// # Against a real project
//
// SLS_CONFORMANCE=1 selects the project; with it, the run fails at once,
// naming everything that is missing, unless all of these are set:
//
//   - SLS_PROJECT, SLS_LOGSTORE: a project and a logstore the run may write
//     test logs to (each carries a field conformance_id).
//   - SLS_ENDPOINT (an SLS endpoint such as cn-hangzhou.log.aliyuncs.com)
//     or SLS_REGION (with SLS_NETWORK): the wrong-region row uses another
//     region of the same network. SLS_CA_FILE is honoured.
//   - ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET: a RAM
//     user's AccessKey, with no ALIBABA_CLOUD_SECURITY_TOKEN. It needs the
//     writer's permissions (log:GetProject on the project; log:GetLogStore,
//     log:ListShards, log:PostLogStoreLogs on the logstore) and the
//     reader's (log:GetCursorOrData on the logstore).
//   - SLS_CONFORMANCE_ROLE_ARN: a RAM role that AccessKey may assume
//     (sts:AssumeRole), with the same permissions: the STS row assumes it
//     (through aliyun/credentials-go, as auth.Default does on ECS, ACK and
//     Function Compute) and sends the STS credential as the SDK does.
//
// Run it once at a time per logstore: concurrent runs share the consumer
// group and each would read only some shards.
package conformance
