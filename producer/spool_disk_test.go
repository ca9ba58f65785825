package producer_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/slskafka/slskafka/internal/spool"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// diagLog is a Config.Logger's output that tells a test when a line
// arrives.
type diagLog struct {
	mu     sync.Mutex
	b      strings.Builder
	notify chan struct{} // capacity 1
}

func newDiagLog() *diagLog { return &diagLog{notify: make(chan struct{}, 1)} }

func (d *diagLog) Write(p []byte) (int, error) {
	d.mu.Lock()
	d.b.Write(p)
	d.mu.Unlock()
	select {
	case d.notify <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (d *diagLog) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(d, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// lines returns the lines that contain s.
func (d *diagLog) lines(s string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for l := range strings.Lines(d.b.String()) {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// await waits until a line contains s.
func (d *diagLog) await(t *testing.T, ctx context.Context, s string) {
	t.Helper()
	for len(d.lines(s)) == 0 {
		select {
		case <-d.notify:
		case <-ctx.Done():
			t.Fatalf("no diagnostic saying %q; got:\n%s", s, d.lines(""))
		}
	}
}

const noRoomLine = "no room on disk"

// checkNoRoomLine checks the one diagnostic about the full disk.
func checkNoRoomLine(t *testing.T, d *diagLog, dir string) {
	t.Helper()
	got := d.lines(noRoomLine)
	if len(got) != 1 || !strings.Contains(got[0], "dir="+dir) || !strings.Contains(got[0], "free_bytes=") {
		t.Errorf("diagnostics about the full disk: %q, want one naming %s and the free space", got, dir)
	}
}

// storedIDs returns the distinct values of field i that s stored.
func storedIDs(s *slstest.Server) map[string]bool {
	seen := map[string]bool{}
	for _, l := range s.Logs("app") {
		seen[l.Fields["i"]] = true
	}
	return seen
}

// With the disk full from the start (a fault injected where the spool
// preallocates a segment) and SLS healthy, every record goes through
// memory and is delivered; once the disk has room again, records are
// spooled again.
func TestSpoolFullDiskDeliversThroughMemory(t *testing.T) {
	var full atomic.Bool
	full.Store(true)
	t.Cleanup(spool.InjectDiskFault(func() error {
		if full.Load() {
			return syscall.ENOSPC
		}
		return nil
	}))
	s := slstest.New(t, slstest.Config{})
	dir := filepath.Join(t.TempDir(), "spool")
	diag := newDiagLog()
	p := newProducer(t, s, func(c *producer.Config) { c.SpoolDir, c.Logger = dir, diag.logger() })
	const n = 5000
	ctx := timeout(t, time.Minute)
	for i := range n {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := p.Log(lctx, "app", rec("i", strconv.Itoa(i)))
		cancel()
		if err != nil {
			t.Fatalf("Log %d on a full disk: %v", i, err)
		}
	}
	if st := p.Stats(); !st.SpoolDegraded {
		t.Errorf("stats %+v: not degraded on a full disk", st)
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if seen := storedIDs(s); len(seen) != n {
		t.Errorf("%d of %d records stored", len(seen), n)
	}
	checkNoRoomLine(t, diag, dir)

	full.Store(false)
	diag.await(t, ctx, "disk space is back") // within the spool's retry interval
	if st := p.Stats(); st.SpoolDegraded {
		t.Errorf("stats %+v: still degraded once the disk has room", st)
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "*.seg")); len(segs) == 0 {
		t.Error("no segment file once the disk has room: not spooling")
	}
	for i := range 100 {
		if err := p.Log(ctx, "app", rec("i", strconv.Itoa(n+i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Delivered != n+100 || st.BufferedRecords != 0 || st.SpooledRecords != 0 {
		t.Errorf("stats %+v, want all %d delivered", st, n+100)
	}
}

// tmpfs mounts a file system of size (mount(8)'s syntax, "8m") on a new
// directory, unmounted when the test ends. It needs root: without it the
// test is skipped, or fails with CI=1.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	need := func(why string) {
		if os.Getenv("CI") == "1" {
			t.Fatalf("CI=1 and %s", why)
		}
		t.Skipf("%s (run as root, or with CI=1 to make this a failure)", why)
	}
	if os.Geteuid() != 0 {
		need("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		need(fmt.Sprintf("mount -t tmpfs: %v: %s", err, out))
	}
	t.Cleanup(func() { // before TempDir removes dir
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// On an 8 MiB tmpfs, less than one default segment of 64 MiB, with SLS
// healthy: every record is delivered.
func TestSpoolSmallDiskHealthy(t *testing.T) {
	dir := filepath.Join(tmpfs(t, "8m"), "spool")
	s := slstest.New(t, slstest.Config{})
	diag := newDiagLog()
	p := newProducer(t, s, func(c *producer.Config) { c.SpoolDir, c.Logger = dir, diag.logger() })
	const n = 20_000
	ctx := timeout(t, time.Minute)
	pad := strings.Repeat("x", 200)
	for i := range n {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := p.Log(lctx, "app", rec("i", strconv.Itoa(i), "pad", pad))
		cancel()
		if err != nil {
			t.Fatalf("Log %d: %v (stats %+v)", i, err, p.Stats())
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if seen := storedIDs(s); len(seen) != n {
		t.Errorf("%d of %d records stored", len(seen), n)
	}
	if st := p.Stats(); st.Delivered != n || st.Failed+st.Unconfirmed+st.Dropped != 0 {
		t.Errorf("stats %+v, want all %d delivered", st, n)
	}
}

// On an 8 MiB tmpfs during an outage, the disk fills: Log goes on under
// the memory rules (here bounded by its context, as Config.MaxBlock bounds
// it) and does not wait on the disk; one diagnostic names the directory
// and the free space; once SLS is back every accepted record is
// delivered and the spool takes records again.
func TestSpoolSmallDiskOutage(t *testing.T) {
	outageOnFullDisk(t, filepath.Join(tmpfs(t, "8m"), "spool"))
}

// The same with a full disk injected where the spool preallocates a
// segment, for machines that cannot mount a tmpfs: the disk is full from
// the start and gets room again once SLS is back.
func TestSpoolFullDiskOutage(t *testing.T) {
	var full atomic.Bool
	full.Store(true)
	t.Cleanup(spool.InjectDiskFault(func() error {
		if full.Load() {
			return syscall.ENOSPC
		}
		return nil
	}))
	outageOnFullDisk(t, filepath.Join(t.TempDir(), "spool"), func() { full.Store(false) })
}

// outageOnFullDisk runs an outage with a spool in dir whose disk fills;
// room is called once SLS is back, if the disk does not get room by
// itself as the spool's own segments are deleted.
func outageOnFullDisk(t *testing.T, dir string, room ...func()) {
	s, err := slstest.Start(slstest.Config{Logstores: map[string]int{"app": 2}})
	if err != nil {
		t.Fatal(err)
	}
	addr, ca := s.Endpoint().String(), s.CA()
	cred, _ := s.Credentials().Credential(context.Background())
	diag := newDiagLog()
	p := newProducer(t, s, func(c *producer.Config) {
		c.SpoolDir, c.Logger = dir, diag.logger()
		c.MaxBufferedBytes = 1 << 20
		c.MaxBlock = 200 * time.Millisecond
	})
	ctx := timeout(t, 2*time.Minute)
	if err := p.LogSync(ctx, "app", rec("i", "-1")); err != nil {
		t.Fatal(err)
	}
	s.Close() // the outage

	const bound = 200 * time.Millisecond // MaxBlock
	var accepted []int
	var slowest time.Duration
	pad := strings.Repeat("x", 200)
	after := 0 // Logs refused after the disk filled
	for i := 0; after < 10; i++ {
		if i > 200_000 {
			t.Fatalf("the spool never filled an 8 MiB disk: %+v", p.Stats())
		}
		start := time.Now()
		err := p.Log(ctx, "app", rec("i", strconv.Itoa(i), "pad", pad))
		took := time.Since(start)
		slowest = max(slowest, took)
		switch {
		case err == nil:
			accepted = append(accepted, i)
		case strings.Contains(err.Error(), "spool"):
			t.Fatalf("Log %d waited on the spool: %v (stats %+v)", i, err, p.Stats())
		case !errors.Is(err, producer.ErrBufferFull):
			t.Fatalf("Log %d: %v", i, err)
		}
		if err != nil && p.Stats().SpoolDegraded {
			after++ // memory full too
		}
	}
	checkNoRoomLine(t, diag, dir)
	// With the disk full, records wait in memory only, so memory's fill
	// (not the spool's, far below ShedAt here) is what sheds INFO for WARN
	// and ERROR.
	if st := p.Stats(); st.Shed == 0 {
		t.Errorf("memory filled with the spool degraded and no INFO record was shed: %+v", st)
	}
	// A bound on what this proves: no Log waited for the disk, which
	// nothing frees during the outage; the slack is a loaded machine's.
	if slowest > bound+2*time.Second {
		t.Errorf("the slowest Log took %v, its context allowed %v", slowest, bound)
	}

	s2, err := slstest.Start(slstest.Config{Addr: addr, CA: &ca, Logstores: map[string]int{"app": 2},
		AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := p.Flush(ctx); err != nil {
		t.Fatalf("Flush after the outage: %v", err)
	}
	for _, f := range room {
		f()
	}
	seen := storedIDs(s2)
	lost := 0
	for _, i := range accepted {
		if !seen[strconv.Itoa(i)] {
			lost++
		}
	}
	st := p.Stats()
	t.Logf("%d records accepted during the outage, slowest Log %v; %d lost; stats %+v", len(accepted), slowest, lost, st)
	if lost > 0 || st.Failed+st.Unconfirmed > 0 || st.BufferedRecords != 0 {
		t.Errorf("%d of %d accepted records lost; stats %+v", lost, len(accepted), st)
	}
	// Delivered records free the spool's own segments, which is what
	// filled the disk.
	diag.await(t, ctx, "disk space is back")
}

// Damage in the spool is counted: after a segment of what a previous
// producer left is garbled or truncated, Recovered + SpoolLost is what it
// left buffered, every recovered record is delivered, and one diagnostic
// names the file and the count.
func TestSpoolDamageIsCounted(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string, size int64)
	}{
		{"flip 64 bytes", func(t *testing.T, path string, size int64) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			mid := size / 2
			for i := mid; i < mid+64; i++ {
				b[i] ^= 0xff
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"truncate", func(t *testing.T, path string, size int64) {
			if err := os.Truncate(path, size/2+100); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := slstest.Start(slstest.Config{})
			if err != nil {
				t.Fatal(err)
			}
			addr, ca := s.Endpoint().String(), s.CA()
			cred, _ := s.Credentials().Credential(context.Background())
			dir := filepath.Join(t.TempDir(), "spool")
			p1 := newProducer(t, s, func(c *producer.Config) {
				c.SpoolDir = dir
				c.MaxBufferedBytes = 1 << 20 // most records only on disk
			})
			s.Close() // nothing gets out
			const n = 20_000
			for i := range n {
				if err := p1.Log(context.Background(), "app", rec("i", strconv.Itoa(i))); err != nil {
					t.Fatal(err)
				}
			}
			cctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			p1.Close(cctx) //nolint:errcheck // ErrClosed: records kept in the spool
			left := p1.Stats().BufferedRecords
			if left != n {
				t.Fatalf("the first producer left %d records, want %d", left, n)
			}
			// The segment holding the most data.
			segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
			var path string
			var used int64
			for _, seg := range segs {
				b, err := os.ReadFile(seg)
				if err != nil {
					t.Fatal(err)
				}
				if end := int64(len(strings.TrimRight(string(b), "\x00"))); end > used {
					path, used = seg, end
				}
			}
			tc.damage(t, path, used)

			s2 := slstest.New(t, slstest.Config{Addr: addr, CA: &ca, AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret})
			diag := newDiagLog()
			p2 := newProducer(t, s2, func(c *producer.Config) { c.SpoolDir, c.Logger = dir, diag.logger() })
			if err := p2.Flush(timeout(t, time.Minute)); err != nil {
				t.Fatal(err)
			}
			st := p2.Stats()
			stored := storedIDs(s2)
			t.Logf("left %d; recovered %d, lost %d; %d distinct stored", left, st.Recovered, st.SpoolLost, len(stored))
			if st.SpoolLost == 0 || st.Recovered+st.SpoolLost != left || int64(len(stored)) != st.Recovered {
				t.Errorf("recovered %d + lost %d, %d stored: want %d in all, every recovered record stored", st.Recovered, st.SpoolLost, len(stored), left)
			}
			warn := diag.lines("level=WARN")
			if len(warn) != 1 || !strings.Contains(warn[0], fmt.Sprintf("lost_records=%d", st.SpoolLost)) || !strings.Contains(warn[0], path) {
				t.Errorf("warnings %q, want one naming %s and %d records lost", warn, path, st.SpoolLost)
			}
		})
	}
}

// Stats.MaxDeliveryLatency counts from when Log accepted a record, also
// for one that waited on disk: here records a previous producer left
// wait a while before the next one delivers them.
func TestSpoolDeliveryLatencyCountsFromAcceptance(t *testing.T) {
	s, err := slstest.Start(slstest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	addr, ca := s.Endpoint().String(), s.CA()
	cred, _ := s.Credentials().Credential(context.Background())
	dir := filepath.Join(t.TempDir(), "spool")
	p1 := newProducer(t, s, func(c *producer.Config) { c.SpoolDir, c.MaxBufferedBytes = dir, 1<<20 })
	s.Close()
	const n = 5000
	first := time.Now()
	for i := range n {
		if err := p1.Log(context.Background(), "app", rec("i", strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	p1.Close(cctx) //nolint:errcheck // ErrClosed: records kept in the spool
	// The wait being measured, not a synchronisation.
	const wait = 1500 * time.Millisecond
	time.Sleep(time.Until(first.Add(wait)))

	s2 := slstest.New(t, slstest.Config{Addr: addr, CA: &ca, AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret})
	p2 := newProducer(t, s2, func(c *producer.Config) { c.SpoolDir = dir })
	if err := p2.Flush(timeout(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	waited := time.Since(first)
	st := p2.Stats()
	if st.Delivered != n || st.MaxDeliveryLatency < wait || st.MaxDeliveryLatency > waited {
		t.Errorf("delivered %d, MaxDeliveryLatency %v: want %d records, the first accepted %v before they could be delivered and %v before the last was",
			st.Delivered, st.MaxDeliveryLatency, n, wait, waited)
	}
}

// A record on disk whose topic names no logstore (not this SDK's, or
// damaged where its CRC could not tell) is dropped with a warning and
// counted in SpoolLost.
func TestSpoolRecordWithBadTopicIsCounted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	sp, err := spool.Open(spool.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{"app", "Not A Logstore!", "app.json"} {
		if err := sp.Spill(spool.Record{Topic: topic, Value: []byte(`{"i":"x"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	s := slstest.New(t, slstest.Config{})
	diag := newDiagLog()
	p := newProducer(t, s, func(c *producer.Config) { c.SpoolDir, c.Logger = dir, diag.logger() })
	if err := p.Flush(timeout(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Recovered != 2 || st.SpoolLost != 1 || st.Delivered != 2 {
		t.Errorf("stats %+v, want 2 recovered and delivered, 1 lost", st)
	}
	if w := diag.lines("not a logstore"); len(w) != 1 {
		t.Errorf("warnings %q, want one", w)
	}
}

// A segment that faults under the producer (an I/O error, or a file cut
// short by another program) costs no record: the one being written goes
// on through memory, with a warning, and the spool goes on in a new
// segment.
func TestSpoolFaultKeepsRecordInMemory(t *testing.T) {
	s := slstest.New(t, slstest.Config{})
	dir := filepath.Join(t.TempDir(), "spool")
	diag := newDiagLog()
	p := newProducer(t, s, func(c *producer.Config) { c.SpoolDir, c.Logger = dir, diag.logger() })
	ctx := timeout(t, time.Minute)
	if err := p.LogSync(ctx, "app", rec("i", "0")); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	for _, seg := range segs {
		if err := os.Truncate(seg, 4096); err != nil {
			t.Fatal(err)
		}
	}
	const n = 2000
	for i := 1; i <= n; i++ {
		if err := p.Log(ctx, "app", rec("i", strconv.Itoa(i), "pad", strings.Repeat("x", 200))); err != nil {
			t.Fatalf("Log %d after the segment was cut: %v", i, err)
		}
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if seen := storedIDs(s); len(seen) != n+1 {
		t.Errorf("%d of %d records stored", len(seen), n+1)
	}
	if w := diag.lines("could not keep a record"); len(w) != 1 || !strings.Contains(w[0], "I/O error") {
		t.Errorf("warnings %q, want one about the I/O error", w)
	}
}
