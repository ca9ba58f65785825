package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestPassword(t *testing.T) {
	ak := Credential{AccessKeyID: "LTAI5tExampleKeyID", AccessKeySecret: "s3cr3t"}
	if got, want := ak.Password(), "LTAI5tExampleKeyID#s3cr3t"; got != want {
		t.Errorf("AccessKey Password() = %q, want %q", got, want)
	}
	sts := Credential{AccessKeyID: "STS.NUexample", AccessKeySecret: "s3cr3t", SecurityToken: "CAIS+tok/en=="}
	if got, want := sts.Password(), "STS.NUexample#s3cr3t#CAIS+tok/en=="; got != want {
		t.Errorf("STS Password() = %q, want %q", got, want)
	}
}

const (
	testID     = "LTAI5tExampleKeyID0001"
	testSecret = "S3cretValueThatMustNotLeak"
	testToken  = "CAIS-TokenThatMustNotLeak/+=="
)

func TestCredentialNeverPrintsSecrets(t *testing.T) {
	c := Credential{
		AccessKeyID:     testID,
		AccessKeySecret: testSecret,
		SecurityToken:   testToken,
		Expiration:      time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	type config struct {
		Name  string
		Cred  Credential
		Ptr   *Credential
		Creds []Credential
		Map   map[string]Credential
		Arr   [1]Credential
		Any   any
		P     Provider
	}
	cached := Caching(ProviderFunc(func(context.Context) (Credential, error) { return c, nil }))
	if _, err := cached.Credential(context.Background()); err != nil {
		t.Fatal(err)
	}
	values := map[string]any{
		"value":          c,
		"pointer":        &c,
		"slice":          []Credential{c},
		"map":            map[Credential]Credential{c: c},
		"struct":         config{Name: "x", Cred: c, Ptr: &c, Creds: []Credential{c}, Map: map[string]Credential{"k": c}, Arr: [1]Credential{c}, Any: c, P: Static(testID, testSecret)},
		"struct pointer": &config{Cred: c, Ptr: &c, P: cached},
		"static":         Static(testID, testSecret),
		"cached":         cached,
		"nested pointer": &struct{ Inner *config }{&config{Cred: c}},
		// fmt does not call Format on values in unexported fields, as in
		// a Config kept inside a Producer: providers must not print there.
		"unexported static": struct{ p Provider }{Static(testID, testSecret)},
		"unexported cached": &struct{ p Provider }{cached},
	}
	// fmt skips all methods when it reports a wrong verb, and %s, %q, %t,
	// %e and %U are wrong for a pointer to a struct without methods, such
	// as Inner above; %p is wrong for any non-pointer. Nothing a Credential
	// does can change that, so those combinations are not tested.
	verbs := []string{"%v", "%+v", "%#v", "%x", "%X", "%d", "%T", "%60v", "%+#v", "% x", "%08d"}
	stringVerbs := []string{"%s", "%q", "%#q", "%-60.20s", "%t", "%e", "%U"}
	for name, v := range values {
		vs := verbs
		if name != "nested pointer" && !strings.HasPrefix(name, "unexported") {
			vs = append(vs, stringVerbs...)
		}
		for _, verb := range vs {
			mustNotContain(t, name+" "+verb, fmt.Sprintf(verb, v), testSecret, testToken, testID)
		}
		mustNotContain(t, name+" Sprint", fmt.Sprint(v), testSecret, testToken, testID)
		mustNotContain(t, name+" Sprintln", fmt.Sprintln(v, v), testSecret, testToken, testID)
		mustNotContain(t, name+" Errorf", fmt.Errorf("wrapped %v: %w", v, errors.New("x")).Error(), testSecret, testToken, testID)

		var buf bytes.Buffer
		log.New(&buf, "", 0).Printf("%+v", v)
		mustNotContain(t, name+" log", buf.String(), testSecret, testToken, testID)

		buf.Reset()
		slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "v", v, slog.Group("g", "v", v))
		mustNotContain(t, name+" slog text", buf.String(), testSecret, testToken, testID)
		buf.Reset()
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "v", v, slog.Group("g", "v", v))
		mustNotContain(t, name+" slog JSON", buf.String(), testSecret, testToken, testID)

		if b, err := json.Marshal(v); err == nil {
			mustNotContain(t, name+" json", string(b), testSecret, testToken, testID)
		}
	}

	// The redacted forms still say what the credential is.
	if got, want := c.String(), "{AccessKeyID:LTAI***0001 AccessKeySecret:[redacted] SecurityToken:[redacted] Expiration:2030-01-02T03:04:05Z}"; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if got, want := fmt.Sprintf("%#v", c), `auth.Credential{AccessKeyID:"LTAI***0001", AccessKeySecret:"[redacted]", SecurityToken:"[redacted]", Expiration:time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)}`; got != want {
		t.Errorf("%%#v = %s, want %s", got, want)
	}
	if got, want := fmt.Sprintf("%q", c), `"`+c.String()+`"`; got != want {
		t.Errorf("%%q = %s, want %s", got, want)
	}
	ak := Credential{AccessKeyID: testID, AccessKeySecret: testSecret}
	if got, want := fmt.Sprintf("%+v", struct{ C Credential }{ak}), "{C:{AccessKeyID:LTAI***0001 AccessKeySecret:[redacted]}}"; got != want {
		t.Errorf("%%+v in struct = %s, want %s", got, want)
	}
	if got, want := fmt.Sprintf("%v", Credential{}), "{AccessKeyID: AccessKeySecret:}"; got != want {
		t.Errorf("empty credential = %s, want %s", got, want)
	}
	b, _ := json.Marshal(ak)
	if got, want := string(b), `{"AccessKeyID":"LTAI***0001","AccessKeySecret":"[redacted]"}`; got != want {
		t.Errorf("json = %s, want %s", got, want)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})).Info("dial", "cred", c)
	if got, want := buf.String(), "level=INFO msg=dial cred.access_key_id=LTAI***0001 cred.access_key_secret=[redacted] cred.security_token=[redacted] cred.expiration=2030-01-02T03:04:05.000Z\n"; got != want {
		t.Errorf("slog = %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(Static(testID, testSecret)), "auth.Static(LTAI***0001)"; got != want {
		t.Errorf("Static printed as %s, want %s", got, want)
	}
}

func TestMaskID(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"a":                      "***",
		"abcdef":                 "ab***ef",
		"LTAI5tExampleKeyID0001": "LTAI***0001",
		"STS.NUgYrLnoC37mZZCNnA": "STS.***CNnA",
	} {
		if got := maskID(in); got != want {
			t.Errorf("maskID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidate(t *testing.T) {
	valid := []Credential{
		{AccessKeyID: testID, AccessKeySecret: testSecret},
		{AccessKeyID: "STS.abc", AccessKeySecret: testSecret, SecurityToken: testToken},
		{AccessKeyID: testID, AccessKeySecret: testSecret, SecurityToken: testToken},
	}
	for _, c := range valid {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%v): %v", c, err)
		}
	}
	for _, tt := range []struct {
		c    Credential
		want string
	}{
		{Credential{}, "the AccessKey ID and the AccessKey secret are empty: set an AccessKey"},
		{Credential{AccessKeySecret: testSecret}, "the AccessKey ID is empty: set the ID that belongs to the secret"},
		{Credential{AccessKeyID: testID}, "the AccessKey secret is empty (AccessKey ID LTAI***0001): set the secret that belongs to the ID"},
		{Credential{AccessKeyID: testID + "\n", AccessKeySecret: testSecret}, "the AccessKey ID contains white space"},
		{Credential{AccessKeyID: testID, AccessKeySecret: testSecret + " "}, "the AccessKey secret contains white space"},
		{Credential{AccessKeyID: testID, AccessKeySecret: testSecret, SecurityToken: "a\tb" + testToken}, "the security token contains white space"},
		{Credential{AccessKeyID: testID + "#x", AccessKeySecret: testSecret}, `the AccessKey ID contains "#"`},
		{Credential{AccessKeyID: testID, AccessKeySecret: "#" + testSecret}, `the AccessKey secret contains "#"`},
		{Credential{AccessKeyID: "STS.NUexample", AccessKeySecret: testSecret}, "the AccessKey ID STS.***mple is an STS AccessKey, but the security token is empty"},
	} {
		err := tt.c.Validate()
		checkErr(t, fmt.Sprintf("Validate(%v)", tt.c), err, "auth: invalid credential: ", tt.want)
		if err != nil {
			mustNotContain(t, "Validate error", err.Error(), testSecret, testToken)
		}
	}
}
