package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/aliyun/credentials-go/credentials"
)

// defaultHint lists what the default chain looks at, in its order.
const defaultHint = "set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET " +
	"(plus ALIBABA_CLOUD_SECURITY_TOKEN for STS); " +
	"or ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE for RRSA/OIDC; " +
	"or run `aliyun configure` (~/.aliyun/config.json, ALIBABA_CLOUD_CONFIG_FILE, ALIBABA_CLOUD_PROFILE); " +
	"or write ~/.alibabacloud/credentials (ALIBABA_CLOUD_CREDENTIALS_FILE); " +
	"or attach a RAM role to the ECS instance; " +
	"or set ALIBABA_CLOUD_CREDENTIALS_URI"

// Default returns a Provider backed by the default credential chain of
// github.com/aliyun/credentials-go, which takes the first of these that is
// configured:
//
//  1. environment variables ALIBABA_CLOUD_ACCESS_KEY_ID,
//     ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN;
//  2. OIDC role (RRSA on ACK): ALIBABA_CLOUD_ROLE_ARN,
//     ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE;
//  3. the Alibaba Cloud CLI profile in ~/.aliyun/config.json
//     (ALIBABA_CLOUD_CONFIG_FILE, ALIBABA_CLOUD_PROFILE);
//  4. the credentials file ~/.alibabacloud/credentials
//     (ALIBABA_CLOUD_CREDENTIALS_FILE);
//  5. the RAM role of the ECS instance, from the metadata service
//     (ALIBABA_CLOUD_ECS_METADATA names the role;
//     ALIBABA_CLOUD_ECS_METADATA_DISABLED=true skips it);
//  6. the URL in ALIBABA_CLOUD_CREDENTIALS_URI.
//
// Default fetches a credential before it returns, so a missing or broken
// configuration fails at start-up with an error that says what to set.
//
// The ECS metadata service (source 5) is asked over plaintext HTTP at
// http://100.100.100.200, through the proxy in HTTP_PROXY if one is set.
// Where there is no such service (off Alibaba Cloud: a laptop, CI, another
// cloud), a chain that gets that far makes requests that take seconds to
// fail and go to whatever answers that address or the proxy: set
// ALIBABA_CLOUD_ECS_METADATA_DISABLED=true there. On ECS behind a proxy, set
// NO_PROXY=100.100.100.200 so that the role's credential is fetched directly
// rather than through the proxy.
//
// The Provider caches as [FromCredentialsGo] describes: credentials-go does
// not report expiry, so the credential is re-read from the chain every
// [DefaultRefreshInterval] and Expiration stays zero. When the source that
// answered last fails, the chain is searched again from the top, so a source
// configured later (or a rotated environment) is found.
func Default() (Provider, error) { return newDefault() }

// newDefault is Default with options, for tests.
func newDefault(opts ...CacheOption) (Provider, error) {
	p := newCache(&chainSource{}, "auth.Default()", opts)
	if _, err := p.Credential(context.Background()); err != nil {
		return nil, err
	}
	return p, nil
}

// FromCredentialsGo adapts any credentials-go Credential (RAM role ARN, ECS
// RAM role, OIDC role, credentials URI, CLI profile, static AccessKey or STS)
// to a Provider, calling its GetCredential method:
//
//	c, err := credentials.NewCredential(new(credentials.Config).
//		SetType("ram_role_arn").
//		SetAccessKeyId(id).SetAccessKeySecret(secret).
//		SetRoleArn("acs:ram::123456789012:role/sls-writer").
//		SetRoleSessionName("my-service"))
//	if err != nil { ... }
//	creds := auth.FromCredentialsGo(c)
//
// The Provider is wrapped in [Caching], because credentials-go providers are
// not all safe for concurrent use and some go over the network. credentials-go
// (v1.4) does not say when a credential expires, so Expiration stays zero and
// the credential is re-read every [RefreshInterval] (default 1 minute). That
// is cheap: credentials-go keeps STS credentials itself and renews them when
// less than 3 minutes remain, so a credential this Provider returns is
// normally valid for 2 more minutes at least.
//
// Credentials-go errors are returned with anything that looks like a secret
// or token removed. A bearer-token credential is rejected: SLS needs an
// AccessKey.
func FromCredentialsGo(c credentials.Credential, opts ...CacheOption) Provider {
	if c == nil {
		return ProviderFunc(func(context.Context) (Credential, error) {
			return Credential{}, errors.New("auth: FromCredentialsGo was given a nil credentials.Credential: build one with credentials.NewCredential")
		})
	}
	typ := deref(c.GetType())
	return newCache(&credentialsGoSource{c: c, typ: typ}, "auth.FromCredentialsGo("+typ+")", opts)
}

// credentialsGoSource reads one credentials-go Credential. Only the cache's
// fetch goroutine calls it, one call at a time.
type credentialsGoSource struct {
	c   credentials.Credential
	typ string
}

func (s *credentialsGoSource) Credential(context.Context) (Credential, error) {
	cred, _, err := readCredentialsGo(s.c)
	if err != nil {
		return Credential{}, fmt.Errorf("auth: credentials-go %s credential: %w; check its configuration", s.typ, err)
	}
	return cred, nil
}

// chainSource reads the credentials-go default chain. Only the cache's fetch
// goroutine calls it, one call at a time.
type chainSource struct {
	c    credentials.Credential // nil until built, and after a failure
	last string                 // provider name of the last success, e.g. "default/env"
}

func (s *chainSource) Credential(context.Context) (Credential, error) {
	reused := s.c != nil
	cred, name, err := s.read()
	if err != nil && reused {
		// The chain keeps asking the source that answered last, even after
		// it fails. Start over once, so that another configured source is
		// found.
		s.c = nil
		cred, name, err = s.read()
	}
	if err != nil {
		s.c = nil
		if s.last != "" {
			return Credential{}, fmt.Errorf("auth: default credential chain: %s stopped working and no other source has a credential: %w; fix it or configure another source: %s", s.last, err, defaultHint)
		}
		return Credential{}, fmt.Errorf("auth: default credential chain found no usable credential: %w; to configure one, %s", err, defaultHint)
	}
	s.last = name
	return cred, nil
}

// read asks the chain, building it first if needed.
func (s *chainSource) read() (Credential, string, error) {
	if s.c == nil {
		c, err := credentials.NewCredential(nil)
		if err != nil {
			return Credential{}, "", redact(err)
		}
		s.c = c
	}
	return readCredentialsGo(s.c)
}

// readCredentialsGo calls c.GetCredential and converts its result. It
// returns the credentials-go provider name ("default/env") for messages.
func readCredentialsGo(c credentials.Credential) (Credential, string, error) {
	m, err := c.GetCredential()
	if err != nil {
		return Credential{}, "", redact(err)
	}
	if m == nil {
		return Credential{}, "", errors.New("credentials-go returned no credential and no error")
	}
	name := deref(m.ProviderName)
	if name == "" {
		name = deref(m.Type)
	}
	cred := Credential{
		AccessKeyID:     deref(m.AccessKeyId),
		AccessKeySecret: deref(m.AccessKeySecret),
		SecurityToken:   deref(m.SecurityToken),
	}
	if cred.AccessKeyID == "" && deref(m.BearerToken) != "" {
		return Credential{}, name, fmt.Errorf("%s gave a bearer token, which SLS does not accept: configure an AccessKey, STS token or RAM role instead", name)
	}
	if p := cred.problem(plainNames); p != "" {
		return Credential{}, name, fmt.Errorf("%s gave an invalid credential: %s", name, p)
	}
	return cred, name, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

var (
	// cliConfigDump matches the credentials-go error that quotes a whole
	// CLI configuration file it could not parse.
	cliConfigDump = regexp.MustCompile(`(?s)(unmarshal aliyun cli config from '[^']*' failed:).*`)
	// iniLineDump matches the errors of gopkg.in/ini.v1 that quote a line
	// of a credentials file.
	iniLineDump = regexp.MustCompile(`((?:key-value delimiter not found|unclosed section): ).*`)
	// externalStderr matches what an external credential command printed
	// to stderr, which credentials-go quotes whole and which can be
	// anything, the secret included.
	externalStderr = regexp.MustCompile(`(?s)(\nstderr: ).*`)
	// urlPassword matches the password of a URL's user info
	// (scheme://user:password@host), as url.URL.Redacted would hide it.
	urlPassword = regexp.MustCompile(`(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@`)
	// secretField matches "key": "value", key=value and key: value pairs
	// whose key names a secret, a token or a password, as they appear in
	// the HTTP bodies, URLs and files credentials-go quotes in its errors.
	secretField = regexp.MustCompile(`(?i)("?[a-z0-9_-]*(?:secret|token|password|signature)[a-z0-9_-]*"?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s"',;&}]+)`)
	// secretElement matches the text of XML elements named the same way
	// (STS and ECS metadata answer in XML too).
	secretElement = regexp.MustCompile(`(?i)(<[a-z0-9_:-]*(?:secret|token|password|signature)[a-z0-9_-]*>)[^<]*`)
)

// redact returns err with secrets removed from its message. credentials-go
// quotes response bodies and configuration files in its errors, which can
// hold the very secret that failed. If nothing needs removing, err is
// returned as it is.
func redact(err error) error {
	msg := err.Error()
	clean := cliConfigDump.ReplaceAllString(msg, "$1 [file content not shown]")
	clean = iniLineDump.ReplaceAllString(clean, "${1}[line not shown]")
	clean = externalStderr.ReplaceAllString(clean, "${1}[not shown]")
	clean = urlPassword.ReplaceAllString(clean, "${1}"+redacted+"@")
	clean = secretField.ReplaceAllString(clean, "${1}"+redacted)
	clean = secretElement.ReplaceAllString(clean, "${1}"+redacted)
	if clean == msg {
		return err
	}
	return errors.New(clean)
}
