package conformance

// Tests of the kit itself: they add no row to the table.

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/slskafka/slskafka/slstest"
)

// TestKitTriesOtherSTSFormsWhenRefused runs the STS row against an
// emulator that takes AccessKey pairs only, as SLS might: the row reports
// the refusal and that no other form of the credential was accepted, and
// fails the SDK's need.
func TestKitTriesOtherSTSFormsWhenRefused(t *testing.T) {
	for _, mode := range []slstest.AuthFailure{slstest.AtProduce, slstest.AtSASL} {
		t.Run(mode.String(), func(t *testing.T) {
			refusing, err := startEmulator(func(c *slstest.Config) { c.RefuseSecurityTokens, c.AuthFailure = true, mode })
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(refusing.close)
			want := map[slstest.AuthFailure]string{
				slstest.AtProduce: "refused after SASL: TOPIC_AUTHORIZATION_FAILED → ErrAuth (the error says SLS documents AccessKey pairs only); other forms: none accepted",
				slstest.AtSASL:    "refused at SASL: SASL_AUTHENTICATION_FAILED → ErrAuth (the error says SLS documents AccessKey pairs only); other forms: none accepted",
			}[mode]
			got, meets := observeSTS(t, refusing)
			if got != want || meets {
				t.Errorf("observeSTS = %q, %v; want %q, false", got, meets, want)
			}
		})
	}
}

// TestKitNamesWhatIsMissing checks that SLS_CONFORMANCE=1 without the
// settings of a real project is an error that lists all of them, and
// that settings which cannot work are refused before anything is sent.
func TestKitNamesWhatIsMissing(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing set", nil, []string{
			"SLS_PROJECT", "SLS_ENDPOINT or SLS_REGION", "SLS_LOGSTORE",
			"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "SLS_CONFORMANCE_ROLE_ARN",
		}},
		{"an STS credential instead of an AccessKey", map[string]string{"ALIBABA_CLOUD_SECURITY_TOKEN": "t"}, []string{
			"ALIBABA_CLOUD_SECURITY_TOKEN is set", "RAM user's AccessKey pair",
		}},
		{"a literal endpoint", map[string]string{
			"SLS_PROJECT": "demo", "SLS_ENDPOINT": "10.0.0.1:10012", "SLS_LOGSTORE": "app",
			"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIx", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s", "SLS_CONFORMANCE_ROLE_ARN": "acs:ram::1:role/r",
		}, []string{"not an SLS endpoint", "set SLS_REGION instead"}},
		{"a bad logstore name", map[string]string{
			"SLS_PROJECT": "demo", "SLS_REGION": "cn-hangzhou", "SLS_LOGSTORE": "App Logs",
			"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIx", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s", "SLS_CONFORMANCE_ROLE_ARN": "acs:ram::1:role/r",
		}, []string{"SLS_LOGSTORE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := realTarget(func(k string) string { return tc.env[k] })
			if err == nil {
				got.close()
				t.Fatal("realTarget accepted the environment")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestKitEndpoints checks the endpoints a real run derives: the project's
// as producer.ConfigFromEnv builds it, another project's, and the
// project's in another region of the same network.
func TestKitEndpoints(t *testing.T) {
	for _, tc := range []struct {
		env                      map[string]string
		want, other, wrongRegion string
	}{
		{map[string]string{"SLS_ENDPOINT": "cn-hangzhou.log.aliyuncs.com"},
			"demo.cn-hangzhou.log.aliyuncs.com:10012", "other.cn-hangzhou.log.aliyuncs.com:10012", "demo.cn-shanghai.log.aliyuncs.com:10012"},
		{map[string]string{"SLS_ENDPOINT": "https://cn-beijing-intranet.log.aliyuncs.com"},
			"demo.cn-beijing-intranet.log.aliyuncs.com:10011", "other.cn-beijing-intranet.log.aliyuncs.com:10011", "demo.cn-hangzhou-intranet.log.aliyuncs.com:10011"},
		{map[string]string{"SLS_REGION": "cn-shanghai", "SLS_NETWORK": "intranet"},
			"demo.cn-shanghai-intranet.log.aliyuncs.com:10011", "other.cn-shanghai-intranet.log.aliyuncs.com:10011", "demo.cn-hangzhou-intranet.log.aliyuncs.com:10011"},
	} {
		tg := &target{project: "demo"}
		if err := tg.endpoints(func(k string) string { return tc.env[k] }); err != nil {
			t.Fatalf("%v: %v", tc.env, err)
		}
		other, err := tg.endpointFor("other")
		if err != nil {
			t.Fatal(err)
		}
		if tg.ep.String() != tc.want || other.String() != tc.other || tg.otherRegion.String() != tc.wrongRegion {
			t.Errorf("%v: endpoint %s, other project %s, other region %s; want %s, %s, %s",
				tc.env, tg.ep, other, tg.otherRegion, tc.want, tc.other, tc.wrongRegion)
		}
	}
}

// TestKitFailsAtOnceWithoutSettings runs this test binary as a user would
// run the kit against a real project with nothing configured: it must
// fail before any test runs, naming what is missing, and never pass.
func TestKitFailsAtOnceWithoutSettings(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=TestAccessKeyPassword", "-test.v")
	cmd.Env = []string{"SLS_CONFORMANCE=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("the run ended with %v, want a failure; output:\n%s", err, out)
	}
	for _, w := range []string{"SLS_PROJECT", "SLS_CONFORMANCE_ROLE_ARN", "FAIL"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("output does not say %q:\n%s", w, out)
		}
	}
	if strings.Contains(string(out), "=== RUN") {
		t.Errorf("a test ran before the settings were checked:\n%s", out)
	}
}

// TestKitDefaultCodecOnGzipOnlySLS runs the default codec's row against
// an emulator that, like an SLS that takes only what its documents show,
// refuses LZ4, snappy and zstd: the default delivers, and the row says
// that gzip carried the record after the switch.
func TestKitDefaultCodecOnGzipOnlySLS(t *testing.T) {
	for _, refusal := range []slstest.CodecRefusal{slstest.UnsupportedCompression, slstest.CorruptMessage} {
		t.Run(refusal.String(), func(t *testing.T) {
			gzipOnly, err := startEmulator(func(c *slstest.Config) {
				c.RefuseCodecs = []kgo.CompressionCodecType{kgo.CodecLz4, kgo.CodecSnappy, kgo.CodecZstd}
				c.CodecRefusal = refusal
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(gzipOnly.close)
			const want = "accepted, read back, sent as gzip (SLS refused lz4: the producer switched)"
			if got, meets := observeDefaultCodec(t, gzipOnly); got != want || !meets {
				t.Errorf("observeDefaultCodec = %q, %v; want %q, true", got, meets, want)
			}
		})
	}
}
