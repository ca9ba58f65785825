package producer

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
)

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want endpoint.Endpoint
		err  []string
		not  []string // what the error must not name
	}{
		{"sls endpoint", map[string]string{EnvProject: "demo", EnvEndpoint: "https://cn-hangzhou.log.aliyuncs.com"}, endpoint.Endpoint{Host: "demo.cn-hangzhou.log.aliyuncs.com", Port: 10012}, nil, nil},
		{"intranet endpoint", map[string]string{EnvProject: "demo", EnvEndpoint: "cn-hangzhou-intranet.log.aliyuncs.com"}, endpoint.Endpoint{Host: "demo.cn-hangzhou-intranet.log.aliyuncs.com", Port: 10011}, nil, nil},
		{"literal", map[string]string{EnvProject: "demo", EnvEndpoint: "127.0.0.1:9093"}, endpoint.Endpoint{Host: "127.0.0.1", Port: 9093}, nil, nil},
		{"region", map[string]string{EnvProject: "demo", EnvRegion: "cn-beijing"}, endpoint.Endpoint{Host: "demo.cn-beijing.log.aliyuncs.com", Port: 10012}, nil, nil},
		{"region intranet", map[string]string{EnvProject: "demo", EnvRegion: "cn-beijing", EnvNetwork: "Intranet"}, endpoint.Endpoint{Host: "demo.cn-beijing-intranet.log.aliyuncs.com", Port: 10011}, nil, nil},
		{"nothing", map[string]string{}, endpoint.Endpoint{}, []string{EnvProject}, nil},
		{"no endpoint", map[string]string{EnvProject: "demo"}, endpoint.Endpoint{}, []string{EnvEndpoint, EnvRegion}, nil},
		{"bad network", map[string]string{EnvProject: "demo", EnvRegion: "cn-beijing", EnvNetwork: "vpc"}, endpoint.Endpoint{}, []string{EnvNetwork}, nil},
		{"region name", map[string]string{EnvProject: "demo", EnvRegion: "China (Hangzhou)"}, endpoint.Endpoint{}, []string{EnvRegion, `use the id of that region, "cn-hangzhou"`}, nil},
		{"bad project", map[string]string{EnvProject: "My Project", EnvRegion: "cn-beijing"}, endpoint.Endpoint{}, []string{EnvProject + ": endpoint: invalid project name"}, []string{EnvRegion}},
		{"mistyped domain", map[string]string{EnvProject: "demo", EnvEndpoint: "cn-hangzhou.log.aliyuncs.con"}, endpoint.Endpoint{}, []string{EnvEndpoint, "did you mean cn-hangzhou.log.aliyuncs.com?"}, nil},
		// Each bad variable is reported under its own name.
		{"underscore in project", map[string]string{EnvProject: "my_project", EnvEndpoint: "cn-hangzhou.log.aliyuncs.com"}, endpoint.Endpoint{}, []string{EnvProject + ": endpoint: invalid project name \"my_project\""}, []string{EnvEndpoint, projectProbe}},
		{"bad project and bad endpoint", map[string]string{EnvProject: "my_project", EnvEndpoint: "cn-hangzhou.log.aliyuncs.con"}, endpoint.Endpoint{}, []string{EnvProject + ": endpoint: invalid project name", EnvEndpoint + ": endpoint: ", "did you mean cn-hangzhou.log.aliyuncs.com?"}, []string{projectProbe}},
		{"bad project and bad region", map[string]string{EnvProject: "my_project", EnvRegion: "China (Hangzhou)"}, endpoint.Endpoint{}, []string{EnvProject + ": endpoint: invalid project name", EnvRegion + ": "}, []string{projectProbe}},
		{"bad project, endpoint of that project", map[string]string{EnvProject: "my_project", EnvEndpoint: "my_project.cn-hangzhou.log.aliyuncs.com"}, endpoint.Endpoint{}, []string{EnvProject + ": endpoint: invalid project name"}, []string{projectProbe}},
		{"nothing set names both", map[string]string{}, endpoint.Endpoint{}, []string{EnvProject + " is not set", EnvEndpoint, EnvRegion}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked := false
			creds := func() (auth.Provider, error) {
				asked = true
				return auth.Static("LTAIid", "secret"), nil
			}
			cfg, err := configFromEnv(context.Background(), func(k string) string { return tc.env[k] }, creds)
			if w := cfg.Endpoint.Warning(); w != "" {
				t.Errorf("warning: %q", w)
			}
			if len(tc.err) > 0 {
				if err == nil {
					t.Fatalf("no error, want one naming %v", tc.err)
				}
				for _, s := range tc.err {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not name %s", err, s)
					}
				}
				for _, s := range tc.not {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error %q names %s", err, s)
					}
				}
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error %q does not wrap ErrInvalid", err)
				}
				// Nothing to authenticate to: the credential chain (whose
				// last source is the ECS metadata service) is not asked.
				if asked {
					t.Error("the credential chain was consulted although the project or endpoint is invalid")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Endpoint != tc.want || cfg.Project != "demo" || cfg.Credentials == nil || !asked {
				t.Errorf("cfg = %+v, want endpoint %v and credentials", cfg, tc.want)
			}
		})
	}
}

// With no credential anywhere, the error starts with the line that fixes it
// and keeps what the chain said after it; it wraps ErrAuth and the chain's
// error.
func TestConfigFromEnvCredentialError(t *testing.T) {
	chainErr := errors.New("auth: default credential chain found no usable credential: the enviroment variable ALIBABA_CLOUD_ACCESS_KEY_ID is empty")
	base := map[string]string{EnvProject: "demo", EnvRegion: "cn-beijing"}
	for _, tc := range []struct {
		name  string
		env   map[string]string
		first string // the error's first line
	}{
		{"nothing set", nil, "producer: no credential found: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or ALIBABA_CLOUD_ECS_METADATA_DISABLED=true off Alibaba Cloud (laptop, CI, another cloud) so that the chain does not wait for the ECS metadata service"},
		{"metadata already off", map[string]string{"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "TRUE"}, "producer: no credential found: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET"},
		{"id without secret", map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIid"}, "producer: no credential found: ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not: set both"},
	} {
		env := maps.Clone(base)
		maps.Copy(env, tc.env)
		_, err := configFromEnv(context.Background(), func(k string) string { return env[k] },
			func() (auth.Provider, error) { return nil, chainErr })
		if err == nil {
			t.Fatalf("%s: no error", tc.name)
		}
		first, rest, _ := strings.Cut(err.Error(), "\n")
		if first != tc.first {
			t.Errorf("%s: first line\n%s\nwant\n%s", tc.name, first, tc.first)
		}
		if rest != "detail: "+chainErr.Error() {
			t.Errorf("%s: after the first line %q, want the chain's error", tc.name, rest)
		}
		if !errors.Is(err, ErrAuth) || !errors.Is(err, chainErr) {
			t.Errorf("%s: error does not wrap ErrAuth and the chain's error", tc.name)
		}
	}
}

// ConfigFromEnvContext returns when its context ends, however long the
// credential chain takes (here: until the test lets it go).
func TestConfigFromEnvContextBoundsTheChain(t *testing.T) {
	release := make(chan struct{})
	finished := make(chan struct{})
	creds := func() (auth.Provider, error) {
		defer close(finished)
		<-release // as the ECS metadata lookup, seconds off Alibaba Cloud
		return auth.Static("LTAIid", "secret"), nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := configFromEnv(ctx, func(k string) string { return map[string]string{EnvProject: "demo", EnvRegion: "cn-beijing"}[k] }, creds)
	close(release)
	<-finished
	if !errors.Is(err, ErrAuth) || !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want one wrapping ErrAuth and context.Canceled", err)
	}
	if first, _, _ := strings.Cut(err.Error(), "\n"); !strings.Contains(first, "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true") {
		t.Errorf("first line %q does not say how to skip the ECS metadata service", first)
	}
}

// The real chain, with nothing configured and the ECS metadata service
// skipped (so nothing leaves the machine): the first line is the fix, the
// chain's own words follow.
func TestConfigFromEnvContextNoCredentials(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home) // no CLI profile, no credentials file
	for _, k := range []string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
		"ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
		"ALIBABA_CLOUD_CONFIG_FILE", "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_CREDENTIALS_FILE",
		"ALIBABA_CLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_ECS_METADATA",
	} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	t.Setenv(EnvProject, "demo")
	t.Setenv(EnvEndpoint, "127.0.0.1:9093")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // bounds a hang only
	defer cancel()
	_, err := ConfigFromEnvContext(ctx)
	if err == nil {
		t.Fatal("a credential was found in an empty environment")
	}
	first, rest, _ := strings.Cut(err.Error(), "\n")
	if want := "producer: no credential found: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET"; first != want {
		t.Errorf("first line %q, want %q", first, want)
	}
	if !strings.HasPrefix(rest, "detail: auth: ") {
		t.Errorf("detail %q, want the chain's error", rest)
	}
	if !errors.Is(err, ErrAuth) {
		t.Errorf("error %v does not wrap ErrAuth", err)
	}
}

// A region this SDK does not know is accepted, with one warning (which New
// logs) naming the closest known region.
func TestConfigFromEnvUnknownRegion(t *testing.T) {
	for _, env := range []map[string]string{
		{EnvProject: "demo", EnvRegion: "cn-hangzou"},
		{EnvProject: "demo", EnvEndpoint: "cn-hangzou-intranet.log.aliyuncs.com"},
	} {
		cfg, err := configFromEnv(context.Background(), func(k string) string { return env[k] },
			func() (auth.Provider, error) { return auth.Static("LTAIid", "secret"), nil })
		if err != nil {
			t.Fatalf("%v: %v", env, err)
		}
		if !strings.Contains(cfg.Endpoint.Host, "cn-hangzou.") && !strings.Contains(cfg.Endpoint.Host, "cn-hangzou-intranet.") {
			t.Errorf("%v: endpoint %v is not in the region asked for", env, cfg.Endpoint)
		}
		if w := cfg.Endpoint.Warning(); !strings.Contains(w, `did you mean "cn-hangzhou"?`) {
			t.Errorf("%v: warning = %q, want one naming cn-hangzhou", env, w)
		}
		var buf strings.Builder // New logs from its own goroutine
		cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
		p, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		p.Close(context.Background())
		if !strings.Contains(buf.String(), `did you mean \"cn-hangzhou\"?`) {
			t.Errorf("%v: New logged %q, want the region warning", env, buf.String())
		}
	}
}

func TestConfigFromEnvContextNil(t *testing.T) {
	//lint:ignore SA1012 a nil context is what this tests
	_, err := ConfigFromEnvContext(nil) //nolint:staticcheck
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("ConfigFromEnvContext(nil) = %v, want ErrInvalid", err)
	}
}
