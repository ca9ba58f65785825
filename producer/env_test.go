package producer

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
)

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want endpoint.Endpoint
		err  []string
	}{
		{"sls endpoint", map[string]string{EnvProject: "demo", EnvEndpoint: "https://cn-hangzhou.log.aliyuncs.com"}, endpoint.Endpoint{Host: "demo.cn-hangzhou.log.aliyuncs.com", Port: 10012}, nil},
		{"intranet endpoint", map[string]string{EnvProject: "demo", EnvEndpoint: "cn-hangzhou-intranet.log.aliyuncs.com"}, endpoint.Endpoint{Host: "demo.cn-hangzhou-intranet.log.aliyuncs.com", Port: 10011}, nil},
		{"literal", map[string]string{EnvProject: "demo", EnvEndpoint: "127.0.0.1:9093"}, endpoint.Endpoint{Host: "127.0.0.1", Port: 9093}, nil},
		{"region", map[string]string{EnvProject: "demo", EnvRegion: "cn-beijing"}, endpoint.Endpoint{Host: "demo.cn-beijing.log.aliyuncs.com", Port: 10012}, nil},
		{"region intranet", map[string]string{EnvProject: "demo", EnvRegion: "cn-beijing", EnvNetwork: "Intranet"}, endpoint.Endpoint{Host: "demo.cn-beijing-intranet.log.aliyuncs.com", Port: 10011}, nil},
		{"nothing", map[string]string{}, endpoint.Endpoint{}, []string{EnvProject}},
		{"no endpoint", map[string]string{EnvProject: "demo"}, endpoint.Endpoint{}, []string{EnvEndpoint, EnvRegion}},
		{"bad network", map[string]string{EnvProject: "demo", EnvRegion: "cn-beijing", EnvNetwork: "vpc"}, endpoint.Endpoint{}, []string{EnvNetwork}},
		{"region name", map[string]string{EnvProject: "demo", EnvRegion: "China (Hangzhou)"}, endpoint.Endpoint{}, []string{EnvRegion, `use the id of that region, "cn-hangzhou"`}},
		{"bad project", map[string]string{EnvProject: "My Project", EnvRegion: "cn-beijing"}, endpoint.Endpoint{}, []string{EnvRegion, "invalid project name"}},
		{"mistyped domain", map[string]string{EnvProject: "demo", EnvEndpoint: "cn-hangzhou.log.aliyuncs.con"}, endpoint.Endpoint{}, []string{EnvEndpoint, "did you mean cn-hangzhou.log.aliyuncs.com?"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked := false
			creds := func() (auth.Provider, error) {
				asked = true
				return auth.Static("LTAIid", "secret"), nil
			}
			cfg, err := configFromEnv(func(k string) string { return tc.env[k] }, creds)
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

// A credential error is reported as auth words it, with one prefix.
func TestConfigFromEnvCredentialError(t *testing.T) {
	_, err := configFromEnv(func(k string) string { return map[string]string{EnvProject: "demo", EnvRegion: "cn-beijing"}[k] },
		func() (auth.Provider, error) { return nil, errors.New("auth: no credentials found") })
	if err == nil || err.Error() != "auth: no credentials found" {
		t.Errorf("credential error = %v, want auth's error as it is", err)
	}
}

// A region this SDK does not know is accepted, with one warning (which New
// logs) naming the closest known region.
func TestConfigFromEnvUnknownRegion(t *testing.T) {
	for _, env := range []map[string]string{
		{EnvProject: "demo", EnvRegion: "cn-hangzou"},
		{EnvProject: "demo", EnvEndpoint: "cn-hangzou-intranet.log.aliyuncs.com"},
	} {
		cfg, err := configFromEnv(func(k string) string { return env[k] },
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
