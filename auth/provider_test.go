package auth

import (
	"context"
	"testing"
)

func TestStatic(t *testing.T) {
	ctx := context.Background()
	got, err := Static(" "+testID+"\n", testSecret+"\r\n").Credential(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Credential{AccessKeyID: testID, AccessKeySecret: testSecret}); got != want {
		t.Errorf("Static = %#v, want %#v", got, want)
	}

	for _, tt := range []struct {
		id, secret string
		want       string
	}{
		{"", "", "auth: auth.Static: the AccessKey ID and the AccessKey secret are empty"},
		{"", testSecret, "auth: auth.Static: the AccessKey ID is empty"},
		{testID, "  ", "auth: auth.Static: the AccessKey secret is empty"},
		{testID, "sec ret" + testSecret, "the AccessKey secret contains white space"},
		{testID, testSecret + "#x", `the AccessKey secret contains "#"`},
		{"STS.NUexample", testSecret, "is an STS AccessKey, but the security token is empty"},
	} {
		_, err := Static(tt.id, tt.secret).Credential(ctx)
		checkErr(t, "Static("+tt.id+")", err, tt.want)
		if err != nil {
			mustNotContain(t, "Static error", err.Error(), testSecret)
		}
	}
}

func TestProviderFunc(t *testing.T) {
	want := Credential{AccessKeyID: testID, AccessKeySecret: testSecret}
	var p Provider = ProviderFunc(func(context.Context) (Credential, error) { return want, nil })
	if got, err := p.Credential(context.Background()); err != nil || got != want {
		t.Errorf("ProviderFunc = %v, %v; want %v", got, err, want)
	}
}

func TestEnv(t *testing.T) {
	ctx := context.Background()
	isolate(t)
	p := Env()

	_, err := p.Credential(ctx)
	checkErr(t, "Env with nothing set", err,
		"auth: environment: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are not set: set them",
		"ALIBABA_CLOUD_SECURITY_TOKEN", "auth.Default")

	t.Setenv(EnvAccessKeyID, testID)
	_, err = p.Credential(ctx)
	checkErr(t, "Env without secret", err, "auth: environment: ALIBABA_CLOUD_ACCESS_KEY_SECRET is empty")

	t.Setenv(EnvAccessKeySecret, testSecret+"\n") // as from a mounted file
	got, err := p.Credential(ctx)
	if want := (Credential{AccessKeyID: testID, AccessKeySecret: testSecret}); err != nil || got != want {
		t.Errorf("Env = %v, %v; want %v", got, err, want)
	}

	// Rotation: the variables are read on every call.
	t.Setenv(EnvAccessKeyID, "STS.rotated")
	_, err = p.Credential(ctx)
	checkErr(t, "Env with STS key and no token", err,
		"auth: environment: ALIBABA_CLOUD_ACCESS_KEY_ID STS***ted is an STS AccessKey, but ALIBABA_CLOUD_SECURITY_TOKEN is empty")
	t.Setenv(EnvSecurityToken, testToken)
	got, err = p.Credential(ctx)
	if want := (Credential{AccessKeyID: "STS.rotated", AccessKeySecret: testSecret, SecurityToken: testToken}); err != nil || got != want {
		t.Errorf("Env = %v, %v; want %v", got, err, want)
	}

	t.Setenv(EnvAccessKeyID, "")
	_, err = p.Credential(ctx)
	checkErr(t, "Env without ID", err, "auth: environment: ALIBABA_CLOUD_ACCESS_KEY_ID is empty")
	mustNotContain(t, "Env error", err.Error(), testSecret, testToken)
}
