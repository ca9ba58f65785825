package slstest

import (
	"crypto/tls"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// failingListener fails its first fails Accept calls with EMFILE, as a
// process out of file descriptors does, reporting when each call happens.
type failingListener struct {
	net.Listener
	fails   atomic.Int64
	accepts chan time.Time
}

func (l *failingListener) Accept() (net.Conn, error) {
	select {
	case l.accepts <- time.Now():
	default:
	}
	if l.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// nextAccept returns when the server next called Accept.
func (l *failingListener) nextAccept(t *testing.T) time.Time {
	t.Helper()
	select {
	case at := <-l.accepts:
		return at
	case <-time.After(10 * time.Second):
		t.Fatal("the server stopped calling Accept")
		return time.Time{}
	}
}

func startFailing(t *testing.T, fails int64) (*Server, *failingListener) {
	t.Helper()
	var fl *failingListener
	s, err := start(Config{}, func(addr string) (net.Listener, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		fl = &failingListener{Listener: ln, accepts: make(chan time.Time, 16)}
		fl.fails.Store(fails)
		return fl, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, fl
}

// TestAcceptRetriesTemporaryErrors checks that failed accepts (EMFILE) do
// not stop the server: it retries, backing off 5 ms, 10 ms, 20 ms..., and
// then serves the client that was waiting.
func TestAcceptRetriesTemporaryErrors(t *testing.T) {
	s, fl := startFailing(t, 3)
	nc, err := net.Dial("tcp", s.Endpoint().String())
	if err != nil {
		t.Fatal(err)
	}
	conf := s.TLSConfig()
	conf.ServerName = s.Endpoint().Host
	c := tls.Client(nc, conf)
	defer c.Close()
	// Bounds a failing test: a server that stopped accepting never
	// completes the handshake.
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.Handshake(); err != nil {
		t.Fatalf("TLS handshake after failed accepts: %v", err)
	}
	if got := s.Stats().Connections; got != 1 {
		t.Errorf("Connections = %d, want 1", got)
	}
	var at []time.Time
	for range 4 { // 3 failures and the accept that succeeded
		at = append(at, fl.nextAccept(t))
	}
	for i, want := range []time.Duration{minAcceptDelay, 2 * minAcceptDelay, 4 * minAcceptDelay} {
		if gap := at[i+1].Sub(at[i]); gap < want {
			t.Errorf("retry %d came %v after the failure, want a backoff of >= %v", i+1, gap, want)
		}
	}
}

// TestCloseStopsAcceptRetries checks that Close ends an accept loop that
// keeps failing, while it waits to retry.
func TestCloseStopsAcceptRetries(t *testing.T) {
	s, fl := startFailing(t, 1<<62)
	for range 3 {
		fl.nextAccept(t)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return within 5s while accepts kept failing")
	}
}

// TestWaitCopiesOnlyWhenEnough checks that a WaitLogs that is not yet
// satisfied does not copy the logstore on every write, which made waiting
// for n logs cost O(n²).
func TestWaitCopiesOnlyWhenEnough(t *testing.T) {
	st := newStore(map[string]int{"app": 1}, false)
	for range 100 {
		st.append("app", 0, []Log{{Fields: map[string]string{"content": "x"}}})
	}
	if allocs := testing.AllocsPerRun(20, func() {
		if logs, _ := st.logsIfAtLeast("app", 101); logs != nil {
			t.Fatal("logsIfAtLeast(101) returned logs with 100 stored")
		}
	}); allocs != 0 {
		t.Errorf("checking for 101 of 100 logs allocates %v times, want 0 (no copy)", allocs)
	}
	if logs, _ := st.logsIfAtLeast("app", 100); len(logs) != 100 {
		t.Errorf("logsIfAtLeast(100) returned %d logs, want 100", len(logs))
	}
}

// TestPendingMemberIDsAreBounded checks that JoinGroup v4 requests that
// never come back with the member id they were handed (KIP-394) do not
// grow the group without bound.
func TestPendingMemberIDsAreBounded(t *testing.T) {
	s, err := Start(Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := newConn(s, nil)
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = 4
	req.Group = "g"
	req.ProtocolType = "consumer"
	req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: (&kmsg.ConsumerMemberMetadata{}).AppendTo(nil)}}
	co := s.groups
	for range 3 * maxPendingMembers {
		co.mu.Lock()
		_, _, code := co.admit(c, co.group("g"), req, time.Minute, time.Minute)
		pending := len(co.groups["g"].pending)
		co.mu.Unlock()
		if code != kerr.MemberIDRequired.Code {
			t.Fatalf("JoinGroup v4 without a member id: code %d, want MEMBER_ID_REQUIRED", code)
		}
		if pending > maxPendingMembers {
			t.Fatalf("%d member ids pending, want at most %d", pending, maxPendingMembers)
		}
	}
}
