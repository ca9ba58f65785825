// Command spoolbench measures the candidates for the producer's disk
// spool (issue 12) in one run, so that their ratios are comparable: the
// spool this repository has (internal/spool, records encoded into mmap'd
// segment files), github.com/tidwall/wal and go.etcd.io/bbolt. For each:
// CPU per appended ~300-byte record (acknowledgements and reclaim
// included), Append latency p50/p99 flat out and at a steady 20k records/s,
// time in Ack (with front truncation),
// reopen-and-replay time for 1 GiB, and what a SIGKILL mid-stream and a
// torn tail do. Then the SDK's Log with and without a spool append and
// acknowledgement per record, against an emulator in a child process.
//
// It is a module of its own so that the candidates do not become
// dependencies of the SDK. Run it with bench/spool.sh.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slskafka/slskafka/internal/spool"
)

func main() {
	child := flag.String("child", "", "internal: run as the SIGKILL test's child for this candidate")
	replayChildOf := flag.String("replaychild", "", "internal: replay -dir with this candidate and print the counts")
	emulator := flag.String("emulator", "", "internal: run as the emulator, writing its CA to this file")
	dir := flag.String("dir", "", "internal: the child's directory")
	n := flag.Int("n", 200_000, "records per round of the append phase")
	rounds := flag.Int("rounds", 5, "rounds; medians are reported")
	window := flag.Int("window", 4096, "records in flight: each is acknowledged this many appends later")
	replay := flag.Int64("replay", 1<<30, "bytes for the reopen-and-replay phase (0: skip)")
	crash := flag.Int("crash", 50_000, "records the SIGKILL child appends (0: skip)")
	logN := flag.Int("log", 200_000, "records per round of the Log phase (0: skip)")
	only := flag.String("only", "", "comma-separated candidates (default all)")
	sync := flag.Duration("sync", time.Second, "sync interval for every candidate (negative: never)")
	tmp := flag.String("tmp", "", "directory for the candidates' files (default: a new one in $TMPDIR)")
	paced := flag.Duration("paced", 10*time.Second, "duration of the steady-rate latency phase per candidate (0: skip)")
	rate := flag.Int("rate", 20_000, "records per second in the steady-rate phase")
	flag.Parse()
	switch {
	case *child != "":
		crashChild(*child, *dir, *n)
	case *replayChildOf != "":
		replayChild(*replayChildOf, *dir)
	case *emulator != "":
		emulatorChild(*emulator)
	}
	if err := run(*n, *rounds, *window, *replay, *crash, *logN, *only, *sync, *tmp, *paced, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "spoolbench:", err)
		os.Exit(1)
	}
}

func find(name string) candidate {
	for _, c := range candidates {
		if c.name == name {
			return c
		}
	}
	panic("unknown candidate " + name)
}

func run(n, rounds, window int, replayBytes int64, crashN, logN int, only string, sync time.Duration, tmp string, paced time.Duration, rate int) error {
	if tmp == "" {
		var err error
		if tmp, err = os.MkdirTemp("", "spoolbench"); err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
	}
	cs := candidates
	if only != "" {
		cs = nil
		for _, name := range strings.Split(only, ",") {
			cs = append(cs, find(name))
		}
	}
	fresh := func(name string) string {
		d := filepath.Join(tmp, strings.ReplaceAll(name, "/", "_"))
		os.RemoveAll(d)
		return d
	}

	// Append phase: rounds interleave the candidates, so machine noise
	// hits each alike.
	res := map[string][]appendResult{}
	v := value(0)
	for r := range rounds {
		for _, c := range cs {
			ar, err := appendPhase(c, fresh(c.name), n, window, v, sync)
			if err != nil {
				return fmt.Errorf("%s: append: %w", c.name, err)
			}
			res[c.name] = append(res[c.name], ar)
			fmt.Fprintf(os.Stderr, "round %d %-12s cpu %v/rec p50 %v p99 %v ack %v/rec\n", r+1, c.name, ar.cpu, ar.p50, ar.p99, ar.ack)
		}
	}
	base := median(res[cs[0].name], func(r appendResult) time.Duration { return r.cpu })
	fmt.Printf("\nappend %d records of %d bytes per round, each acknowledged %d appends later in shuffled blocks of 256; sync every %v; medians of %d rounds\n",
		n, len(v), window, sync, rounds)
	fmt.Printf("%-12s %12s %8s %10s %10s %10s %10s %10s %12s\n", "candidate", "cpu/rec", "ratio", "wall/rec", "p50", "p99", "p99.9", "max", "ack/rec")
	for _, c := range cs {
		rs := res[c.name]
		cpu := median(rs, func(r appendResult) time.Duration { return r.cpu })
		fmt.Printf("%-12s %12v %8.2f %10v %10v %10v %10v %10v %12v\n", c.name, cpu, float64(cpu)/float64(base),
			median(rs, func(r appendResult) time.Duration { return r.wall }),
			median(rs, func(r appendResult) time.Duration { return r.p50 }),
			median(rs, func(r appendResult) time.Duration { return r.p99 }),
			median(rs, func(r appendResult) time.Duration { return r.p999 }),
			median(rs, func(r appendResult) time.Duration { return r.mx }),
			median(rs, func(r appendResult) time.Duration { return r.ack }))
	}

	if paced > 0 {
		fmt.Printf("\nAppend latency at %d records/s for %v (bursts every millisecond), acknowledged %d later, sync every %v\n", rate, paced, window, sync)
		fmt.Printf("%-12s %10s %10s %10s %10s %12s %8s %8s\n", "candidate", "records", "p50", "p99", "p99.9", "max", ">1ms", ">10ms")
		for _, c := range cs {
			pr, err := pacedPhase(c, fresh(c.name), rate, paced, window, v, sync)
			if err != nil {
				return fmt.Errorf("%s: paced: %w", c.name, err)
			}
			fmt.Printf("%-12s %10d %10v %10v %10v %12v %8d %8d\n", c.name, pr.records, pr.p50, pr.p99, pr.p999, pr.mx, pr.over1ms, pr.over10ms)
		}
	}

	if replayBytes > 0 {
		fmt.Printf("\nreopen and replay %d MiB (page cache warm: written just before)\n", replayBytes>>20)
		fmt.Printf("%-12s %10s %12s %12s %10s\n", "candidate", "records", "fill", "replay", "ratio")
		var baseReplay time.Duration
		for i, c := range cs {
			d := fresh(c.name)
			t := time.Now()
			if err := c.fill(d, v, replayBytes); err != nil {
				return fmt.Errorf("%s: fill: %w", c.name, err)
			}
			fill := time.Since(t)
			t = time.Now()
			count := 0
			if err := c.replay(d, func([]byte) { count++ }); err != nil {
				return fmt.Errorf("%s: replay: %w", c.name, err)
			}
			took := time.Since(t)
			if i == 0 {
				baseReplay = took
			}
			fmt.Printf("%-12s %10d %12v %12v %10.2f\n", c.name, count, fill.Round(time.Millisecond), took.Round(time.Millisecond), float64(took)/float64(baseReplay))
			os.RemoveAll(d)
		}
	}

	if crashN > 0 {
		fmt.Printf("\nSIGKILL: a child appends %d records, printing each Append that returned nil, and is killed halfway; then a torn last write\n", crashN)
		fmt.Printf("%-12s %10s %10s %6s %6s  %s\n", "candidate", "appended", "replayed", "lost", "dups", "torn tail")
		for _, c := range cs {
			cr, err := crashPhase(c, fresh(c.name), crashN)
			if err != nil {
				fmt.Printf("%-12s %v\n", c.name, err)
				continue
			}
			fmt.Printf("%-12s %10d %10d %6d %6d  %s\n", c.name, cr.appended, cr.replayed, cr.lost, cr.dups, cr.torn)
		}
	}

	if logN > 0 {
		if err := logComparison(tmp, logN, rounds, sync); err != nil {
			return err
		}
	}
	return nil
}

// logComparison runs the producer's Log without and with a spool append
// per record, interleaved, and prints the ratio.
func logComparison(tmp string, n, rounds int, sync time.Duration) error {
	cfg, stop, err := startEmulator(tmp)
	if err != nil {
		return err
	}
	defer stop()
	var off, on []logResult
	for r := range rounds {
		lr, err := logPhase(cfg, n, nil)
		if err != nil {
			return fmt.Errorf("log without spool: %w", err)
		}
		off = append(off, lr)
		d := filepath.Join(tmp, "logspool")
		os.RemoveAll(d)
		sp, err := spool.Open(spool.Options{Dir: d, Sync: sync})
		if err != nil {
			return err
		}
		lr2, err := logPhase(cfg, n, sp)
		sp.Close()
		if err != nil {
			return fmt.Errorf("log with spool: %w", err)
		}
		on = append(on, lr2)
		fmt.Fprintf(os.Stderr, "round %d Log cpu %v/rec p99 %v; with spool %v/rec p99 %v\n", r+1, lr.cpu, lr.p99, lr2.cpu, lr2.p99)
	}
	cpu := func(r logResult) time.Duration { return r.cpu }
	fmt.Printf("\nLog, emulator in a child process (Discard), %d records per round, medians of %d rounds; with spool: Log + spool Append (in the latency) + Ack (in the CPU)\n", n, rounds)
	fmt.Printf("%-14s %10s %10s %10s %10s\n", "", "cpu/rec", "wall/rec", "Log p50", "Log p99")
	for _, arm := range []struct {
		name string
		rs   []logResult
	}{{"no spool", off}, {"spool", on}} {
		fmt.Printf("%-14s %10v %10v %10v %10v\n", arm.name, median(arm.rs, cpu),
			median(arm.rs, func(r logResult) time.Duration { return r.wall }),
			median(arm.rs, func(r logResult) time.Duration { return r.p50 }),
			median(arm.rs, func(r logResult) time.Duration { return r.p99 }))
	}
	fmt.Printf("CPU ratio spool/no spool: %.2f (target <= 1.5)\n", float64(median(on, cpu))/float64(median(off, cpu)))
	return nil
}
