package producer_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// stsIssuer hands out emulator STS credentials that expire after life, as an
// STS AssumeRole endpoint would.
func stsIssuer(s *slstest.Server, life time.Duration, issued *atomic.Int64) auth.Provider {
	return auth.ProviderFunc(func(context.Context) (auth.Credential, error) {
		n := issued.Add(1)
		c := auth.Credential{
			AccessKeyID:     "STS.key" + strconv.FormatInt(n, 10),
			AccessKeySecret: "secret" + strconv.FormatInt(n, 10),
			SecurityToken:   "token" + strconv.FormatInt(n, 10),
			Expiration:      time.Now().Add(life),
		}
		s.AddSTSKey(c.AccessKeyID, c.AccessKeySecret, c.SecurityToken, c.Expiration)
		return c, nil
	})
}

// With STS keys that expire every 2 s, a 10 s stream is delivered completely
// and without a single error: connections retire before their key expires.
// The emulator serves in memory inside a synctest bubble, so the 10 s pass
// on the bubble's clock.
func TestRotationLosesNothing(t *testing.T) {
	synctest.Test(t, testRotationLosesNothing)
}

func testRotationLosesNothing(t *testing.T) {
	s := slstest.New(t, slstest.Config{Logstores: map[string]int{"app": 2}, InMemory: true})
	var issued atomic.Int64
	fl := newFailures()
	p := newProducer(t, s, func(c *producer.Config) {
		c.Credentials = stsIssuer(s, 2*time.Second, &issued)
		c.OnError = fl.on
		c.DialContext = s.DialContext
	})

	var sent int
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	end := time.Now().Add(10 * time.Second)
	for time.Now().Before(end) {
		<-tick.C
		if err := p.Log(context.Background(), "app", rec("seq", strconv.Itoa(sent))); err != nil {
			t.Fatal(err)
		}
		sent++
	}
	if err := p.Flush(timeout(t, 30*time.Second)); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if f := fl.all(); len(f) != 0 {
		t.Fatalf("delivery failures during rotation: %v", f)
	}
	seen := map[string]int{}
	for _, l := range s.Logs("app") {
		seen[l.Fields["seq"]]++
	}
	for i := range sent {
		if seen[strconv.Itoa(i)] == 0 {
			t.Fatalf("record %d of %d lost", i, sent)
		}
	}
	st := p.Stats()
	dups := len(s.Logs("app")) - sent
	t.Logf("sent %d, stored %d (duplicates %d), keys issued %d, connections retired %d, emulator authorization errors %d, max latency %v",
		sent, len(s.Logs("app")), dups, issued.Load(), st.ConnectionsRetired, s.Stats().AuthorizationErr, st.MaxDeliveryLatency)
	if st.ConnectionsRetired == 0 || issued.Load() < 5 {
		t.Errorf("keys issued %d, connections retired %d: rotation did not happen", issued.Load(), st.ConnectionsRetired)
	}
	if n := s.Stats().AuthorizationErr; n != 0 {
		t.Errorf("emulator refused %d produce partitions for an expired key: a connection outlived its credential", n)
	}
	if st.Delivered != int64(sent) || st.Failed != 0 {
		t.Errorf("stats %+v, want %d delivered and none failed", st, sent)
	}
}
