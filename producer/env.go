package producer

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
)

// Environment variables read by ConfigFromEnv. Credentials come from the
// Alibaba Cloud default chain (auth.Default): ALIBABA_CLOUD_ACCESS_KEY_ID,
// ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN, RRSA/OIDC,
// the CLI profile, the credentials file, the ECS RAM role.
const (
	// EnvProject names the SLS project (required).
	EnvProject = "SLS_PROJECT"
	// EnvEndpoint is the SLS endpoint of the project's region, such as
	// "cn-hangzhou.log.aliyuncs.com" or "cn-hangzhou-intranet.log.aliyuncs.com"
	// (http:// or https:// allowed), or a literal Kafka "host:port".
	EnvEndpoint = "SLS_ENDPOINT"
	// EnvRegion is the region id, such as "cn-hangzhou", used when
	// SLS_ENDPOINT is not set.
	EnvRegion = "SLS_REGION"
	// EnvNetwork is "public" (default) or "intranet", used with SLS_REGION.
	EnvNetwork = "SLS_NETWORK"
	// EnvCAFile optionally names a PEM bundle that replaces the system
	// CA bundle. Leave it unset for SLS, whose roots rotate (see
	// Config.TLS): never name a file of one GlobalSign root.
	EnvCAFile = "SLS_CA_FILE"
)

// ConfigFromEnv returns a Config for the project, endpoint and credentials
// named by the environment (see the Env constants); callers may adjust the
// other fields before New. The error lists every variable that is missing
// or invalid.
//
// The project and endpoint are checked first, and the credential chain
// (auth.Default) is consulted only when both are valid: off Alibaba Cloud,
// with nothing else configured, its last source sends plaintext HTTP
// requests to the ECS metadata address 100.100.100.200, through HTTP_PROXY
// if one is set. Set ALIBABA_CLOUD_ECS_METADATA_DISABLED=true where there is
// no ECS metadata service, and NO_PROXY=100.100.100.200 where a proxy is set
// on ECS.
//
// An endpoint in a region this SDK does not know, such as a mistyped
// SLS_REGION=cn-hangzou, is accepted (new regions open); New logs a warning
// naming the closest known region (see endpoint.Endpoint.Warning).
func ConfigFromEnv() (Config, error) {
	return configFromEnv(os.Getenv, auth.Default)
}

func configFromEnv(getenv func(string) string, creds func() (auth.Provider, error)) (Config, error) {
	var cfg Config
	var errs []error
	cfg.Project = strings.TrimSpace(getenv(EnvProject))
	if cfg.Project == "" {
		errs = append(errs, fmt.Errorf("%s is not set: name the SLS project", EnvProject))
	}
	cfg.CAFile = strings.TrimSpace(getenv(EnvCAFile))

	ep, region := strings.TrimSpace(getenv(EnvEndpoint)), strings.TrimSpace(getenv(EnvRegion))
	switch {
	case cfg.Project == "":
	case ep != "":
		e, err := endpointFromEnv(cfg.Project, ep)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvEndpoint, err))
		}
		cfg.Endpoint = e
	case region != "":
		var n endpoint.Network
		if v := strings.TrimSpace(getenv(EnvNetwork)); v != "" {
			if err := n.UnmarshalText([]byte(strings.ToLower(v))); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", EnvNetwork, err))
			}
		}
		e, err := endpoint.For(cfg.Project, region, n)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvRegion, err))
		}
		cfg.Endpoint = e
	default:
		errs = append(errs, fmt.Errorf("neither %s nor %s is set: set %s=cn-hangzhou.log.aliyuncs.com (your project's region) or %s=cn-hangzhou", EnvEndpoint, EnvRegion, EnvEndpoint, EnvRegion))
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("producer: config from environment: %w", errors.Join(errs...))
	}
	p, err := creds()
	if err != nil {
		return cfg, err // auth's, which says what to set
	}
	cfg.Credentials = p
	return cfg, nil
}

// endpointFromEnv accepts an SLS endpoint or, for hosts that are not SLS
// endpoints (an emulator, a private link), a literal host:port.
func endpointFromEnv(project, v string) (endpoint.Endpoint, error) {
	if strings.Contains(strings.ToLower(v), "aliyuncs.com") {
		return endpoint.FromSLS(project, v)
	}
	return endpoint.Parse(v)
}
