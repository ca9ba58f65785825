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

// emulatorChildEnv makes the test binary run a stalled emulator instead of
// tests (see TestMain), so that its memory is not the producer's.
const emulatorChildEnv = "SLSKAFKA_TEST_EMULATOR_CHILD"

// emulatorAddr is what the child prints for the parent.
type emulatorAddr struct {
	Endpoint, Project, ID, Secret string
	CA                            []byte
}

// runEmulatorChild serves a stalled emulator (acknowledgements an hour
// late) until its standard input closes.
func runEmulatorChild() {
	s, err := slstest.Start(slstest.Config{Latency: time.Hour, Discard: true, AccessKeyID: "LTAIchildprocess", AccessKeySecret: "child-secret"})
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

// startEmulatorProcess runs a stalled emulator in a child process and
// returns how to reach it.
func startEmulatorProcess(t *testing.T) emulatorAddr {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), emulatorChildEnv+"=1")
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

// MaxBufferedBytes bounds the memory a producer holds for records it cannot
// deliver, whatever their size: small records cost far more than their
// bytes (the kgo.Record, the producer's bookkeeping, franz-go's), and all
// of it counts. Measured as live heap growth against a stalled emulator in
// another process.
func TestMemoryIsBoundedByTheBuffer(t *testing.T) {
	addr := startEmulatorProcess(t)
	ep, err := endpoint.Parse(addr.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(addr.CA)
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
			p, err := producer.New(producer.Config{
				Project: addr.Project, Endpoint: ep,
				Credentials:      auth.Static(addr.ID, addr.Secret),
				TLS:              &tls.Config{RootCAs: roots},
				MaxBufferedBytes: budget,
				OnBufferFull:     producer.Drop,
				Logger:           slog.New(slog.DiscardHandler),
			})
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
