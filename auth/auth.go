package auth

import (
	"context"
	"time"
)

// Credential is an Alibaba Cloud AccessKey, optionally with an STS token.
type Credential struct {
	AccessKeyID, AccessKeySecret, SecurityToken string
	Expiration                                  time.Time
}

// Password returns the SASL PLAIN password SLS expects.
func (c Credential) Password() string {
	if c.SecurityToken != "" {
		return c.AccessKeyID + "#" + c.AccessKeySecret + "#" + c.SecurityToken
	}
	return c.AccessKeyID + "#" + c.AccessKeySecret
}

// Provider returns the current credential.
type Provider interface {
	Credential(ctx context.Context) (Credential, error)
}

type static Credential

func (s static) Credential(context.Context) (Credential, error) { return Credential(s), nil }

// Static returns a Provider that always returns the given AccessKey.
func Static(id, secret string) Provider { return static{AccessKeyID: id, AccessKeySecret: secret} }
