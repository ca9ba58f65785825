package producer_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/endpoint"
	"github.com/slskafka/slskafka/producer"
	"github.com/slskafka/slskafka/slstest"
)

// emulatorChildEnv makes the test binary run an emulator in Discard mode
// instead of tests (see TestMain), so that its memory and CPU are not the
// producer's; the variable's value is the acknowledgements' latency.
const emulatorChildEnv = "SLSKAFKA_TEST_EMULATOR_CHILD"

// emulatorAddr is what the child prints for the parent.
type emulatorAddr struct {
	Endpoint, Project, ID, Secret string
	CA                            []byte
}

// runEmulatorChild serves an emulator until its standard input closes.
func runEmulatorChild() {
	latency, _ := time.ParseDuration(os.Getenv(emulatorChildEnv))
	s, err := slstest.Start(slstest.Config{Latency: latency, Discard: true, Logstores: map[string]int{"app": 4},
		AccessKeyID: "LTAIchildprocess", AccessKeySecret: "child-secret"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(emulatorAddr{s.Endpoint().String(), s.Project(), "LTAIchildprocess", "child-secret", s.CACertPEM()})
	io.Copy(io.Discard, os.Stdin)
	s.DropConnections()
	s.Close()
	os.Exit(0)
}

// startEmulatorProcess runs an emulator in Discard mode, whose
// acknowledgements come latency late, in a child process and returns how to
// reach it.
func startEmulatorProcess(t testing.TB, latency time.Duration) emulatorAddr {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), emulatorChildEnv+"="+latency.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	var addr emulatorAddr
	if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&addr); err != nil {
		t.Fatalf("reading the emulator's address: %v", err)
	}
	return addr
}

// config returns a producer Config for the emulator at a; mutate adjusts it.
func (a emulatorAddr) config(mutate func(*producer.Config)) producer.Config {
	ep, _ := endpoint.Parse(a.Endpoint)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(a.CA)
	c := producer.Config{
		Project: a.Project, Endpoint: ep,
		Credentials: auth.Static(a.ID, a.Secret),
		TLS:         &tls.Config{RootCAs: roots},
		Logger:      slog.New(slog.DiscardHandler),
	}
	if mutate != nil {
		mutate(&c)
	}
	return c
}

// MaxBufferedBytes bounds the memory a producer holds for records it cannot
// deliver, whatever their size: small records cost far more than their
// bytes (the kgo.Record, the producer's bookkeeping, franz-go's), and all
// of it counts. Measured as live heap growth against a stalled emulator in
// another process.
func TestMemoryIsBoundedByTheBuffer(t *testing.T) {
	addr := startEmulatorProcess(t, time.Hour) // stalled

	const budget = 16 << 20
	for _, c := range []struct {
		name   string
		fields int
		value  int
	}{
		{"40B", 1, 20},
		{"235B", 6, 22},
		{"1.5KB", 40, 25},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := producer.Record{}
			for i := range c.fields {
				r.Fields = append(r.Fields, producer.Field{Key: "field" + strconv.Itoa(i), Value: strings.Repeat("v", c.value)})
			}
			before := liveHeap()
			p, err := producer.New(addr.config(func(c *producer.Config) {
				c.MaxBufferedBytes = budget
				c.OnBufferFull = producer.Drop
				c.ShedAt = -1 // the whole buffer, not 80% of it
			}))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			var dropped, logged int
			for dropped < 1000 {
				err := p.Log(ctx, "app", r)
				switch {
				case errors.Is(err, producer.ErrBufferFull):
					dropped++
				case err != nil:
					t.Fatal(err)
				default:
					logged++
				}
			}
			growth := liveHeap() - before
			st := p.Stats()
			limit := int64(budget)*5/4 + 4<<20
			t.Logf("%d records of %d encoded bytes buffered: %.1f MiB encoded, live heap grew %.1f MiB (%.2fx the %d MiB buffer; limit %.1f MiB)",
				st.BufferedRecords, st.BufferedBytes/max(st.BufferedRecords, 1), float64(st.BufferedBytes)/(1<<20),
				float64(growth)/(1<<20), float64(growth)/budget, budget>>20, float64(limit)/(1<<20))
			if growth > limit {
				t.Errorf("live heap grew %d bytes for a %d-byte buffer, over 1.25x + 4 MiB (%d)", growth, budget, limit)
			}
			cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			p.Close(cctx)
		})
	}
}

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC() // finalizers and sync.Pool victims from the first
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
