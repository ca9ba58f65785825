package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
	"github.com/slskafka/slskafka/internal/benchcpu"
	"github.com/slskafka/slskafka/internal/record"
	"github.com/slskafka/slskafka/internal/spool"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// The Log phase runs the emulator in a child process, so that the CPU
// measured (getrusage of this process) is the SDK's and the spool's only.

const emuKeyID, emuSecret = "bench-id", "bench-secret"

// emulatorChild serves an emulator in Discard mode until stdin closes,
// after printing its address and writing its CA to caFile.
func emulatorChild(caFile string) {
	s, err := slstest.Start(slstest.Config{Logstores: map[string]int{"app": 4}, Discard: true,
		AccessKeyID: emuKeyID, AccessKeySecret: emuSecret})
	if err != nil {
		fmt.Println("err", err)
		os.Exit(2)
	}
	if err := os.WriteFile(caFile, s.CACertPEM(), 0o600); err != nil {
		fmt.Println("err", err)
		os.Exit(2)
	}
	fmt.Println(s.Endpoint().String())
	io.Copy(io.Discard, os.Stdin)
	s.Close()
	os.Exit(0)
}

// startEmulator starts the emulator child and returns a producer config
// for it and a stop function.
func startEmulator(tmp string) (producer.Config, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return producer.Config{}, nil, err
	}
	caFile := tmp + "/ca.pem"
	cmd := exec.Command(self, "-emulator", caFile)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return producer.Config{}, nil, err
	}
	stop := func() { in.Close(); cmd.Wait() }
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.HasPrefix(line, "err") {
		stop()
		return producer.Config{}, nil, fmt.Errorf("emulator: %q %v", line, err)
	}
	ep, err := endpoint.Parse(strings.TrimSpace(line))
	if err != nil {
		stop()
		return producer.Config{}, nil, err
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		stop()
		return producer.Config{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return producer.Config{
		Project:     "demo",
		Endpoint:    ep,
		Credentials: auth.Static(emuKeyID, emuSecret),
		TLS:         &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		Logger:      slog.New(slog.DiscardHandler),
		// Every record waits for space as long as delivery takes: the
		// phases measure Log with the buffer pushing back, not records
		// refused after MaxBlock or shed at 80% full.
		MaxBlock: time.Hour,
		ShedAt:   -1,
	}, stop, nil
}

// benchRecord is the producer benchmarks' typical access-log line.
var benchRecord = producer.Record{Fields: []producer.Field{
	{Key: "level", Value: "INFO"},
	{Key: "msg", Value: "request served to client after authorization and rate limiting"},
	{Key: "method", Value: "GET"},
	{Key: "path", Value: "/api/v1/orders/1234567/items?page=2&size=50"},
	{Key: "status", Value: "200"},
	{Key: "user_agent", Value: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"},
}}

type logResult struct {
	cpu, wall, p50, p99 time.Duration
}

// logPhase logs n records through a producer; with sp, each Log is
// followed by the Append the integrated producer would do in Log, and the
// Ack its promise would do (counted in CPU, not in the latency).
func logPhase(cfg producer.Config, n int, sp *spool.Spool) (logResult, error) {
	p, err := producer.New(cfg)
	if err != nil {
		return logResult{}, err
	}
	defer p.Close(context.Background())
	ctx := context.Background()
	if err := p.LogSync(ctx, "app", benchRecord); err != nil {
		return logResult{}, err
	}
	type field = producer.Field
	v := record.AppendObject[field](nil, nil, benchRecord.Fields)
	lat := make([]time.Duration, n)
	runtime.GC()
	cpu0, t0 := benchcpu.Process(), time.Now()
	for i := range n {
		s := time.Now()
		if err := p.Log(ctx, "app", benchRecord); err != nil {
			return logResult{}, err
		}
		if sp != nil {
			id, err := sp.Append(spool.Record{Topic: "app.json", Time: s, Value: v})
			lat[i] = time.Since(s)
			if err != nil {
				return logResult{}, err
			}
			if err := sp.Ack(id); err != nil {
				return logResult{}, err
			}
			continue
		}
		lat[i] = time.Since(s)
	}
	if err := p.Flush(ctx); err != nil {
		return logResult{}, err
	}
	wall, cpu := time.Since(t0), benchcpu.Process()-cpu0
	slices.Sort(lat)
	return logResult{cpu: cpu / time.Duration(n), wall: wall / time.Duration(n),
		p50: percentile(lat, 0.5), p99: percentile(lat, 0.99)}, nil
}
