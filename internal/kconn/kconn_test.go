package kconn

import (
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// request frames a request header (key, version, correlation id, null
// client id) and body.
func request(key, version int16, body []byte) []byte {
	b := make([]byte, 4, 64)
	b = binary.BigEndian.AppendUint16(b, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, 7)
	b = binary.BigEndian.AppendUint16(b, 0xFFFF)
	b = append(b, body...)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func response(body []byte) []byte {
	b := make([]byte, 8, 64)
	b = append(b, body...)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// feedInPieces splits b at random points, as TCP may.
func feedInPieces(r *rand.Rand, b []byte, fn func([]byte)) {
	for len(b) > 0 {
		n := 1 + r.IntN(len(b))
		fn(b[:n])
		b = b[n:]
	}
}

func TestTrackersCountFramesAcrossArbitrarySplits(t *testing.T) {
	failed := kmsg.NewPtrSASLAuthenticateResponse()
	failed.ErrorCode = kerr.SaslAuthenticationFailed.Code
	msg := "bad key"
	failed.ErrorMessage = &msg

	var reqs, resps []byte
	reqs = append(reqs, request(18, 2, nil)...)
	resps = append(resps, response([]byte{0, 0})...)
	reqs = append(reqs, request(36, 0, []byte("\x00demo\x00id#secret"))...)
	resps = append(resps, response(failed.AppendTo(nil))...)
	for range 50 {
		reqs = append(reqs, request(0, 7, make([]byte, 300))...)
		resps = append(resps, response(make([]byte, 40))...)
	}
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 1))
		var w writeTracker
		var rt readTracker
		started, done := 0, 0
		var authErrs []error
		feedInPieces(r, reqs, func(b []byte) { started += w.frames(b) })
		feedInPieces(r, resps, func(b []byte) {
			n, err, _ := rt.feed(b, &w)
			done += n
			if err != nil {
				authErrs = append(authErrs, err)
			}
		})
		if started != 52 || done != 52 {
			t.Fatalf("seed %d: started %d, done %d, want 52 each", seed, started, done)
		}
		if len(authErrs) != 1 || !errors.Is(authErrs[0], kerr.SaslAuthenticationFailed) {
			t.Fatalf("seed %d: auth errors = %v, want one SASL_AUTHENTICATION_FAILED", seed, authErrs)
		}
		if len(w.pending) != 0 {
			t.Fatalf("seed %d: %d requests still pending", seed, len(w.pending))
		}
	}
}

// LastResponse moves to the arrival of each response frame, before the
// client can read it, and never goes back.
func TestLastResponse(t *testing.T) {
	client, server := net.Pipe()
	d := &Dialer{Clock: time.Now()}
	c := newConn(client, time.Time{}, d)
	defer c.Close()
	defer server.Close()
	req := request(0, 7, make([]byte, 10))
	go func() {
		io.ReadFull(server, make([]byte, len(req)))
		server.Write(response(make([]byte, 4)))
	}()
	if d.LastResponse() != 0 {
		t.Fatalf("LastResponse before any response = %v", d.LastResponse())
	}
	sent := time.Since(d.Clock)
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, len(response(make([]byte, 4))))); err != nil {
		t.Fatal(err)
	}
	if got, now := d.LastResponse(), time.Since(d.Clock); got < sent || got > now {
		t.Errorf("LastResponse = %v, want between the request (%v) and now (%v)", got, sent, now)
	}
	d.lastResponse.Store(int64(time.Hour)) // a later response on another connection
	d.noteResponse()
	if got := d.LastResponse(); got != time.Hour {
		t.Errorf("LastResponse went back to %v", got)
	}
}
