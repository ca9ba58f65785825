package producer

import (
	"testing"
	"time"

	"github.com/slskafka/slskafka/auth"
)

func TestConnectionDeadline(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := Config{RotateBefore: DefaultRotateBefore}
	for _, tc := range []struct {
		name   string
		cred   auth.Credential
		maxAge time.Duration
		want   time.Duration // from now; 0 = never
	}{
		{"static key lives on", auth.Credential{AccessKeyID: "id", AccessKeySecret: "s"}, 0, 0},
		{"max age", auth.Credential{AccessKeyID: "id", AccessKeySecret: "s"}, 10 * time.Minute, 10 * time.Minute},
		{"hour-long STS: a minute before expiry", auth.Credential{SecurityToken: "t", Expiration: now.Add(time.Hour)}, 0, 59 * time.Minute},
		{"short STS: a quarter of its life before", auth.Credential{SecurityToken: "t", Expiration: now.Add(2 * time.Second)}, 0, 1500 * time.Millisecond},
		{"STS without expiry: capped", auth.Credential{SecurityToken: "t"}, 0, DefaultSTSConnectionAge},
		{"STS without expiry, shorter max age", auth.Credential{SecurityToken: "t"}, 10 * time.Second, 10 * time.Second},
		{"max age before expiry", auth.Credential{SecurityToken: "t", Expiration: now.Add(time.Hour)}, time.Minute, time.Minute},
	} {
		c := cfg
		c.MaxConnectionAge = tc.maxAge
		got := connectionDeadline(now, tc.cred, c)
		if tc.want == 0 {
			if !got.IsZero() {
				t.Errorf("%s: retires at %v, want never", tc.name, got)
			}
			continue
		}
		if d := got.Sub(now); d != tc.want {
			t.Errorf("%s: retires after %v, want %v", tc.name, d, tc.want)
		}
	}
}
