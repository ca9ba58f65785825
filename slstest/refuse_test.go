package slstest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/slskafka/slskafka/slstest"
)

// TestRefuseSecurityTokens checks that Config.RefuseSecurityTokens refuses
// a valid STS key where AuthFailure says, with a reason that names the
// accepted form, while AccessKey pairs keep working.
func TestRefuseSecurityTokens(t *testing.T) {
	for _, tc := range []struct {
		mode slstest.AuthFailure
		want error
	}{
		{slstest.AtProduce, kerr.TopicAuthorizationFailed},
		{slstest.AtSASL, kerr.SaslAuthenticationFailed},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			s := slstest.New(t, slstest.Config{AuthFailure: tc.mode, RefuseSecurityTokens: true})
			s.AddSTSKey("STS.refused", "sts-secret", "sts-token", time.Now().Add(time.Hour))

			sts := franzClient(t, s, s.Project(), "STS.refused#sts-secret#sts-token", kgo.RequestRetries(0))
			err := metadataErr(t, sts, "app")
			if !errors.Is(err, tc.want) {
				t.Fatalf("STS key: err = %v, want %v", err, tc.want)
			}
			if tc.mode == slstest.AtSASL && !strings.Contains(err.Error(), "AccessKey pairs only") {
				t.Errorf("SASL refusal %q does not name the accepted form", err)
			}
			if strings.Contains(err.Error(), "sts-secret") || strings.Contains(err.Error(), "sts-token") {
				t.Errorf("refusal %q shows the secret or token", err)
			}

			ak := franzClient(t, s, s.Project(), password(t, s))
			if err := ak.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: []byte("ak")}).FirstErr(); err != nil {
				t.Fatalf("AccessKey pair: %v", err)
			}
			logs := s.Logs("app")
			if len(logs) != 1 || logs[0].Fields["content"] != "ak" {
				t.Errorf("stored %v, want only the AccessKey pair's record", logs)
			}
			if st := s.Stats(); st.AuthFailures < 1 {
				t.Errorf("Stats.AuthFailures = %d, want the STS login counted", st.AuthFailures)
			}
		})
	}
}

// metadataErr asks for a topic's metadata and returns the error of the
// request or of the topic. Unlike producing, which franz-go retries
// through failed logins until the record times out, it fails at once.
func metadataErr(t *testing.T, cl *kgo.Client, topic string) error {
	t.Helper()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx(t), cl)
	if err != nil {
		return err
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return err
		}
	}
	return nil
}

// TestRefuseCodecs checks that a batch in a refused codec is answered with
// Config.CodecRefusal and not stored, in both storing and Discard mode,
// while other codecs are accepted.
func TestRefuseCodecs(t *testing.T) {
	for _, tc := range []struct {
		refusal slstest.CodecRefusal
		discard bool
		want    error
	}{
		{slstest.UnsupportedCompression, false, kerr.UnsupportedCompressionType},
		{slstest.CorruptMessage, false, kerr.CorruptMessage},
		{slstest.UnsupportedCompression, true, kerr.UnsupportedCompressionType},
	} {
		name := tc.refusal.String()
		if tc.discard {
			name += "/Discard"
		}
		t.Run(name, func(t *testing.T) {
			s := slstest.New(t, slstest.Config{
				RefuseCodecs: []kgo.CompressionCodecType{kgo.CodecLz4, kgo.CodecZstd},
				CodecRefusal: tc.refusal,
				Discard:      tc.discard,
			})
			// Values that compress, so that franz-go keeps the batch
			// compressed rather than sending it plain.
			value := []byte(strings.Repeat("compress me ", 50))
			for _, refused := range []kgo.CompressionCodec{kgo.Lz4Compression(), kgo.ZstdCompression()} {
				cl := franzClient(t, s, s.Project(), password(t, s), kgo.ProducerBatchCompression(refused), kgo.RecordRetries(0))
				err := cl.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Partition: 0, Value: value}).FirstErr()
				if !errors.Is(err, tc.want) {
					t.Errorf("refused codec: err = %v, want %v", err, tc.want)
				}
			}
			if st := s.Stats(); st.Records != 0 {
				t.Fatalf("Stats.Records = %d after refused batches, want 0", st.Records)
			}
			gz := franzClient(t, s, s.Project(), password(t, s), kgo.ProducerBatchCompression(kgo.GzipCompression()))
			if err := gz.ProduceSync(ctx(t), &kgo.Record{Topic: "app", Value: value}).FirstErr(); err != nil {
				t.Fatalf("gzip: %v", err)
			}
			if st := s.Stats(); st.Records != 1 {
				t.Errorf("Stats.Records = %d after one gzip record, want 1", st.Records)
			}
		})
	}
}

// TestRefuseCodecsConfigChecked checks that an unknown codec or refusal is
// an error from Start, not a silently ignored setting.
func TestRefuseCodecsConfigChecked(t *testing.T) {
	for name, cfg := range map[string]slstest.Config{
		"codec":   {RefuseCodecs: []kgo.CompressionCodecType{7}},
		"refusal": {CodecRefusal: 9},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := slstest.Start(cfg)
			if err == nil {
				s.Close()
				t.Fatal("Start accepted an invalid setting")
			}
			if !strings.HasPrefix(err.Error(), "slstest: Config.") {
				t.Errorf("err = %q, want it to name the Config field", err)
			}
		})
	}
}
