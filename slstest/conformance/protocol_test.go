package conformance

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

func TestMetadataShards(t *testing.T) {
	check(t, assumption{
		what:     `metadata lists a logstore's shards as partitions, the same for "<logstore>" and "<logstore>.json", each led by a broker it lists`,
		evidence: docUpload,
		emulator: fmt.Sprintf("%d shards (%d for .json), each led by a listed broker; 1 broker listed", emulatorShards, emulatorShards),
		sdk:      "at least one shard for both topic forms, each led by a listed broker",
	}, func(t *testing.T, tg *target) (string, bool) {
		cl := tg.client(t, tg.accessKey())
		plain, err := metadata(tg.ctx(t), cl, tg.logstore)
		if err != nil {
			return outcome(err), false
		}
		expanded, err := metadata(tg.ctx(t), cl, tg.logstore+".json")
		if err != nil {
			return fmt.Sprintf("%d shards; .json: %s", len(plain.Topics[0].Partitions), outcome(err)), false
		}
		listed := make(map[int32]bool)
		for _, b := range plain.Brokers {
			listed[b.NodeID] = true
		}
		led := true
		for _, md := range []*kmsg.MetadataResponse{plain, expanded} {
			for _, p := range md.Topics[0].Partitions {
				led = led && listed[p.Leader] && p.ErrorCode == 0
			}
		}
		n, nj := len(plain.Topics[0].Partitions), len(expanded.Topics[0].Partitions)
		leaders := "each led by a listed broker"
		if !led {
			leaders = "not all led by a listed broker"
		}
		brokers := "1 broker listed"
		if len(plain.Brokers) != 1 {
			brokers = fmt.Sprintf("%d brokers listed", len(plain.Brokers))
		}
		return fmt.Sprintf("%d shards (%d for .json), %s; %s", n, nj, leaders, brokers), n > 0 && nj == n && led
	})
}

func TestInitProducerID(t *testing.T) {
	check(t, assumption{
		what:     "InitProducerID (idempotent or transactional producers) is refused",
		evidence: "documented: no idempotence (SLS's own Kafka samples set enable.idempotence=false); the answer: assumed",
		emulator: "refused: CLUSTER_AUTHORIZATION_FAILED",
	}, func(t *testing.T, tg *target) (string, bool) {
		cl := tg.client(t, tg.accessKey())
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionTimeoutMillis = 60_000
		resp, err := req.RequestWith(tg.ctx(t), cl)
		switch {
		case err != nil:
			return "request failed: " + outcome(err), true
		case resp.ErrorCode != 0:
			return "refused: " + codeName(resp.ErrorCode), true
		}
		return fmt.Sprintf("granted producer id %d, epoch %d", resp.ProducerID, resp.ProducerEpoch), true
	})
}

// versionKeys are the requests whose advertised ranges the ApiVersions
// row prints: a producer's, a consumer group's, and InitProducerID.
var versionKeys = []kmsg.Key{
	kmsg.ApiVersions, kmsg.SASLHandshake, kmsg.SASLAuthenticate, kmsg.Metadata, kmsg.Produce, kmsg.InitProducerID,
	kmsg.Fetch, kmsg.ListOffsets, kmsg.FindCoordinator, kmsg.JoinGroup, kmsg.SyncGroup, kmsg.Heartbeat,
	kmsg.LeaveGroup, kmsg.OffsetCommit, kmsg.OffsetFetch,
}

func TestApiVersions(t *testing.T) {
	check(t, assumption{
		what:     "ApiVersions advertises Kafka 2.1's ranges, consumer group requests at Kafka 2.2's",
		evidence: "documented (SLS: Use the Kafka protocol to upload logs: Kafka 2.1.0 and newer; SLS: Kafka consumption overview: consumer groups up to 2.2)",
		emulator: advertisedAs21And22(),
		sdk:      "Produce v3 or newer (message format v2), Metadata and SaslHandshake advertised",
	}, func(t *testing.T, tg *target) (string, bool) {
		cl := tg.client(t, tg.accessKey())
		resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(tg.ctx(t), cl)
		if err != nil {
			return outcome(err), false
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			return outcome(err), false
		}
		ranges := make(map[int16][2]int16)
		for _, k := range resp.ApiKeys {
			ranges[k.ApiKey] = [2]int16{k.MinVersion, k.MaxVersion}
		}
		_, metadata := ranges[kmsg.Metadata.Int16()]
		_, handshake := ranges[kmsg.SASLHandshake.Int16()]
		produce, ok := ranges[kmsg.Produce.Int16()]
		return renderVersions(ranges), ok && produce[1] >= 3 && metadata && handshake
	})
}

// advertisedAs21And22 is what the emulator is documented to advertise:
// every request at the versions of a Kafka 2.1 broker, the consumer
// requests at Kafka 2.2's.
func advertisedAs21And22() string {
	vs := kversion.V2_1_0()
	v22 := kversion.V2_2_0()
	for _, k := range []kmsg.Key{kmsg.Fetch, kmsg.ListOffsets, kmsg.FindCoordinator, kmsg.JoinGroup, kmsg.SyncGroup,
		kmsg.Heartbeat, kmsg.LeaveGroup, kmsg.OffsetCommit, kmsg.OffsetFetch} {
		if v, ok := v22.LookupMaxKeyVersion(k.Int16()); ok {
			vs.SetMaxKeyVersion(k.Int16(), v)
		}
	}
	ranges := make(map[int16][2]int16)
	vs.EachMaxKeyVersion(func(k, v int16) { ranges[k] = [2]int16{0, v} })
	return renderVersions(ranges)
}

// renderVersions prints the ranges of versionKeys, and how many other
// requests are advertised.
func renderVersions(ranges map[int16][2]int16) string {
	var parts []string
	shown := 0
	for _, k := range versionKeys {
		r, ok := ranges[k.Int16()]
		if !ok {
			parts = append(parts, k.Name()+" none")
			continue
		}
		shown++
		parts = append(parts, fmt.Sprintf("%s %d-%d", k.Name(), r[0], r[1]))
	}
	return strings.Join(parts, ", ") + fmt.Sprintf("; %d other requests", len(ranges)-shown)
}

// codeName is the name of a Kafka error code.
func codeName(code int16) string {
	var ke *kerr.Error
	if errors.As(kerr.ErrorForCode(code), &ke) {
		return ke.Message
	}
	return fmt.Sprintf("error code %d", code)
}
