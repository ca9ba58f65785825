package auth

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/credentials-go/credentials"
)

func TestDefaultEnv(t *testing.T) {
	isolate(t)
	t.Setenv(EnvAccessKeyID, testID)
	t.Setenv(EnvAccessKeySecret, testSecret)
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Credential(context.Background())
	if want := (Credential{AccessKeyID: testID, AccessKeySecret: testSecret}); err != nil || got != want {
		t.Errorf("Default = %v, %v; want %v", got, err, want)
	}

	t.Setenv(EnvSecurityToken, testToken)
	clk := newFakeClock()
	p, err = newDefault(withClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	got, _ = p.Credential(context.Background())
	if want := (Credential{AccessKeyID: testID, AccessKeySecret: testSecret, SecurityToken: testToken}); got != want {
		t.Errorf("Default with STS env = %v, want %v", got, want)
	}

	// A rotated environment is picked up at the next refresh.
	t.Setenv(EnvAccessKeyID, "LTAI5tRotatedKeyID0002")
	clk.Advance(DefaultRefreshInterval - time.Nanosecond)
	if got, _ := p.Credential(context.Background()); got.AccessKeyID != testID {
		t.Errorf("before the refresh interval: got %v, want the cached %s", got, testID)
	}
	clk.Advance(time.Nanosecond)
	if got, _ := p.Credential(context.Background()); got.AccessKeyID != "LTAI5tRotatedKeyID0002" {
		t.Errorf("after the refresh interval: got %v, want the rotated key", got)
	}
}

func TestDefaultCLIProfile(t *testing.T) {
	home := isolate(t)
	writeFile(t, filepath.Join(home, ".aliyun", "config.json"), `{
	"current": "prod",
	"profiles": [
		{"name": "dev", "mode": "AK", "access_key_id": "LTAI5tDevKeyID00000001", "access_key_secret": "dev-secret"},
		{"name": "prod", "mode": "StsToken", "access_key_id": "STS.ProdKeyID000001", "access_key_secret": "prod-secret", "sts_token": "prod-token"}
	]
}`)
	ctx := context.Background()

	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := p.Credential(ctx)
	if want := (Credential{AccessKeyID: "STS.ProdKeyID000001", AccessKeySecret: "prod-secret", SecurityToken: "prod-token"}); got != want {
		t.Errorf("current CLI profile: got %v, want %v", got, want)
	}

	t.Setenv("ALIBABA_CLOUD_PROFILE", "dev")
	p, err = Default()
	if err != nil {
		t.Fatal(err)
	}
	got, _ = p.Credential(ctx)
	if want := (Credential{AccessKeyID: "LTAI5tDevKeyID00000001", AccessKeySecret: "dev-secret"}); got != want {
		t.Errorf("ALIBABA_CLOUD_PROFILE=dev: got %v, want %v", got, want)
	}

	// Environment variables come first in the chain.
	t.Setenv(EnvAccessKeyID, testID)
	t.Setenv(EnvAccessKeySecret, testSecret)
	p, err = Default()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := p.Credential(ctx); got.AccessKeyID != testID {
		t.Errorf("env and CLI profile: got %v, want the env key %s", got, testID)
	}
}

func TestDefaultCLIConfigFileVariable(t *testing.T) {
	home := isolate(t)
	path := filepath.Join(home, "elsewhere", "cli.json")
	writeFile(t, path, `{"current": "a", "profiles": [{"name": "a", "mode": "AK", "access_key_id": "LTAI5tFromConfigFile01", "access_key_secret": "file-secret"}]}`)
	t.Setenv("ALIBABA_CLOUD_CONFIG_FILE", path)
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := p.Credential(context.Background()); got.AccessKeyID != "LTAI5tFromConfigFile01" {
		t.Errorf("ALIBABA_CLOUD_CONFIG_FILE: got %v", got)
	}
}

func TestDefaultCredentialsFile(t *testing.T) {
	home := isolate(t)
	const ini = "[default]\ntype = access_key\naccess_key_id = LTAI5tFromIniFile00001\naccess_key_secret = ini-secret\n"

	writeFile(t, filepath.Join(home, ".alibabacloud", "credentials"), ini)
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := get(t, p), (Credential{AccessKeyID: "LTAI5tFromIniFile00001", AccessKeySecret: "ini-secret"}); got != want {
		t.Errorf("~/.alibabacloud/credentials: got %v, want %v", got, want)
	}

	path := filepath.Join(t.TempDir(), "creds.ini")
	writeFile(t, path, "[default]\ntype = access_key\naccess_key_id = LTAI5tFromEnvIniFile01\naccess_key_secret = other-secret\n")
	t.Setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", path)
	p, err = Default()
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, p); got.AccessKeyID != "LTAI5tFromEnvIniFile01" {
		t.Errorf("ALIBABA_CLOUD_CREDENTIALS_FILE: got %v", got)
	}
}

func TestDefaultNothingConfigured(t *testing.T) {
	isolate(t)
	p, err := Default()
	if p != nil {
		t.Errorf("Default returned a provider and %v", err)
	}
	checkErr(t, "Default with nothing configured", err,
		"auth: default credential chain found no usable credential: ",
		"ALIBABA_CLOUD_ACCESS_KEY_ID", // what credentials-go tried
		"; to configure one, set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET",
		"aliyun configure", "ALIBABA_CLOUD_CREDENTIALS_FILE", "RAM role", "ALIBABA_CLOUD_CREDENTIALS_URI")
}

func TestDefaultSearchesAgainWhenItsSourceFails(t *testing.T) {
	home := isolate(t)
	t.Setenv(EnvAccessKeyID, testID)
	t.Setenv(EnvAccessKeySecret, testSecret)
	clk := newFakeClock()
	p, err := newDefault(withClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// The environment goes away and nothing else is configured.
	t.Setenv(EnvAccessKeyID, "")
	clk.Advance(DefaultRefreshInterval)
	_, err = p.Credential(ctx)
	checkErr(t, "after the env source went away", err,
		"auth: default credential chain: default/env stopped working and no other source has a credential: ",
		"; fix it or configure another source: set ALIBABA_CLOUD_ACCESS_KEY_ID")

	// A CLI profile appears: the next call finds it.
	writeFile(t, filepath.Join(home, ".aliyun", "config.json"), `{"current": "a", "profiles": [{"name": "a", "mode": "AK", "access_key_id": "LTAI5tLaterProfile0001", "access_key_secret": "later"}]}`)
	if got, err := p.Credential(ctx); err != nil || got.AccessKeyID != "LTAI5tLaterProfile0001" {
		t.Errorf("after a CLI profile appeared: %v, %v", got, err)
	}

	// The CLI profile source answers from now on; when it stops (here: the
	// environment, earlier in the chain, is back and the chain is searched
	// again only on failure), the cached profile is still used.
	t.Setenv(EnvAccessKeyID, testID)
	clk.Advance(DefaultRefreshInterval)
	if got, err := p.Credential(ctx); err != nil || got.AccessKeyID != "LTAI5tLaterProfile0001" {
		t.Errorf("after the env came back: %v, %v; want the CLI profile the chain settled on", got, err)
	}
}

// TestDefaultCredentialsURIRotation runs the default chain against a
// credentials URI that issues STS credentials valid for two seconds: the
// rotated key is returned at the next refresh, and 50 callers arriving
// together cause one request.
func TestDefaultCredentialsURIRotation(t *testing.T) {
	isolate(t)
	srv := newSTSServer(t, 2*time.Second)
	t.Setenv("ALIBABA_CLOUD_CREDENTIALS_URI", srv.URL)
	clk := newFakeClock()
	var joined sync.WaitGroup
	p, err := newDefault(withClock(clk.Now), withJoinHook(joined.Done))
	if err != nil {
		t.Fatal(err)
	}
	first := get(t, p)
	if want := (Credential{AccessKeyID: "STS.key-1", AccessKeySecret: "secret-1", SecurityToken: "token-1"}); first != want {
		t.Fatalf("first credential = %#v, want %#v", first, want)
	}
	if srv.Hits() != 1 {
		t.Fatalf("Default made %d requests, want 1", srv.Hits())
	}
	if got := get(t, p); got != first || srv.Hits() != 1 {
		t.Errorf("second call = %v after %d requests, want the cached credential after 1", got, srv.Hits())
	}

	clk.Advance(DefaultRefreshInterval)
	for i, got := range stampede(t, p, srv, &joined, 50) {
		if want := (Credential{AccessKeyID: "STS.key-2", AccessKeySecret: "secret-2", SecurityToken: "token-2"}); got != want {
			t.Errorf("caller %d got %v, want the rotated %v", i, got, want)
		}
	}
	if srv.Hits() != 2 {
		t.Errorf("50 concurrent callers made %d requests in total, want 2", srv.Hits())
	}
}

// stampede makes n concurrent calls while the server holds requests, waits
// until one request is in the server and the other n-1 callers are waiting
// for it, then lets the request finish. joined must be the cache's join hook.
func stampede(t *testing.T, p Provider, srv *stsServer, joined *sync.WaitGroup, n int) []Credential {
	t.Helper()
	srv.hold()
	joined.Add(n - 1)
	results := make([]Credential, n)
	errs := make([]error, n)
	var done sync.WaitGroup
	for i := range n {
		done.Go(func() { results[i], errs[i] = p.Credential(context.Background()) })
	}
	waitFor(t, "the fetch to reach the server", srv.entered)
	waitFor(t, fmt.Sprintf("%d callers to join the fetch", n-1), wgDone(joined))
	srv.open()
	waitFor(t, "the callers to return", wgDone(&done))
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	return results
}

func TestFromCredentialsGoURI(t *testing.T) {
	isolate(t)
	srv := newSTSServer(t, 2*time.Second)
	c, err := credentials.NewCredential(new(credentials.Config).SetType("credentials_uri").SetURLCredential(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	var joined sync.WaitGroup
	p := FromCredentialsGo(c, withClock(clk.Now), withJoinHook(joined.Done), RefreshInterval(10*time.Second))
	if srv.Hits() != 0 {
		t.Errorf("FromCredentialsGo made %d requests before being asked", srv.Hits())
	}

	for i, got := range stampede(t, p, srv, &joined, 50) {
		if got.AccessKeyID != "STS.key-1" || got.SecurityToken != "token-1" {
			t.Errorf("caller %d got %v, want STS.key-1", i, got)
		}
	}
	if srv.Hits() != 1 {
		t.Errorf("50 concurrent callers made %d requests, want 1", srv.Hits())
	}

	clk.Advance(10*time.Second - time.Nanosecond)
	if got := get(t, p); got.AccessKeyID != "STS.key-1" {
		t.Errorf("before RefreshInterval: got %v, want STS.key-1", got)
	}
	clk.Advance(time.Nanosecond)
	if got := get(t, p); got.AccessKeyID != "STS.key-2" || got.AccessKeySecret != "secret-2" {
		t.Errorf("after RefreshInterval: got %v, want STS.key-2", got)
	}
	if got := fmt.Sprint(p); got != "auth.FromCredentialsGo(credentials_uri)" {
		t.Errorf("provider prints as %q", got)
	}
}

// TestFromCredentialsGoURILongLived shows why re-reading credentials-go every
// RefreshInterval is cheap: it keeps an STS credential until 3 minutes before
// it expires.
func TestFromCredentialsGoURILongLived(t *testing.T) {
	isolate(t)
	srv := newSTSServer(t, time.Hour)
	c, err := credentials.NewCredential(new(credentials.Config).SetType("credentials_uri").SetURLCredential(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	p := FromCredentialsGo(c, withClock(clk.Now))
	for range 3 {
		if got := get(t, p); got.AccessKeyID != "STS.key-1" {
			t.Errorf("got %v, want STS.key-1", got)
		}
		clk.Advance(DefaultRefreshInterval)
	}
	if srv.Hits() != 1 {
		t.Errorf("made %d requests, want 1", srv.Hits())
	}
}

func TestFromCredentialsGoStatic(t *testing.T) {
	isolate(t)
	ctx := context.Background()

	ak, err := credentials.NewCredential(new(credentials.Config).SetType("access_key").SetAccessKeyId(testID).SetAccessKeySecret(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := get(t, FromCredentialsGo(ak)), (Credential{AccessKeyID: testID, AccessKeySecret: testSecret}); got != want {
		t.Errorf("access_key: got %v, want %v", got, want)
	}

	sts, err := credentials.NewCredential(new(credentials.Config).SetType("sts").SetAccessKeyId("STS.abcdef").SetAccessKeySecret(testSecret).SetSecurityToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := get(t, FromCredentialsGo(sts)), (Credential{AccessKeyID: "STS.abcdef", AccessKeySecret: testSecret, SecurityToken: testToken}); got != want {
		t.Errorf("sts: got %v, want %v", got, want)
	}

	bearer, err := credentials.NewCredential(new(credentials.Config).SetType("bearer").SetBearerToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	_, err = FromCredentialsGo(bearer).Credential(ctx)
	checkErr(t, "bearer", err, "auth: credentials-go bearer credential: ", "bearer token, which SLS does not accept")
	mustNotContain(t, "bearer error", fmt.Sprint(err), testToken)

	bad, err := credentials.NewCredential(new(credentials.Config).SetType("access_key").SetAccessKeyId(testID).SetAccessKeySecret(testSecret + "#"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = FromCredentialsGo(bad).Credential(ctx)
	checkErr(t, "secret with #", err, "auth: credentials-go access_key credential: static_ak gave an invalid credential: the AccessKey secret contains \"#\"")
	mustNotContain(t, "invalid credential error", fmt.Sprint(err), testSecret)
}

func TestCredentialsGoErrorsHideSecrets(t *testing.T) {
	const secret, token = "Sup3rSecretFromServer", "TokenFromServer0000"
	body := `{"AccessKeyId": "STS.x", "AccessKeySecret": "` + secret + `", "SecurityToken":"` + token + `"}`

	t.Run("uri incomplete", func(t *testing.T) {
		isolate(t)
		srv := newSTSServer(t, time.Hour)
		srv.setOverride(func(w http.ResponseWriter) bool {
			w.Write([]byte(body)) // no Expiration: credentials-go quotes the body
			return true
		})
		t.Setenv("ALIBABA_CLOUD_CREDENTIALS_URI", srv.URL+"/creds?token="+token)
		_, err := Default()
		checkErr(t, "Default", err, "auth: default credential chain found no usable credential: ", "refresh credentials from", `"AccessKeySecret": [redacted]`)
		mustNotContain(t, "Default error", fmt.Sprint(err), secret, token)

		c, err := credentials.NewCredential(new(credentials.Config).SetType("credentials_uri").SetURLCredential(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		_, err = FromCredentialsGo(c).Credential(context.Background())
		checkErr(t, "FromCredentialsGo", err, "auth: credentials-go credentials_uri credential: ", "; check its configuration")
		mustNotContain(t, "FromCredentialsGo error", fmt.Sprint(err), secret, token)
	})

	t.Run("uri status", func(t *testing.T) {
		isolate(t)
		srv := newSTSServer(t, time.Hour)
		srv.setOverride(func(w http.ResponseWriter) bool {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(body))
			return true
		})
		t.Setenv("ALIBABA_CLOUD_CREDENTIALS_URI", srv.URL)
		_, err := Default()
		checkErr(t, "Default", err, "get credentials from GET "+srv.URL)
		mustNotContain(t, "Default error", fmt.Sprint(err), secret, token)
	})

	t.Run("cli config", func(t *testing.T) {
		home := isolate(t)
		writeFile(t, filepath.Join(home, ".aliyun", "config.json"),
			`{"current": "a", "profiles": [{"name": "a", "mode": "AK", "access_key_id": "LTAI5tx", "access_key_secret": "`+secret+`",}]}`)
		_, err := Default()
		checkErr(t, "Default", err, "unmarshal aliyun cli config from", "[file content not shown]")
		mustNotContain(t, "Default error", fmt.Sprint(err), secret)
	})

	t.Run("credentials file", func(t *testing.T) {
		home := isolate(t)
		writeFile(t, filepath.Join(home, ".alibabacloud", "credentials"), "[default\naccess_key_secret = "+secret+"\n")
		_, err := Default()
		checkErr(t, "Default", err, "unclosed section: [line not shown]")
		mustNotContain(t, "Default error", fmt.Sprint(err), secret)
	})
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		`no secrets here: the security token is empty`:                                               `no secrets here: the security token is empty`,
		`failed: {"AccessKeySecret":"abc","SecurityToken" : "d\"ef"}`:                                `failed: {"AccessKeySecret":[redacted],"SecurityToken" : [redacted]}`,
		`GET http://x/?sts_token=abc&x=1 failed`:                                                     `GET http://x/?sts_token=[redacted]&x=1 failed`,
		`access_key_secret = abc`:                                                                    `access_key_secret = [redacted]`,
		`"oauth_refresh_token":"r", "password": "p"`:                                                 `"oauth_refresh_token":[redacted], "password": [redacted]`,
		"unmarshal aliyun cli config from '/h/c.json' failed: {\n\"x\"}":                             "unmarshal aliyun cli config from '/h/c.json' failed: [file content not shown]",
		`get credentials from GET http://user:PassW0rd@169.254.0.1/creds failed`:                     `get credentials from GET http://user:[redacted]@169.254.0.1/creds failed`,
		`?Signature=abcDEF&x=1`:                                                                      `?Signature=[redacted]&x=1`,
		"failed to execute external command: exit status 1\nstderr: cannot use key LTAIx / S3cr3t\n": "failed to execute external command: exit status 1\nstderr: [not shown]",
		`<AccessKeySecret>S3cr3t</AccessKeySecret><SecurityToken>t0k</SecurityToken>`:                `<AccessKeySecret>[redacted]</AccessKeySecret><SecurityToken>[redacted]</SecurityToken>`,
		`"AccessKeySecret": 'S3cr3t', x`:                                                             `"AccessKeySecret": [redacted], x`,
	} {
		if got := redact(fmt.Errorf("%s", in)).Error(); got != want {
			t.Errorf("redact(%s) = %s, want %s", in, got, want)
		}
	}
}

// get returns p's credential or ends the test.
func get(t *testing.T, p Provider) Credential {
	t.Helper()
	c, err := p.Credential(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}
