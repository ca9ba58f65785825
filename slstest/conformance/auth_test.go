package conformance

import (
	"crypto/rand"
	"crypto/tls"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

func TestAccessKeyPassword(t *testing.T) {
	check(t, assumption{
		what:     "the SASL PLAIN password <AccessKeyId>#<AccessKeySecret> (username: the project) is accepted",
		evidence: docUpload,
		emulator: "accepted, read back",
		sdk:      "acceptance: every AccessKey user sends this",
	}, func(t *testing.T, tg *target) (string, bool) {
		o := writeAndRead(t, tg, tg.producer(t, nil), tg.logstore, record(tg.token(), producer.Field{Key: "msg", Value: "AccessKey pair"}))
		return o, accepted(o)
	})
}

func TestSTSPassword(t *testing.T) {
	check(t, assumption{
		what:     "an STS credential sent as <AccessKeyId>#<AccessKeySecret>#<SecurityToken> is accepted (if not: which other form is)",
		evidence: assumed,
		emulator: "accepted, read back",
		sdk:      "acceptance: auth.Default gives STS credentials on ECS, ACK (RRSA) and Function Compute, and the SDK sends this form",
	}, observeSTS)
}

// observeSTS writes with the target's STS credential as the SDK sends it;
// if that is refused, it tries the other forms an STS credential could
// take and says which were accepted.
func observeSTS(t *testing.T, tg *target) (string, bool) {
	cred, err := tg.sts.Credential(tg.ctx(t))
	if err != nil {
		return "no STS credential to try: " + err.Error(), false
	}
	p := tg.producer(t, func(c *producer.Config) { c.Credentials = tg.sts })
	token := tg.token()
	err = p.LogSync(tg.ctx(t), tg.logstore, record(token, producer.Field{Key: "msg", Value: "STS token form"}))
	o := outcome(err)
	if accepted(o) {
		return o + readBack(t, tg, token), true
	}
	if strings.Contains(err.Error(), "SLS documents only AccessKey pairs") {
		o += " (the error says SLS documents AccessKey pairs only)"
	}
	// Done with it: a producer whose credential is refused keeps
	// re-dialing while it is open.
	p.Close(tg.ctx(t))
	pair := cred.AccessKeyID + "#" + cred.AccessKeySecret
	var ok []string
	for _, form := range []struct {
		name  string
		login plain.Auth
	}{
		{"<id>#<secret> without the token", plain.Auth{User: tg.project, Pass: pair}},
		{"<id>#<secret> with the token as the PLAIN authorization id", plain.Auth{Zid: cred.SecurityToken, User: tg.project, Pass: pair}},
	} {
		if err := tryLogin(t, tg, form.login); err != nil {
			t.Logf("%s: %v", form.name, err)
			continue
		}
		ok = append(ok, form.name)
	}
	if len(ok) == 0 {
		return o + "; other forms: none accepted", false
	}
	return o + "; accepted instead: " + strings.Join(ok, "; "), false
}

// tryLogin writes one record with a plain franz-go client logged in as
// login. A metadata request first makes a refused login fail at once:
// franz-go retries producing through failed logins until the record times
// out.
func tryLogin(t *testing.T, tg *target, login plain.Auth) error {
	cl := tg.client(t, login, kgo.RequestRetries(0))
	defer cl.Close()
	if _, err := metadata(tg.ctx(t), cl, tg.logstore); err != nil {
		return err
	}
	r := &kgo.Record{Topic: tg.logstore, Value: []byte(`{"` + tokenField + `":"` + tg.token() + `"}`)}
	return cl.ProduceSync(tg.ctx(t), r).FirstErr()
}

func TestWrongSecret(t *testing.T) {
	check(t, assumption{
		what:     "a wrong AccessKeySecret passes SASL and is refused with TOPIC_AUTHORIZATION_FAILED (where it fails is not documented)",
		evidence: docUpload + "; where: " + assumed,
		emulator: "refused after SASL: TOPIC_AUTHORIZATION_FAILED → ErrAuth",
		sdk:      "ErrAuth, at SASL or after",
	}, func(t *testing.T, tg *target) (string, bool) {
		p := tg.producer(t, func(c *producer.Config) { c.Credentials = auth.Static(tg.akID, "wrong-"+rand.Text()) })
		o := outcome(p.LogSync(tg.ctx(t), tg.logstore, record(tg.token())))
		return o, strings.HasSuffix(o, "→ ErrAuth")
	})
}

func TestWrongProject(t *testing.T) {
	check(t, assumption{
		what:     "a project that does not exist (its endpoint, its name as username), with a valid AccessKey, is UNKNOWN_TOPIC_OR_PARTITION",
		evidence: docUpload,
		emulator: "refused after SASL: UNKNOWN_TOPIC_OR_PARTITION → ErrLogstoreNotFound",
		sdk:      "a failure with ErrLogstoreNotFound, ErrAuth or ErrUnreachable, not a silent retry",
	}, func(t *testing.T, tg *target) (string, bool) {
		project := "slskafka-no-such-project-" + strings.ToLower(rand.Text()[:8])
		ep, err := tg.endpointFor(project)
		if err != nil {
			t.Fatal(err)
		}
		p := tg.producer(t, func(c *producer.Config) { c.Project, c.Endpoint = project, ep })
		o := outcome(p.LogSync(tg.ctx(t), tg.logstore, record(tg.token())))
		return o, failsTyped(o)
	})
}

func TestMissingLogstore(t *testing.T) {
	check(t, assumption{
		what:     "a logstore that does not exist is UNKNOWN_TOPIC_OR_PARTITION",
		evidence: docUpload,
		emulator: "refused after SASL: UNKNOWN_TOPIC_OR_PARTITION → ErrLogstoreNotFound",
		sdk:      "ErrLogstoreNotFound, at once",
	}, func(t *testing.T, tg *target) (string, bool) {
		p := tg.producer(t, nil)
		o := outcome(p.LogSync(tg.ctx(t), "slskafka-conformance-missing", record(tg.token())))
		return o, strings.HasSuffix(o, "→ ErrLogstoreNotFound")
	})
}

func TestWrongRegion(t *testing.T) {
	check(t, assumption{
		what: "the project's name at an endpoint of another region is UNKNOWN_TOPIC_OR_PARTITION " +
			"(the emulator has one region: a second emulator serving the project without the logstore stands in)",
		evidence: docUpload,
		emulator: "refused after SASL: UNKNOWN_TOPIC_OR_PARTITION → ErrLogstoreNotFound",
		sdk:      "a failure with ErrLogstoreNotFound, ErrAuth or ErrUnreachable, not a silent retry",
	}, func(t *testing.T, tg *target) (string, bool) {
		ep, tlsCfg := otherRegion(t, tg)
		p := tg.producer(t, func(c *producer.Config) { c.Endpoint, c.TLS = ep, tlsCfg })
		o := outcome(p.LogSync(tg.ctx(t), tg.logstore, record(tg.token())))
		return o, failsTyped(o)
	})
}

// otherRegion returns the endpoint of the target's project in another
// region, and the TLS configuration to reach it. The emulator has one
// region; a second emulator, with the same project and AccessKey and
// without the logstore, plays the other one.
func otherRegion(t *testing.T, tg *target) (endpoint.Endpoint, *tls.Config) {
	if tg.otherRegion != nil {
		return *tg.otherRegion, tg.tls.Clone()
	}
	s := slstest.New(t, slstest.Config{
		Project:         tg.project,
		Logstores:       map[string]int{"elsewhere": 1},
		AccessKeyID:     tg.akID,
		AccessKeySecret: tg.akSecret,
	})
	return s.Endpoint(), s.TLSConfig()
}
