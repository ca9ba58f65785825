package producer

import (
	"context"
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
// or invalid, and wraps ErrInvalid.
//
// The project and endpoint are checked first, and the credential chain
// (auth.Default) is consulted only when both are valid: off Alibaba Cloud,
// with nothing else configured, its last source sends plaintext HTTP
// requests to the ECS metadata address 100.100.100.200, through HTTP_PROXY
// if one is set, and gives up after about 4 s. Set
// ALIBABA_CLOUD_ECS_METADATA_DISABLED=true where there is no ECS metadata
// service, and NO_PROXY=100.100.100.200 where a proxy is set on ECS; use
// ConfigFromEnvContext to bound the wait. When no credential is found, the
// error (which wraps ErrAuth) starts with the line that fixes it and keeps
// what each source of the chain said after it.
//
// An endpoint in a region this SDK does not know, such as a mistyped
// SLS_REGION=cn-hangzou, is accepted (new regions open); New logs a warning
// naming the closest known region (see endpoint.Endpoint.Warning).
func ConfigFromEnv() (Config, error) {
	return configFromEnv(context.Background(), os.Getenv, auth.Default)
}

// ConfigFromEnvContext is ConfigFromEnv with a context that bounds the wait
// for the credential chain: when ctx ends first, it returns an error that
// wraps ErrAuth and ctx's error. The chain's lookup then finishes in the
// background, within credentials-go's own timeouts, and its result is
// discarded.
func ConfigFromEnvContext(ctx context.Context) (Config, error) {
	if ctx == nil {
		return Config{}, invalid(errors.New("producer: ConfigFromEnvContext with a nil context"))
	}
	return configFromEnv(ctx, os.Getenv, auth.Default)
}

// projectProbe stands in for an invalid project while the endpoint is
// checked, so that a bad project and a bad endpoint are both reported, each
// under its own variable.
const projectProbe = "project-probe"

func configFromEnv(ctx context.Context, getenv func(string) string, creds func() (auth.Provider, error)) (Config, error) {
	var cfg Config
	var errs []error
	cfg.Project = strings.TrimSpace(getenv(EnvProject))
	project := cfg.Project
	switch err := endpoint.ValidateProject(project); {
	case project == "":
		errs = append(errs, fmt.Errorf("%s is not set: name the SLS project", EnvProject))
		project = projectProbe
	case err != nil:
		errs = append(errs, fmt.Errorf("%s: %w", EnvProject, err))
		project = projectProbe
	}
	cfg.CAFile = strings.TrimSpace(getenv(EnvCAFile))

	// Each endpoint error below is reported unless it is about the probe
	// (an SLS endpoint that names the real, invalid project).
	endpointErr := func(name string, err error) {
		if err != nil && (project != projectProbe || !strings.Contains(err.Error(), projectProbe)) {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	ep, region := strings.TrimSpace(getenv(EnvEndpoint)), strings.TrimSpace(getenv(EnvRegion))
	switch {
	case ep != "":
		e, err := endpointFromEnv(project, ep)
		endpointErr(EnvEndpoint, err)
		cfg.Endpoint = e
	case region != "":
		var n endpoint.Network
		if v := strings.TrimSpace(getenv(EnvNetwork)); v != "" {
			if err := n.UnmarshalText([]byte(strings.ToLower(v))); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", EnvNetwork, err))
			}
		}
		e, err := endpoint.For(project, region, n)
		endpointErr(EnvRegion, err)
		cfg.Endpoint = e
	default:
		errs = append(errs, fmt.Errorf("neither %s nor %s is set: set %s=cn-hangzhou.log.aliyuncs.com (your project's region) or %s=cn-hangzhou", EnvEndpoint, EnvRegion, EnvEndpoint, EnvRegion))
	}
	if project == projectProbe {
		cfg.Endpoint = endpoint.Endpoint{}
	}
	if len(errs) > 0 {
		return cfg, invalid(fmt.Errorf("producer: config from environment: %w", errors.Join(errs...)))
	}

	type result struct {
		p   auth.Provider
		err error
	}
	done := make(chan result, 1) // the lookup may outlive ctx; it must not block
	go func() {
		p, err := creds()
		done <- result{p, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return cfg, &credentialsError{
			fix: fmt.Sprintf("producer: no credential from the Alibaba Cloud credential chain before the context ended: %s", credentialsFix(getenv)),
			err: context.Cause(ctx),
		}
	}
	if r.err != nil {
		return cfg, &credentialsError{fix: "producer: no credential found: " + credentialsFix(getenv), err: r.err}
	}
	cfg.Credentials = r.p
	return cfg, nil
}

// credentialsFix is the one line that fixes a credential chain that found
// nothing, for the environment it looked at.
func credentialsFix(getenv func(string) string) string {
	const id, secret = "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	const noECS = "ALIBABA_CLOUD_ECS_METADATA_DISABLED"
	hasID, hasSecret := getenv(id) != "", getenv(secret) != ""
	switch {
	case hasID && !hasSecret:
		return fmt.Sprintf("%s is set but %s is not: set both", id, secret)
	case hasSecret && !hasID:
		return fmt.Sprintf("%s is set but %s is not: set both", secret, id)
	case hasID && hasSecret:
		return fmt.Sprintf("%s and %s are set but were not accepted: check them (details below)", id, secret)
	}
	fix := fmt.Sprintf("set %s and %s", id, secret)
	if !strings.EqualFold(strings.TrimSpace(getenv(noECS)), "true") {
		// The chain's last source then is the ECS metadata service,
		// which takes seconds to fail where there is none.
		fix += fmt.Sprintf(", or %s=true off Alibaba Cloud (laptop, CI, another cloud) so that the chain does not wait for the ECS metadata service", noECS)
	}
	return fix
}

// credentialsError is a credential chain failure of ConfigFromEnv: the line
// that fixes it, then what the chain said.
type credentialsError struct {
	fix string
	err error
}

func (e *credentialsError) Error() string {
	return e.fix + "\ndetail: " + e.err.Error()
}

// Is makes errors.Is(err, ErrAuth) true: no credential could be obtained.
func (e *credentialsError) Is(target error) bool { return target == ErrAuth }

func (e *credentialsError) Unwrap() error { return e.err }

// endpointFromEnv accepts an SLS endpoint or, for hosts that are not SLS
// endpoints (an emulator, a private link), a literal host:port.
func endpointFromEnv(project, v string) (endpoint.Endpoint, error) {
	if strings.Contains(strings.ToLower(v), "aliyuncs.com") {
		return endpoint.FromSLS(project, v)
	}
	return endpoint.Parse(v)
}
