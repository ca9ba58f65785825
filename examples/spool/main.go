// Command spool ships logs through an SLS outage with a disk spool: the
// records that do not fit in memory wait on disk, and reach SLS once it is
// back; records the process had accepted survive it being killed.
//
// With SLS_PROJECT, SLS_ENDPOINT (or SLS_REGION), SLS_LOGSTORE and Alibaba
// Cloud credentials in the environment it ships to real SLS, spooling in
// SLS_SPOOL_DIR (default: a directory under the user's cache directory).
// Without them it starts the embedded SLS emulator (package slstest),
// takes it away for a while and brings it back, to show the spool at work:
//
//	go run ./examples/spool
//
// This file stands alone: copied into a module of your own that requires
// github.com/slskafka/slskafka, it builds and runs as it is.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "spool:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	cfg, logstore, emulator, err := target(w)
	if err != nil {
		return err
	}
	// The spool: every record Log accepts is on disk too until SLS has it.
	// One producer per directory; give each service instance its own.
	cfg.SpoolDir = os.Getenv(spoolDirEnv)
	if cfg.SpoolDir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return err
		}
		cfg.SpoolDir = filepath.Join(cache, "slskafka-example-spool")
	}
	if emulator != nil {
		defer emulator.Close()
		// A fresh directory for the demonstration, and a small memory
		// buffer, so that the outage spills to disk quickly.
		dir, err := os.MkdirTemp("", "slskafka-spool-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.SpoolDir = filepath.Join(dir, "spool")
		cfg.MaxBufferedBytes = 1 << 20
	}
	cfg.MaxSpoolBytes = 256 << 20 // default 1 GiB
	p, err := producer.New(cfg)
	if err != nil {
		return err // another producer on the directory says so here
	}
	defer func() {
		// What Close cannot deliver in time stays on disk for the next
		// producer on the directory.
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		p.Close(closeCtx)
	}()
	if st := p.Stats(); st.Recovered > 0 {
		fmt.Fprintf(w, "found %d records a previous run left in %s: they go first\n", st.Recovered, cfg.SpoolDir)
	}

	logBatch := func(from, n int) error {
		for i := from; i < from+n; i++ {
			r := producer.Record{Fields: []producer.Field{
				{Key: "level", Value: "INFO"}, {Key: "msg", Value: "order placed"},
				{Key: "order_id", Value: strconv.Itoa(i)},
			}}
			if err := p.Log(ctx, logstore, r); err != nil {
				return err
			}
		}
		return nil
	}
	if err := logBatch(0, 1000); err != nil {
		return err
	}
	if emulator == nil {
		if err := p.Flush(ctx); err != nil {
			return err
		}
		st := p.Stats()
		fmt.Fprintf(w, "shipped 1000 records to %q: %d delivered, %d on disk\n", logstore, st.Delivered, st.SpooledRecords)
		return nil
	}

	// The outage: the endpoint goes away. Log keeps accepting; what does
	// not fit in memory goes to disk.
	addr, ca := emulator.Endpoint().String(), emulator.CA()
	cred, err := emulator.Credentials().Credential(ctx)
	if err != nil {
		return err
	}
	if err := p.Flush(ctx); err != nil {
		return err
	}
	emulator.Close()
	if err := logBatch(1000, 20000); err != nil {
		return err
	}
	st := p.Stats()
	fmt.Fprintf(w, "SLS unreachable: 20000 records logged, %d waiting (%d on disk, %.1f MiB), %d dropped\n",
		st.BufferedRecords, st.SpooledRecords, float64(st.SpooledBytes)/(1<<20), st.Dropped)

	// SLS is back (the emulator restarts on the same address and CA).
	emulator, err = slstest.Start(slstest.Config{Addr: addr, CA: &ca, Logstores: map[string]int{"app": 2},
		AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret})
	if err != nil {
		return err
	}
	defer emulator.Close()
	flushCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := p.Flush(flushCtx); err != nil {
		return err
	}
	st = p.Stats()
	// Delivery is at least once: count each order once.
	orders := map[string]bool{}
	for _, l := range emulator.Logs(logstore) {
		orders[l.Fields["order_id"]] = true
	}
	fmt.Fprintf(w, "SLS back: %d of the 20000 records stored, %d failed, %d left on disk\n", len(orders), st.Failed+st.Unconfirmed, st.SpooledRecords)
	if len(orders) != 20000 || st.Dropped != 0 || st.Failed+st.Unconfirmed != 0 {
		return fmt.Errorf("stored %d of the 20000 records logged during the outage; %d dropped, %d failed", len(orders), st.Dropped, st.Failed+st.Unconfirmed)
	}
	return nil
}

// logstoreEnv names the logstore to write to when shipping to real SLS;
// spoolDirEnv the spool's directory.
const (
	logstoreEnv = "SLS_LOGSTORE"
	spoolDirEnv = "SLS_SPOOL_DIR"
)

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
