package producer

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// decide is the whole of what becomes of a record after an error; each row
// is one path a record takes.
func TestDecide(t *testing.T) {
	live := context.Background()
	deadline := fmt.Errorf("its deadline passed: %w", ErrDeliveryTimeout)
	expired, cancel := context.WithCancelCause(context.Background())
	cancel(deadline)
	refusedCred := &errCredential{errors.New("no key")}
	credRefused, cancelCred := context.WithCancelCause(context.Background())
	cancelCred(refusedCred)
	closeCause := newCloseError(context.DeadlineExceeded, nil)

	for _, tc := range []struct {
		name   string
		f      failedWith
		resend bool
		want   decision
	}{
		{"queued at Close", failedWith{err: errGaveUp, win: live, closed: true},
			false, decision{next: fail, cause: closeCause, kind: ErrClosed, gaveUp: true}},
		{"franz-go's at Close, deadline first", failedWith{err: kgo.ErrClientClosed, win: expired, closed: true},
			false, decision{next: fail, cause: deadline, gaveUp: true}},
		{"queued at Close, spooled", failedWith{err: errGaveUp, win: live, closed: true, onDisk: true},
			false, decision{next: backToSpool, cause: closeCause, kind: ErrClosed, gaveUp: true}},
		{"queued at Close, the spool could not keep it", failedWith{err: errGaveUp, win: live, closed: true},
			false, decision{next: fail, cause: closeCause, kind: ErrClosed, gaveUp: true}},
		{"queued at Close, spooled, credential refused", failedWith{err: errGaveUp, win: credRefused, closed: true, onDisk: true},
			false, decision{next: fail, cause: refusedCred, gaveUp: true}},
		{"partition failed for an older record's deadline", failedWith{err: context.DeadlineExceeded, win: live},
			false, decision{next: sendAgain}},
		{"broken connection", failedWith{err: kerr.NotLeaderForPartition, win: live},
			false, decision{next: sendAgain}},
		{"hand-off refused it", failedWith{err: context.DeadlineExceeded, win: live, noRequeue: true},
			false, decision{next: fail, cause: context.DeadlineExceeded}},
		{"hand-off refused it at Close", failedWith{err: context.DeadlineExceeded, win: live, noRequeue: true, closed: true, onDisk: true},
			false, decision{next: backToSpool, cause: closeCause, kind: ErrClosed, gaveUp: true}},
		{"refused key", failedWith{err: kerr.TopicAuthorizationFailed, win: live, onDisk: true},
			false, decision{next: fail, cause: kerr.TopicAuthorizationFailed}},
		{"codec refused, switched", failedWith{err: kerr.CorruptMessage, win: live},
			true, decision{next: sendAgain}},
		{"codec refused, not switched", failedWith{err: kerr.CorruptMessage, win: live},
			false, decision{next: fail, cause: kerr.CorruptMessage}},
		{"deadline passed", failedWith{err: kerr.RequestTimedOut, win: expired},
			true, decision{next: fail, cause: deadline}},
		{"deadline passed, spooled", failedWith{err: kerr.RequestTimedOut, win: expired, onDisk: true},
			false, decision{next: backToSpool, cause: deadline}},
		{"deadline passed, the spool could not keep it", failedWith{err: kerr.RequestTimedOut, win: expired},
			false, decision{next: fail, cause: deadline}},
		{"missing logstore after the deadline, spooled", failedWith{err: kerr.UnknownTopicOrPartition, win: expired, onDisk: true},
			false, decision{next: fail, cause: kerr.UnknownTopicOrPartition}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked := 0
			tc.f.resend = func() bool { asked++; return tc.resend }
			if tc.f.closed {
				tc.f.closeCause = closeCause
			}
			got := decide(tc.f)
			if got.next != tc.want.next || got.cause != tc.want.cause || got.kind != tc.want.kind || got.gaveUp != tc.want.gaveUp {
				t.Errorf("decide = %+v, want %+v", got, tc.want)
			}
			// Asking switches the codec: only a record that may be sent
			// again, for a cause retrying does not mend, asks.
			mayAsk := tc.f.win.Err() == nil && !tc.f.noRequeue && !transient(tc.f.err) &&
				!(tc.f.closed && (tc.f.err == errGaveUp || tc.f.err == kgo.ErrClientClosed))
			if asked > 0 && !mayAsk {
				t.Errorf("resend asked %d times", asked)
			}
		})
	}
}
