package conformance

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/credentials-go/credentials"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// Environment variables of the kit itself; the others are the SDK's
// (producer.Env*, auth.Env*).
const (
	envConformance = "SLS_CONFORMANCE"
	envLogstore    = "SLS_LOGSTORE"
	envRoleARN     = "SLS_CONFORMANCE_ROLE_ARN"
)

// target is where the run writes and reads: the in-process emulator or a
// real SLS project.
type target struct {
	real     bool
	name     string // for the table's heading
	project  string
	logstore string
	ep       endpoint.Endpoint
	// endpointFor is the endpoint of another project in the target's
	// region, as a user with that SLS_PROJECT would get it.
	endpointFor func(project string) (endpoint.Endpoint, error)
	// otherRegion is the target's project at an endpoint of another
	// region; nil on the emulator, which has one region.
	otherRegion *endpoint.Endpoint
	tls         *tls.Config
	// The AccessKey pair, and an STS credential with the same
	// permissions.
	akID, akSecret string
	sts            auth.Provider
	emu            *slstest.Server // nil for a real project
	read           *reader
	// timeout bounds one write or read-back: generous for a real
	// project across the internet, where only a failure waits for it.
	timeout time.Duration
	run     string // this run's id, the prefix of every token
	seq     atomic.Int64
}

// emulatorProject and emulatorLogstore are the emulator target's names.
const (
	emulatorProject  = "conformance"
	emulatorLogstore = "conformance"
	emulatorShards   = 2
)

// startEmulator starts an emulator target; change adjusts its config (a
// key refusal, say) for the kit's own tests.
func startEmulator(change func(*slstest.Config)) (*target, error) {
	cfg := slstest.Config{
		Project:         emulatorProject,
		Logstores:       map[string]int{emulatorLogstore: emulatorShards},
		AccessKeyID:     "LTAIconformance0001",
		AccessKeySecret: "conformance-" + rand.Text(),
		// As SLS's do, so the kit cannot come to rely on dense offsets.
		JumpingOffsets: true,
	}
	if change != nil {
		change(&cfg)
	}
	s, err := slstest.Start(cfg)
	if err != nil {
		return nil, err
	}
	sts := auth.Credential{
		AccessKeyID:     "STS.conformance0001",
		AccessKeySecret: "conformance-sts-" + rand.Text(),
		SecurityToken:   "conformance-token-" + rand.Text(),
		Expiration:      time.Now().Add(24 * time.Hour),
	}
	s.AddSTSKey(sts.AccessKeyID, sts.AccessKeySecret, sts.SecurityToken, sts.Expiration)
	tg := &target{
		name:        "the in-process emulator (package slstest)",
		project:     s.Project(),
		logstore:    emulatorLogstore,
		ep:          s.Endpoint(),
		endpointFor: func(string) (endpoint.Endpoint, error) { return s.Endpoint(), nil },
		tls:         s.TLSConfig(),
		akID:        cfg.AccessKeyID,
		akSecret:    cfg.AccessKeySecret,
		sts:         auth.ProviderFunc(func(context.Context) (auth.Credential, error) { return sts, nil }),
		emu:         s,
		timeout:     20 * time.Second,
		run:         runID(),
	}
	if err := tg.startReader(); err != nil {
		s.Close()
		return nil, err
	}
	return tg, nil
}

// realTarget returns the project that the environment names, or an error
// that lists every setting that is missing or wrong.
func realTarget(getenv func(string) string) (*target, error) {
	var missing []string
	need := func(names ...string) {
		for _, n := range names {
			if strings.TrimSpace(getenv(n)) != "" {
				return
			}
		}
		missing = append(missing, strings.Join(names, " or "))
	}
	need(producer.EnvProject)
	need(producer.EnvEndpoint, producer.EnvRegion)
	need(envLogstore)
	need(auth.EnvAccessKeyID)
	need(auth.EnvAccessKeySecret)
	need(envRoleARN)
	var errs []error
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("%s=1 checks a real SLS project, and needs: %s (see the package documentation)", envConformance, strings.Join(missing, ", ")))
	}
	if getenv(auth.EnvSecurityToken) != "" {
		errs = append(errs, fmt.Errorf("%s is set: the AccessKey rows need a RAM user's AccessKey pair; the STS row gets its credential by assuming %s", auth.EnvSecurityToken, envRoleARN))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	tg := &target{
		real:     true,
		project:  strings.TrimSpace(getenv(producer.EnvProject)),
		logstore: strings.TrimSpace(getenv(envLogstore)),
		akID:     strings.TrimSpace(getenv(auth.EnvAccessKeyID)),
		akSecret: strings.TrimSpace(getenv(auth.EnvAccessKeySecret)),
		timeout:  time.Minute,
		run:      runID(),
	}
	if err := endpoint.ValidateLogstore(tg.logstore); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", envLogstore, err))
	}
	if err := tg.endpoints(getenv); err != nil {
		errs = append(errs, err)
	}
	tg.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	if f := strings.TrimSpace(getenv(producer.EnvCAFile)); f != "" {
		pool := x509.NewCertPool()
		switch pem, err := os.ReadFile(f); {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", producer.EnvCAFile, err))
		case !pool.AppendCertsFromPEM(pem):
			errs = append(errs, fmt.Errorf("%s: %q holds no PEM certificate", producer.EnvCAFile, f))
		}
		tg.tls.RootCAs = pool
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	tg.name = fmt.Sprintf("SLS project %q at %s, logstore %q", tg.project, tg.ep, tg.logstore)

	// An STS credential of the kind auth.Default gets on ECS, ACK and
	// Function Compute, here from STS AssumeRole through credentials-go.
	c, err := credentials.NewCredential(new(credentials.Config).
		SetType("ram_role_arn").
		SetAccessKeyId(tg.akID).SetAccessKeySecret(tg.akSecret).
		SetRoleArn(strings.TrimSpace(getenv(envRoleARN))).
		SetRoleSessionName("slskafka-conformance"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envRoleARN, err)
	}
	tg.sts = auth.FromCredentialsGo(c)
	if err := tg.startReader(); err != nil {
		return nil, err
	}
	return tg, nil
}

// endpoints works out the project's endpoint as producer.ConfigFromEnv
// does, the endpoint another project would have, and this project's
// endpoint in another region.
func (tg *target) endpoints(getenv func(string) string) error {
	ep, region := strings.TrimSpace(getenv(producer.EnvEndpoint)), strings.TrimSpace(getenv(producer.EnvRegion))
	var network endpoint.Network
	if ep == "" {
		if v := strings.TrimSpace(getenv(producer.EnvNetwork)); v != "" {
			if err := network.UnmarshalText([]byte(strings.ToLower(v))); err != nil {
				return fmt.Errorf("%s: %w", producer.EnvNetwork, err)
			}
		}
		tg.endpointFor = func(project string) (endpoint.Endpoint, error) { return endpoint.For(project, region, network) }
	} else {
		if !strings.Contains(strings.ToLower(ep), ".log.aliyuncs.com") {
			return fmt.Errorf("%s=%q is not an SLS endpoint (<region>.log.aliyuncs.com): the wrong-region row needs the region; set %s instead", producer.EnvEndpoint, ep, producer.EnvRegion)
		}
		tg.endpointFor = func(project string) (endpoint.Endpoint, error) { return endpoint.FromSLS(project, ep) }
	}
	var err error
	if tg.ep, err = tg.endpointFor(tg.project); err != nil {
		return err
	}
	// <project>.<region>[-intranet].log.aliyuncs.com
	label, ok := strings.CutPrefix(tg.ep.Host, tg.project+".")
	if !ok {
		return fmt.Errorf("cannot find the region in the endpoint %s", tg.ep)
	}
	label, _, _ = strings.Cut(label, ".")
	here, intranet := strings.CutSuffix(label, "-intranet")
	other := "cn-hangzhou"
	if here == other {
		other = "cn-shanghai"
	}
	otherNetwork := endpoint.Public
	if intranet {
		otherNetwork = endpoint.Intranet
	}
	wrong, err := endpoint.For(tg.project, other, otherNetwork)
	if err != nil {
		return err
	}
	tg.otherRegion = &wrong
	return nil
}

// runID names this run; every token written starts with it.
func runID() string { return "ck" + strings.ToLower(rand.Text()[:10]) }

// token returns a string found nowhere else, to find a record by. Its
// number has a fixed width, so that no token is part of another.
func (tg *target) token() string { return fmt.Sprintf("%s-%06d", tg.run, tg.seq.Add(1)) }

// close stops what the target started.
func (tg *target) close() {
	if tg.read != nil {
		tg.read.close()
	}
	if tg.emu != nil {
		tg.emu.Close()
	}
}

// config is a producer configuration for the target with the AccessKey
// pair; change adjusts it.
func (tg *target) config(t *testing.T, change func(*producer.Config)) producer.Config {
	cfg := producer.Config{
		Project:         tg.project,
		Endpoint:        tg.ep,
		Credentials:     auth.Static(tg.akID, tg.akSecret),
		TLS:             tg.tls.Clone(),
		DeliveryTimeout: tg.timeout,
		// The SDK's diagnostics go to the test's log; a failure is
		// what LogSync returns, so OnError need not log it again.
		Logger:  slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnError: func(producer.Failure) {},
		// The rows compare the fields SLS stores with those written;
		// the SDK's time field is no assumption about SLS.
		TimeField: producer.NoTimeField,
	}
	if change != nil {
		change(&cfg)
	}
	return cfg
}

// producer builds a producer on the target, closed when the test ends.
func (tg *target) producer(t *testing.T, change func(*producer.Config)) *producer.Producer {
	t.Helper()
	p, err := producer.New(tg.config(t, change))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), tg.timeout)
		defer cancel()
		p.Close(ctx)
	})
	return p
}

// client builds a franz-go client configured as SLS's documents configure
// one (SASL_SSL, PLAIN, Kafka 2.1, no idempotence, leader acks), for what
// the SDK never sends; closed when the test ends.
func (tg *target) client(t *testing.T, user plain.Auth, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append(tg.clientOpts(user), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func (tg *target) clientOpts(user plain.Auth) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(tg.ep.String()),
		kgo.DialTLSConfig(tg.tls.Clone()),
		kgo.SASL(user.AsMechanism()),
		kgo.MaxVersions(kversion.V2_1_0()),
		kgo.DisableIdempotentWrite(),
		kgo.RequiredAcks(kgo.LeaderAck()),
		kgo.RecordDeliveryTimeout(tg.timeout),
		kgo.UnknownTopicRetries(1),
	}
}

// accessKey is the SASL login with the AccessKey pair.
func (tg *target) accessKey() plain.Auth {
	return plain.Auth{User: tg.project, Pass: tg.akID + "#" + tg.akSecret}
}

// ctx is a context bounded by the target's timeout.
func (tg *target) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), tg.timeout)
	t.Cleanup(cancel)
	return ctx
}
