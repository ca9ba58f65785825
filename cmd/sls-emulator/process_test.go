//go:build unix

package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// process is the command running as a child process (this test binary
// running main, see TestMain).
type process struct {
	cmd      *exec.Cmd
	stdout   *os.File    // read end of the child's stdout
	stderr   chan string // the child's stderr lines
	settings map[string]string
	exited   chan error
}

// startProcess starts the command with args on a free port and reads the
// settings it prints. Nothing reads stdout after the settings.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"-listen", "127.0.0.1:0", "-ca-file", filepath.Join(t.TempDir(), "ca.pem")}, args...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	cmd.Stdout, cmd.Stderr = outW, errW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	errW.Close()
	p := &process{cmd: cmd, stdout: outR, stderr: make(chan string, 100), settings: map[string]string{}, exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait() }()
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		defer close(p.stderr)
		sc := bufio.NewScanner(errR)
		for sc.Scan() {
			select {
			case p.stderr <- sc.Text():
			default: // nobody is looking for more lines
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-scanned // ends once the child has exited
		errR.Close()
		outR.Close()
	})

	rd := bufio.NewReader(outR)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("reading settings: %v", err)
		}
		k, v, _ := strings.Cut(strings.TrimSuffix(line, "\n"), ": ")
		p.settings[k] = v
		if k == "kcat" {
			return p
		}
	}
}

// waitStderr waits for a stderr line that contains s.
func (p *process) waitStderr(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-p.stderr:
			if !ok {
				t.Fatalf("stderr ended without a line containing %q", s)
			}
			if strings.Contains(line, s) {
				return
			}
		case <-timeout:
			t.Fatalf("no stderr line containing %q within 10s", s)
		}
	}
}

// wait waits for the child to exit and returns what cmd.Wait returned.
func (p *process) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.exited:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the emulator did not exit within 10s of the signal")
		return nil
	}
}

// TestClosedStdoutDoesNotKill checks that sls-emulator -print | head keeps
// running once head has exited: printing to the closed pipe must not kill
// the process with SIGPIPE.
func TestClosedStdoutDoesNotKill(t *testing.T) {
	p := startProcess(t, "-print")
	p.stdout.Close() // as head does once it has read enough
	for _, v := range []string{"first", "second"} {
		if err := produce(t, p.settings, p.settings["password"], &kgo.Record{Topic: "app", Value: []byte(v)}); err != nil {
			t.Fatalf("produce %q with stdout closed: %v", v, err)
		}
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// The printer writes the queued logs before the process exits, so a
	// write to the closed pipe has happened by then.
	if err := p.wait(t); err != nil {
		t.Fatalf("emulator exited with %v after printing to a closed stdout, want status 0", err)
	}
}

// TestSecondInterruptStopsAtOnce checks that a second Ctrl-C ends the
// process when the graceful stop hangs, here on a printed log that a full
// pipe nobody reads cannot take.
func TestSecondInterruptStopsAtOnce(t *testing.T) {
	if signal.Ignored(os.Interrupt) {
		t.Skip("SIGINT is ignored in this process, and so in the child, which cannot die of it")
	}
	p := startProcess(t, "-print")
	big := strings.Repeat("x", 512<<10) // one printed line larger than a pipe buffer
	if err := produce(t, p.settings, p.settings["password"], &kgo.Record{Topic: "app", Value: []byte(big)}); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// Printed once the default action of the signal is restored.
	p.waitStderr(t, "interrupt again")
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := p.wait(t)
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("emulator exited with %v, want death by SIGINT", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Fatalf("emulator exited with %v, want death by SIGINT", err)
	}
}
