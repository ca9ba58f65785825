package auth

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// Names of the environment variables [Env] reads. They are the variables of
// the Alibaba Cloud CLI and SDKs, and the first source [Default] tries.
const (
	EnvAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	EnvAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	EnvSecurityToken   = "ALIBABA_CLOUD_SECURITY_TOKEN"
)

// Provider returns the credential to authenticate a new connection with.
//
// The SDK calls Credential once per connection it opens, from many
// goroutines at once, so implementations must be safe for concurrent use and
// should be cheap: wrap one that fetches over the network in [Caching]. An
// error should name the source that failed and what to set, and must not
// contain the secret or token.
type Provider interface {
	// Credential returns the current credential, or an error that says
	// which source failed. ctx bounds the wait.
	Credential(ctx context.Context) (Credential, error)
}

// ProviderFunc adapts a function to [Provider], for credentials kept
// somewhere this package does not know (a secrets manager, a vault). Wrap it
// in [Caching] if it is slow or not safe for concurrent use.
type ProviderFunc func(ctx context.Context) (Credential, error)

// Credential calls f(ctx).
func (f ProviderFunc) Credential(ctx context.Context) (Credential, error) { return f(ctx) }

// Static returns a Provider that always returns the AccessKey id with its
// secret. Surrounding white space is removed. Its Credential method fails, with
// a message that says what to fix, if the AccessKey is empty or malformed
// (see [Credential.Validate]); it needs no caching.
func Static(id, secret string) Provider {
	return &static{Credential{AccessKeyID: strings.TrimSpace(id), AccessKeySecret: strings.TrimSpace(secret)}}
}

// static is used through a pointer: fmt does not call Format on a value
// held in an unexported field (a Config inside a Producer, say) and would
// print the secret, while with %v, %+v and %#v it prints a nested pointer as
// an address. (A verb that does not fit the field, such as %s on a struct,
// makes fmt print what the pointer points to; no method can prevent that.)
type static struct{ c Credential }

func (s *static) Credential(context.Context) (Credential, error) {
	if p := s.c.problem(plainNames); p != "" {
		return Credential{}, fmt.Errorf("auth: auth.Static: %s", p)
	}
	return s.c, nil
}

// String describes the provider without its secret.
func (s *static) String() string { return "auth.Static(" + maskID(s.c.AccessKeyID) + ")" }

// Format keeps the secret out of every fmt verb, including %+v and %#v.
func (s *static) Format(f fmt.State, verb rune) { formatRedacted(f, verb, s.String(), s.String()) }

// Env returns a Provider that reads the AccessKey from the environment
// variables ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET,
// and, for STS credentials, the token from ALIBABA_CLOUD_SECURITY_TOKEN. The
// variables are read on every call, so a process that updates them rotates
// the key; surrounding white space (a trailing newline from a mounted file)
// is removed. Expiration is not known and stays zero. Env needs no caching.
func Env() Provider { return envProvider{} }

type envProvider struct{}

func (envProvider) Credential(context.Context) (Credential, error) {
	c := Credential{
		AccessKeyID:     strings.TrimSpace(os.Getenv(EnvAccessKeyID)),
		AccessKeySecret: strings.TrimSpace(os.Getenv(EnvAccessKeySecret)),
		SecurityToken:   strings.TrimSpace(os.Getenv(EnvSecurityToken)),
	}
	if c.AccessKeyID == "" && c.AccessKeySecret == "" {
		return Credential{}, fmt.Errorf("auth: environment: %s and %s are not set: set them to an AccessKey (and %s to the token of an STS credential), or use auth.Default to also look in the CLI configuration, credentials files and RAM roles",
			EnvAccessKeyID, EnvAccessKeySecret, EnvSecurityToken)
	}
	if p := c.problem(fieldNames{EnvAccessKeyID, EnvAccessKeySecret, EnvSecurityToken}); p != "" {
		return Credential{}, fmt.Errorf("auth: environment: %s", p)
	}
	return c, nil
}

// String describes the provider.
func (envProvider) String() string { return "auth.Env()" }
