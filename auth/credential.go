package auth

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode"
)

// redacted replaces a secret wherever a Credential is printed.
const redacted = "[redacted]"

// Credential is an Alibaba Cloud AccessKey pair, or an STS credential: an
// AccessKey pair that comes with a security token and expires.
//
// A Credential never prints its secret or token: String, GoString, Format
// (every verb, %+v and %#v included), LogValue and MarshalJSON replace them
// with "[redacted]" and shorten the AccessKey ID, so a Credential held in an
// exported field of a struct that gets logged does not leak either. Only
// [Credential.Password] returns the secret.
//
// fmt prints without calling any method in two cases, so avoid them: a
// Credential in an unexported struct field, and a wrong verb (%p on a
// Credential, or %s on a struct that holds a pointer to a struct holding a
// Credential), which fmt reports by printing the raw value.
type Credential struct {
	// AccessKeyID identifies the key. IDs of RAM users' AccessKeys start
	// with "LTAI", IDs of STS credentials with "STS.".
	AccessKeyID string
	// AccessKeySecret is the secret that belongs to AccessKeyID.
	AccessKeySecret string
	// SecurityToken is the token of an STS credential, empty for a
	// long-lived AccessKey.
	SecurityToken string
	// Expiration is when an STS credential stops working, if the source says
	// so. It is zero for a long-lived AccessKey and for sources that do not
	// report expiry, which include Env and every credentials-go source (see
	// FromCredentialsGo). Callers that hold a connection open use it to
	// re-dial before it passes.
	Expiration time.Time
}

// Password returns the SASL PLAIN password for the SLS Kafka endpoint:
// "<AccessKeyID>#<AccessKeySecret>" for an AccessKey, and
// "<AccessKeyID>#<AccessKeySecret>#<SecurityToken>" for an STS credential.
//
// SLS documents only the first form. The second is this SDK's convention for
// STS credentials, and this method is the one place that builds it.
func (c Credential) Password() string {
	if c.SecurityToken != "" {
		return c.AccessKeyID + "#" + c.AccessKeySecret + "#" + c.SecurityToken
	}
	return c.AccessKeyID + "#" + c.AccessKeySecret
}

// Validate reports whether c can be sent to SLS: the AccessKey ID and secret
// are set, nothing has white space or "#" in it (the separator of
// [Credential.Password]), and an STS AccessKey ID (starting with "STS.") comes with its
// security token. It does not check Expiration, and it never puts the secret
// or token in its error.
func (c Credential) Validate() error {
	if p := c.problem(plainNames); p != "" {
		return fmt.Errorf("auth: invalid credential: %s", p)
	}
	return nil
}

// fieldNames says how a source calls the three parts of a credential, so
// that errors name what the user has to fix ("ALIBABA_CLOUD_ACCESS_KEY_ID").
type fieldNames struct{ id, secret, token string }

// plainNames names the fields for sources without names of their own.
var plainNames = fieldNames{"the AccessKey ID", "the AccessKey secret", "the security token"}

// problem returns what is wrong with c, or "".
func (c Credential) problem(n fieldNames) string {
	switch {
	case c.AccessKeyID == "" && c.AccessKeySecret == "":
		return fmt.Sprintf("%s and %s are empty: set an AccessKey of a RAM user or role that may write to the project", n.id, n.secret)
	case c.AccessKeyID == "":
		return fmt.Sprintf("%s is empty: set the ID that belongs to the secret", n.id)
	case c.AccessKeySecret == "":
		return fmt.Sprintf("%s is empty (AccessKey ID %s): set the secret that belongs to the ID", n.secret, maskID(c.AccessKeyID))
	}
	for _, f := range []struct {
		name, v string
		token   bool // a token may hold '#': it is the last part of the password
	}{{n.id, c.AccessKeyID, false}, {n.secret, c.AccessKeySecret, false}, {n.token, c.SecurityToken, true}} {
		if strings.ContainsFunc(f.v, unicode.IsSpace) {
			return fmt.Sprintf("%s contains white space, which Alibaba Cloud credentials never do: check for a line break or space copied along with it", f.name)
		}
		if !f.token && strings.Contains(f.v, "#") {
			return fmt.Sprintf("%s contains \"#\", which AccessKeys never do and which separates the parts of the SLS password: check that the right value was copied", f.name)
		}
	}
	if strings.HasPrefix(c.AccessKeyID, "STS.") && c.SecurityToken == "" {
		return fmt.Sprintf("%s %s is an STS AccessKey, but %s is empty: set the security token that was issued with it", n.id, maskID(c.AccessKeyID), n.token)
	}
	return ""
}

// maskID shortens an AccessKey ID to its first and last few characters,
// enough to tell keys apart in logs without printing a value that might be a
// secret pasted into the wrong field.
func maskID(id string) string {
	if id == "" {
		return ""
	}
	k := min(4, len(id)/3)
	return id[:k] + "***" + id[len(id)-k:]
}

func hide(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// String returns c with the secret and token replaced by "[redacted]" and the
// AccessKey ID shortened, for logs:
//
//	{AccessKeyID:LTAI***wxyz AccessKeySecret:[redacted]}
//	{AccessKeyID:STS.***2mRj AccessKeySecret:[redacted] SecurityToken:[redacted] Expiration:2025-01-02T03:04:05Z}
func (c Credential) String() string {
	var b strings.Builder
	b.WriteString("{AccessKeyID:")
	b.WriteString(maskID(c.AccessKeyID))
	b.WriteString(" AccessKeySecret:")
	b.WriteString(hide(c.AccessKeySecret))
	if c.SecurityToken != "" {
		b.WriteString(" SecurityToken:" + redacted)
	}
	if !c.Expiration.IsZero() {
		b.WriteString(" Expiration:")
		b.WriteString(c.Expiration.Format(time.RFC3339))
	}
	b.WriteString("}")
	return b.String()
}

// GoString returns c as a Go composite literal for %#v, with the secret and
// token replaced by "[redacted]" and the AccessKey ID shortened.
func (c Credential) GoString() string {
	return fmt.Sprintf("auth.Credential{AccessKeyID:%q, AccessKeySecret:%q, SecurityToken:%q, Expiration:%#v}",
		maskID(c.AccessKeyID), hide(c.AccessKeySecret), hide(c.SecurityToken), c.Expiration)
}

// Format implements [fmt.Formatter] so that every verb and flag prints the
// redacted form: %#v prints [Credential.GoString], any other verb formats
// [Credential.String] as a string (so %q quotes it and %x hex-encodes it).
func (c Credential) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String(), c.GoString()) }

// formatRedacted prints s, or gs for %#v, honouring width, precision and
// flags.
func formatRedacted(f fmt.State, verb rune, s, gs string) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, gs)
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), s)
}

// LogValue implements [slog.LogValuer]: c is logged as a group with the
// shortened AccessKey ID, the secret and token as "[redacted]", and the
// expiration when known.
func (c Credential) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("access_key_id", maskID(c.AccessKeyID)),
		slog.String("access_key_secret", hide(c.AccessKeySecret)),
	}
	if c.SecurityToken != "" {
		attrs = append(attrs, slog.String("security_token", redacted))
	}
	if !c.Expiration.IsZero() {
		attrs = append(attrs, slog.Time("expiration", c.Expiration))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes the redacted form, so that loggers which encode values
// as JSON by reflection (zap.Any, for one) do not leak the secret. A
// Credential therefore does not round-trip through JSON.
func (c Credential) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		AccessKeyID     string
		AccessKeySecret string
		SecurityToken   string    `json:",omitempty"`
		Expiration      time.Time `json:",omitzero"`
	}{maskID(c.AccessKeyID), hide(c.AccessKeySecret), hide(c.SecurityToken), c.Expiration})
}
