package slstest

import (
	"crypto/subtle"
	"strings"
	"sync"
	"time"
)

// key is one AccessKey the emulator accepts. STS keys carry a token and an
// expiry; static keys have neither.
type key struct {
	secret  string
	token   string // non-empty for STS keys
	expires time.Time
	revoked bool
}

// identity is what a connection authenticated as. It is re-checked on every
// produce request so that revocation and expiry take effect on connections
// that are already open, as they do on SLS.
type identity struct {
	id    string
	token string
	// otherProject is set when the SASL username named a project other
	// than the emulator's: the key is valid, the project does not exist.
	otherProject bool
}

// resolve maps a Kafka topic to its logstore and storage form as this
// connection sees it: a connection that authenticated for a project the
// emulator does not serve finds no logstore.
func (c *conn) resolve(topic string) (name string, expand, ok bool) {
	if c.id.otherProject {
		return "", false, false
	}
	return c.s.store.resolve(topic)
}

// keyring is the emulator's AccessKey table.
type keyring struct {
	mu   sync.Mutex
	keys map[string]*key
	now  func() time.Time
}

func (k *keyring) add(id, secret, token string, expires time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys[id] = &key{secret: secret, token: token, expires: expires}
}

func (k *keyring) revoke(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if kk, ok := k.keys[id]; ok {
		kk.revoked = true
	}
}

// authFailure is why a credential was refused. Its text is sent to clients,
// so it names the rule and never echoes the secret or token.
type authFailure string

func (f authFailure) Error() string { return string(f) }

const (
	failMalformed  authFailure = "password must be <AccessKeyId>#<AccessKeySecret> or <AccessKeyId>#<AccessKeySecret>#<SecurityToken>"
	failUnknownKey authFailure = "AccessKey is invalid: unknown AccessKeyId or wrong AccessKeySecret"
	failRevoked    authFailure = "AccessKey has been disabled or deleted"
	failExpired    authFailure = "STS security token has expired"
	failToken      authFailure = "STS security token is invalid for this AccessKeyId"
	failNeedsToken authFailure = "AccessKeyId belongs to an STS credential: send <AccessKeyId>#<AccessKeySecret>#<SecurityToken>"
	// failTokenRefused is Config.RefuseSecurityTokens: the endpoint takes
	// the documented AccessKey pair only.
	failTokenRefused authFailure = "this endpoint accepts AccessKey pairs only (<AccessKeyId>#<AccessKeySecret>): a password carrying an STS security token is refused"
)

// authenticate checks a SASL PLAIN password of the SLS form.
func (k *keyring) authenticate(password string) (identity, error) {
	parts := strings.SplitN(password, "#", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return identity{}, failMalformed
	}
	id := identity{id: parts[0]}
	if len(parts) == 3 {
		id.token = parts[2]
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	kk, ok := k.keys[id.id]
	if !ok || subtle.ConstantTimeCompare([]byte(kk.secret), []byte(parts[1])) != 1 {
		return identity{}, failUnknownKey
	}
	switch {
	case kk.token == "" && id.token != "":
		return identity{}, failToken
	case kk.token != "" && id.token == "":
		return identity{}, failNeedsToken
	case kk.token != "" && subtle.ConstantTimeCompare([]byte(kk.token), []byte(id.token)) != 1:
		return identity{}, failToken
	}
	return id, k.validLocked(kk)
}

// valid reports whether an authenticated identity may still write.
func (k *keyring) valid(id identity) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	kk, ok := k.keys[id.id]
	if !ok || kk.token != id.token {
		return failUnknownKey
	}
	return k.validLocked(kk)
}

func (k *keyring) validLocked(kk *key) error {
	if kk.revoked {
		return failRevoked
	}
	if !kk.expires.IsZero() && !k.now().Before(kk.expires) {
		return failExpired
	}
	return nil
}
