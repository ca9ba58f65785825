// Package auth supplies the Alibaba Cloud credentials the SDK signs in to
// the SLS Kafka endpoint with.
//
// A [Credential] is an AccessKey pair, or an STS credential (AccessKey pair,
// security token and, when known, its expiration). Its
// [Credential.Password] is the SASL PLAIN password. A Credential does not
// print its secret or token through fmt, slog or encoding/json (see
// [Credential] for two corners of fmt to avoid).
//
// A [Provider] returns the credential for the next connection. The SDK asks
// for one every time it opens a connection, so a rotated key is used from
// the next connection on. Pick the provider that matches where the key
// lives:
//
//	auth.Static(id, secret)           // a fixed AccessKey, e.g. from your own config
//	auth.Env()                        // ALIBABA_CLOUD_ACCESS_KEY_ID, _SECRET, _SECURITY_TOKEN
//	auth.Default()                    // the Alibaba Cloud default chain: env, RRSA/OIDC,
//	                                  // CLI profile, credentials file, ECS RAM role, URI
//	auth.FromCredentialsGo(c)         // any github.com/aliyun/credentials-go credential,
//	                                  // e.g. a RAM role ARN that is assumed and renewed
//	auth.Caching(p)                   // single-flight caching for a Provider of your own
//
// The shortest correct use, which works on a laptop with `aliyun configure`
// done, in a container with the environment variables set, and on ECS or
// ACK with a RAM role:
//
//	creds, err := auth.Default()
//	if err != nil {
//		log.Fatal(err) // says which sources were tried and what to set
//	}
//	cfg := producer.Config{Project: "my-project", Endpoint: ep, Credentials: creds}
//
// All providers are safe for concurrent use. Those that fetch (Default,
// FromCredentialsGo, Caching) make one fetch however many connections ask at
// once, reuse the result until it is due for refresh, and replace a
// credential before its Expiration. github.com/aliyun/credentials-go does not
// report when its credentials expire, so for its sources Expiration stays zero
// and the credential is re-read every minute instead ([RefreshInterval]);
// credentials-go renews STS credentials itself 3 minutes before they expire.
//
// Errors say which source failed and what to set, and never contain a secret
// or token: what credentials-go quotes in its errors (response bodies,
// configuration files, URLs with a password) is redacted. credentials-go
// itself may still print secrets to stdout in two cases this package cannot
// intercept: a CLI profile in External mode whose command prints unparsable
// output, and the environment variable DEBUG=credential.
package auth
