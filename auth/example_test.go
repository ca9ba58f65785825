package auth_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/aliyun/credentials-go/credentials"

	"github.com/slskafka/slskafka/auth"
)

func ExampleDefault() {
	// Stand-in for the deployment: here the AccessKey is in the environment,
	// the first place the chain looks. Elsewhere it finds a CLI profile, a
	// credentials file or the RAM role of the ECS instance or ACK pod.
	os.Setenv(auth.EnvAccessKeyID, "LTAI5tExampleKeyID0001")
	os.Setenv(auth.EnvAccessKeySecret, "example-secret")
	os.Unsetenv(auth.EnvSecurityToken)
	defer os.Unsetenv(auth.EnvAccessKeyID)
	defer os.Unsetenv(auth.EnvAccessKeySecret)

	creds, err := auth.Default()
	if err != nil {
		log.Fatal(err) // names every source tried and what to set
	}
	c, err := creds.Credential(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.AccessKeyID)
	fmt.Println(c) // the secret is never printed
	// Output:
	// LTAI5tExampleKeyID0001
	// {AccessKeyID:LTAI***0001 AccessKeySecret:[redacted]}
}

func ExampleStatic() {
	creds := auth.Static("LTAI5tExampleKeyID0001", "example-secret")
	c, err := creds.Credential(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Password())

	// Mistakes are caught before they reach SLS.
	_, err = auth.Static("STS.NUexample0001", "example-secret").Credential(context.Background())
	fmt.Println(err)
	// Output:
	// LTAI5tExampleKeyID0001#example-secret
	// auth: auth.Static: the AccessKey ID STS.***0001 is an STS AccessKey, but the security token is empty: set the security token that was issued with it
}

func ExampleCredential_Password() {
	ak := auth.Credential{AccessKeyID: "LTAI5tExampleKeyID0001", AccessKeySecret: "secret"}
	sts := auth.Credential{AccessKeyID: "STS.NUexample0001", AccessKeySecret: "secret", SecurityToken: "token"}
	fmt.Println(ak.Password())
	fmt.Println(sts.Password())
	// Output:
	// LTAI5tExampleKeyID0001#secret
	// STS.NUexample0001#secret#token
}

func ExampleCredential_String() {
	c := auth.Credential{
		AccessKeyID:     "STS.NUexample0001",
		AccessKeySecret: "secret",
		SecurityToken:   "token",
		Expiration:      time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	fmt.Println(c)
	fmt.Printf("%+v\n", struct{ Cred auth.Credential }{c})
	// Output:
	// {AccessKeyID:STS.***0001 AccessKeySecret:[redacted] SecurityToken:[redacted] Expiration:2030-01-02T03:04:05Z}
	// {Cred:{AccessKeyID:STS.***0001 AccessKeySecret:[redacted] SecurityToken:[redacted] Expiration:2030-01-02T03:04:05Z}}
}

func ExampleFromCredentialsGo() {
	// Any credentials-go credential works: a RAM role ARN, an ECS RAM role,
	// an OIDC role... This one is a static STS credential, so that the
	// example needs no network.
	c, err := credentials.NewCredential(new(credentials.Config).
		SetType("sts").
		SetAccessKeyId("STS.NUexample0001").
		SetAccessKeySecret("secret").
		SetSecurityToken("token"))
	if err != nil {
		log.Fatal(err)
	}
	creds := auth.FromCredentialsGo(c)
	cred, err := creds.Credential(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cred.AccessKeyID, cred.SecurityToken != "")
	// Output: STS.NUexample0001 true
}

func ExampleCaching() {
	// A source of your own, say a secrets manager, called at most once per
	// refresh however many connections dial at once.
	fetches := 0
	vault := auth.ProviderFunc(func(ctx context.Context) (auth.Credential, error) {
		fetches++
		return auth.Credential{
			AccessKeyID:     "STS.NUexample0001",
			AccessKeySecret: "secret",
			SecurityToken:   "token",
			Expiration:      time.Now().Add(time.Hour),
		}, nil
	})
	creds := auth.Caching(vault, auth.RefreshMargin(10*time.Minute))
	for range 3 {
		if _, err := creds.Credential(context.Background()); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("fetches:", fetches)
	// Output: fetches: 1
}
