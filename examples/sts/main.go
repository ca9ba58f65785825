// Command sts shows where the producer gets its credentials, and that it
// rotates short-lived STS credentials without losing or failing a record.
//
// With SLS_PROJECT, SLS_ENDPOINT (or SLS_REGION) and SLS_LOGSTORE in the
// environment it ships to real SLS, configured by producer.ConfigFromEnv with
// credentials from the Alibaba Cloud default chain (auth.Default). Without
// them it starts the embedded SLS emulator and plays an STS service that
// issues keys valid for 2 seconds, so the producer has to re-authenticate
// several times while it streams:
//
//	go run ./examples/sts
//
// This file stands alone: copied into a module of your own that requires
// github.com/slskafka/slskafka, it builds and runs as it is.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first Ctrl-C stops the stream and delivers what is buffered; after
	// it, signals get their default behaviour back, so a second one kills.
	context.AfterFunc(ctx, stop)
	if err := run(ctx, os.Stdout, 5*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "sts:", err)
		os.Exit(1)
	}
}

// keyLifetime is how long the emulator's STS keys last. Real STS tokens
// last 15 minutes to 12 hours; 2 seconds makes rotation visible in a demo.
const keyLifetime = 2 * time.Second

// secretPrefix starts every secret the demo STS service issues, so the test
// can check that no secret is ever printed.
const secretPrefix = "demo-secret-"

// tokenPrefix starts every security token it issues, for the same check.
const tokenPrefix = "demo-token-"

// run streams records to SLS for d, or until ctx ends, then closes the
// producer and prints what happened.
func run(ctx context.Context, w io.Writer, d time.Duration) error {
	// Real SLS from the environment, or the embedded emulator.
	cfg, logstore, emulator, err := target(w)
	if err != nil {
		return err
	}
	if emulator != nil {
		defer emulator.Close()
	}
	var issued atomic.Int64 // keys the demo STS service issued
	if emulator == nil {
		// ConfigFromEnv takes the credentials from auth.Default, the chain
		// every Alibaba Cloud SDK uses. It picks the first source that is
		// configured, so the same binary needs no code change per platform:
		//
		//   - Function Compute: give the function a role; FC puts that role's
		//     STS credential in ALIBABA_CLOUD_ACCESS_KEY_ID, _SECRET and
		//     _SECURITY_TOKEN, the first source of the chain. It is valid for
		//     36 hours, longer than an instance may run.
		//   - ACK: use RRSA, so each pod gets its own role rather than the
		//     node's. With ack-pod-identity-webhook the pod gets
		//     ALIBABA_CLOUD_ROLE_ARN, _OIDC_PROVIDER_ARN and _OIDC_TOKEN_FILE,
		//     and the chain exchanges the OIDC token for STS credentials.
		//   - ECS: attach a RAM role to the instance; the chain reads its STS
		//     credentials from the metadata service (set
		//     ALIBABA_CLOUD_ECS_METADATA to the role name to save a lookup).
		//   - A laptop: `aliyun configure`, or ~/.alibabacloud/credentials.
		//
		// Grant the role or user what SLS requires of a writer, and no more:
		// log:GetProject on the project; log:GetLogStore, log:ListShards and
		// log:PostLogStoreLogs on the logstore.
		//
		// On Function Compute, ACK and ECS the chain gives STS credentials,
		// which the SDK sends as
		// <AccessKeyId>#<AccessKeySecret>#<SecurityToken>. SLS documents only
		// <AccessKeyId>#<AccessKeySecret> for its Kafka endpoint, so that it
		// takes the token form is an assumption: check your project with the
		// conformance kit (SLS_CONFORMANCE=1 go test -v ./slstest/conformance,
		// from a clone of the SDK's repository). If SLS refuses it, Ping
		// fails with producer.ErrAuth saying so, and a RAM user's AccessKey
		// (ALIBABA_CLOUD_ACCESS_KEY_ID and _SECRET, or auth.Static) is the
		// documented way in.
		//
		// credentials-go, behind auth.Default, does not say when an STS
		// credential expires, so the producer cannot retire a connection just
		// before its credential does. A maximum connection age does it
		// instead: credentials-go renews STS credentials 3 minutes before
		// they expire and the producer re-reads the chain every minute, so a
		// new connection's credential is good for 2 minutes at least.
		cfg.MaxConnectionAge = time.Minute
		c, err := cfg.Credentials.Credential(ctx)
		if err != nil {
			return err
		}
		// A Credential prints redacted: the secret and token never show.
		fmt.Fprintf(w, "credential from the default chain: %v\n", c)
	} else {
		// The emulator's own AccessKey gives way to keys from the demo STS
		// service, which expire every keyLifetime.
		cfg.Credentials = stsService(w, emulator, &issued)
		fmt.Fprintf(w, "the emulator's STS keys expire %v after they are issued\n\n", keyLifetime)
	}

	cfg.StaticFields = []producer.Field{{Key: "service", Value: "sts-example"}}
	p, err := producer.New(cfg)
	if err != nil {
		return err
	}
	// Safety net for early returns: after Ctrl-C, drop what is buffered
	// rather than wait for it. The normal path closes below.
	defer p.Close(ctx)
	if err := p.Ping(ctx, logstore); err != nil {
		return err
	}

	// Stream a record every 5 ms, reporting once a second. Connections are
	// retired shortly before their key expires (a quarter of its lifetime
	// here, RotateBefore for real keys) and re-dialed with the next key.
	var sent int
	start := time.Now()
	end := time.After(d)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	report := time.NewTicker(time.Second)
	defer report.Stop()
	interrupted := false
loop:
	for {
		select {
		case <-ctx.Done():
			interrupted = true
			fmt.Fprintln(w, "interrupted: delivering what is buffered")
			break loop
		case <-end:
			break loop
		case <-report.C:
			st := p.Stats()
			fmt.Fprintf(w, "%4.1fs  sent %d, delivered %d, connections retired %d, credential rotations %d\n",
				time.Since(start).Seconds(), sent, st.Delivered, st.ConnectionsRetired, st.CredentialRotations)
		case <-tick.C:
			r := producer.Record{Fields: []producer.Field{{Key: "msg", Value: "tick"}, {Key: "seq", Value: strconv.Itoa(sent)}}}
			if err := p.Log(ctx, logstore, r); err != nil {
				return err
			}
			sent++
		}
	}

	// Close delivers what is buffered. Its context is not ctx: after Ctrl-C
	// the records already accepted should still get through.
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := p.Close(closeCtx); err != nil {
		return err
	}
	st := p.Stats()

	fmt.Fprintf(w, "\nrecords: %d sent, %d delivered, %d failed\n", sent, st.Delivered, st.Failed)
	fmt.Fprintf(w, "connections retired before their key expired: %d, credential rotations: %d\n", st.ConnectionsRetired, st.CredentialRotations)
	if emulator == nil {
		if st.Failed != 0 {
			return fmt.Errorf("%d records failed", st.Failed)
		}
		return nil
	}
	es := emulator.Stats()
	fmt.Fprintf(w, "STS keys issued: %d; emulator: %d authentications, %d refused, %d produce requests refused for an expired key\n",
		issued.Load(), es.Authentications, es.AuthFailures, es.AuthorizationErr)
	switch {
	case st.Delivered != int64(sent) || st.Failed != 0:
		return fmt.Errorf("delivered %d of %d records, %d failed", st.Delivered, sent, st.Failed)
	case es.AuthorizationErr != 0:
		return fmt.Errorf("the emulator refused %d produce requests: a connection outlived its key", es.AuthorizationErr)
	case st.CredentialRotations < 2 && !interrupted:
		return fmt.Errorf("the credential rotated %d times in %v, want 2 or more", st.CredentialRotations, d)
	}
	return nil
}

// logstoreEnv names the logstore to write to when shipping to real SLS.
// producer.ConfigFromEnv reads the other SLS_* variables; a producer serves
// every logstore of its project, so the logstore is the program's choice.
const logstoreEnv = "SLS_LOGSTORE"

// target says where to ship. With SLS_PROJECT set it is real SLS:
// producer.ConfigFromEnv and the logstore named by SLS_LOGSTORE (a service
// of your own needs only this branch). Without it, it starts an SLS emulator
// in this process (package slstest), which the caller closes, and says so on
// w.
func target(w io.Writer) (cfg producer.Config, logstore string, emulator *slstest.Server, err error) {
	if os.Getenv(producer.EnvProject) != "" {
		cfg, err = producer.ConfigFromEnv()
		logstore = os.Getenv(logstoreEnv)
		if logstore == "" {
			err = errors.Join(err, fmt.Errorf("%s is not set: name the logstore to write to, or unset %s to ship to the embedded emulator", logstoreEnv, producer.EnvProject))
		}
		return cfg, logstore, nil, err
	}
	emulator, err = slstest.Start(slstest.Config{Logstores: map[string]int{"app": 2}})
	if err != nil {
		return cfg, "", nil, err
	}
	fmt.Fprintf(w, "no %s in the environment: shipping to the embedded SLS emulator at %s\n\n", producer.EnvProject, emulator.Endpoint())
	cfg = producer.Config{
		Project:     emulator.Project(),
		Endpoint:    emulator.Endpoint(),
		Credentials: emulator.Credentials(),
		TLS:         emulator.TLSConfig(), // trusts the emulator's own CA
	}
	return cfg, "app", emulator, nil
}

// stsService returns a Provider that plays an STS service (AssumeRole): every
// call issues a new key, valid for keyLifetime, and registers it with the
// emulator. A real one would call STS here, or read a file a sidecar renews.
//
// The producer wraps the provider in auth.Caching, so many connections
// dialing at once cause one call, and a key is reused until it is due for
// refresh (half its lifetime before expiry, for a key this short).
func stsService(w io.Writer, s *slstest.Server, issued *atomic.Int64) auth.Provider {
	return auth.ProviderFunc(func(context.Context) (auth.Credential, error) {
		n := issued.Add(1)
		c := auth.Credential{
			AccessKeyID:     fmt.Sprintf("STS.demo%04d", n),
			AccessKeySecret: secretPrefix + rand.Text(),
			SecurityToken:   tokenPrefix + rand.Text(),
			// Expiration lets the producer retire connections before the
			// key stops working; without it the key is used until refused.
			Expiration: time.Now().Add(keyLifetime),
		}
		s.AddSTSKey(c.AccessKeyID, c.AccessKeySecret, c.SecurityToken, c.Expiration)
		// %v prints the redacted form: the secret and token never show.
		fmt.Fprintf(w, "      STS issued key %d: %v\n", n, c)
		return c, nil
	})
}
