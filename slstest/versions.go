package slstest

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// consumerKeys are the requests SLS serves to consumers. SLS documents its
// consumer groups at the Kafka 2.2 versions; Fetch and ListOffsets are
// offered at 2.2 with them. Everything else stays at 2.1, the version SLS
// documents for producers: in particular SaslAuthenticate stays at v0,
// since v1 would announce KIP-368 re-authentication, which SLS lacks.
var consumerKeys = []int16{
	kmsg.Fetch.Int16(),
	kmsg.ListOffsets.Int16(),
	kmsg.FindCoordinator.Int16(),
	kmsg.JoinGroup.Int16(),
	kmsg.SyncGroup.Int16(),
	kmsg.Heartbeat.Int16(),
	kmsg.LeaveGroup.Int16(),
	kmsg.OffsetCommit.Int16(),
	kmsg.OffsetFetch.Int16(),
}

// advertisedVersions is what ApiVersions offers: every request a Kafka 2.1
// broker offers, with the consumer requests raised to Kafka 2.2.
func advertisedVersions() *kversion.Versions {
	vs := kversion.V2_1_0()
	v22 := kversion.V2_2_0()
	for _, k := range consumerKeys {
		if v, ok := v22.LookupMaxKeyVersion(k); ok {
			vs.SetMaxKeyVersion(k, v)
		}
	}
	return vs
}

// served is the set of requests the emulator answers, at the versions it
// advertises: SLS's producer and consumer requests.
var served = func() map[int16]bool {
	m := map[int16]bool{
		kmsg.Produce.Int16():          true,
		kmsg.Metadata.Int16():         true,
		kmsg.SASLHandshake.Int16():    true, // 0..1, the range librdkafka requires before it authenticates
		kmsg.ApiVersions.Int16():      true,
		kmsg.InitProducerID.Int16():   true, // advertised so idempotent clients ask, then refused
		kmsg.SASLAuthenticate.Int16(): true,
		// The admin requests SLS's samples send.
		kmsg.ListGroups.Int16():      true,
		kmsg.DescribeGroups.Int16():  true,
		kmsg.DeleteGroups.Int16():    true,
		kmsg.CreateTopics.Int16():    true, // refused: see admin.go
		kmsg.DeleteTopics.Int16():    true, // refused
		kmsg.DescribeConfigs.Int16(): true, // refused
	}
	for _, k := range consumerKeys {
		m[k] = true
	}
	return m
}()

// advertised is what ApiVersions lists: every request a Kafka broker of
// those versions advertises, of which the emulator serves what SLS serves
// (served). Clients derive features from the whole list, not only from the
// requests they send: librdkafka (kcat, Fluent Bit, collectd) enables
// message format v2 only if Produce >= 3 and Fetch >= 4 are offered, LZ4
// only if FindCoordinator is, and zstd only if Fetch >= 10 is. Offered the
// produce keys alone it falls back to message format v0, which SLS and the
// emulator refuse with UNSUPPORTED_FOR_MESSAGE_FORMAT. A request that is
// advertised but not served (transactions, the admin requests SLS's samples
// do not send) closes the connection (see conn.handleFrame).
var advertised, maxVersions = func() ([]kmsg.ApiVersionsResponseApiKey, map[int16]int16) {
	var keys []kmsg.ApiVersionsResponseApiKey
	maxV := make(map[int16]int16)
	advertisedVersions().EachMaxKeyVersion(func(k, v int16) {
		keys = append(keys, kmsg.ApiVersionsResponseApiKey{ApiKey: k, MinVersion: 0, MaxVersion: v})
		maxV[k] = v
	})
	return keys, maxV
}()

// isAdvertised reports whether ApiVersions offers key at version.
func isAdvertised(key, version int16) bool {
	maxV, ok := maxVersions[key]
	return ok && version >= 0 && version <= maxV
}

// supported reports whether the emulator serves key at version.
func supported(key, version int16) bool {
	return served[key] && isAdvertised(key, version)
}

// apiVersions answers ApiVersions. A request newer than the broker knows is
// answered at v0 with UNSUPPORTED_VERSION and the supported ranges, which is
// how clients discover they must downgrade.
func apiVersions(version int16) kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	if !supported(kmsg.ApiVersions.Int16(), version) {
		version = 0
		resp.ErrorCode = kerr.UnsupportedVersion.Code
	}
	resp.SetVersion(version)
	resp.ApiKeys = append(resp.ApiKeys, advertised...)
	return resp
}
