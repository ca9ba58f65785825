package producer

import (
	"errors"
	"strings"
	"testing"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
)

func TestConfigFromEnv(t *testing.T) {
	okCreds := func() (auth.Provider, error) { return auth.Static("LTAIid", "secret"), nil }
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := configFromEnv(func(k string) string { return tc.env[k] }, okCreds)
			if len(tc.err) > 0 {
				if err == nil {
					t.Fatalf("no error, want one naming %v", tc.err)
				}
				for _, s := range tc.err {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not name %s", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Endpoint != tc.want || cfg.Project != "demo" || cfg.Credentials == nil {
				t.Errorf("cfg = %+v, want endpoint %v", cfg, tc.want)
			}
		})
	}
	_, err := configFromEnv(func(k string) string { return map[string]string{EnvProject: "demo", EnvRegion: "cn-beijing"}[k] },
		func() (auth.Provider, error) { return nil, errors.New("auth: no credentials found") })
	if err == nil || !strings.Contains(err.Error(), "no credentials") {
		t.Errorf("credential error not reported: %v", err)
	}
}
