package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/slskafka/slskafka/slstest"
)

// detachedEnv marks the background process that -env starts, which serves
// while the one started by the shell prints the variables and exits. Its
// value is the path of the log file that the background process's stderr
// goes to.
const detachedEnv = "SLS_EMULATOR_DETACHED"

// envTrailer ends what -env prints, so that the starting process can tell a
// complete block from one cut short by the background process dying.
const envTrailer = "# stop it with: kill $SLS_EMULATOR_PID\n"

// startDetached runs the emulator in a background process of its own session
// with the same command line, copies the variables it prints to stdout, and
// returns without waiting for it: `eval "$(sls-emulator -env)"` reads the
// command's output until every writer of the pipe has closed it, so the
// process that serves cannot be the one the shell waits for. The background
// process's diagnostics go to a log file next to the CA file.
func startDetached(ctx context.Context, args []string, o options, stdout io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("-env: find this program to start it in the background: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(o.caFile), 0o700); err != nil {
		return fmt.Errorf("-env: %w", err)
	}
	logFile, err := os.CreateTemp(filepath.Dir(o.caFile), "sls-emulator-*.log")
	if err != nil {
		return fmt.Errorf("-env: create the log file: %w", err)
	}
	defer logFile.Close()
	outR, outW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("-env: %w", err)
	}
	defer outR.Close()

	keepInheritedFiles()
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), detachedEnv+"="+logFile.Name())
	cmd.Stdout, cmd.Stderr = outW, logFile
	cmd.SysProcAttr = detachedAttr()
	err = cmd.Start()
	outW.Close()
	if err != nil {
		return fmt.Errorf("-env: start the emulator in the background: %w", err)
	}

	read := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(outR) // until the background process closes its stdout or exits
		read <- b
	}()
	var out []byte
	select {
	case out = <-read:
	case <-ctx.Done():
		cmd.Process.Kill()
		cmd.Wait()
		<-read
		return fmt.Errorf("-env: interrupted before the emulator started: %w", context.Cause(ctx))
	}
	if bytes.HasSuffix(out, []byte(envTrailer)) {
		// It serves on; it is no longer ours to wait for.
		cmd.Process.Release()
		_, err := stdout.Write(out)
		return err
	}
	// It exited before it was ready: its last diagnostic says why (a port
	// in use, a bad CA key).
	cmd.Wait()
	logged, _ := os.ReadFile(logFile.Name())
	os.Remove(logFile.Name())
	msg := strings.TrimSpace(string(logged))
	if i := strings.LastIndex(msg, "sls-emulator: "); i >= 0 {
		msg = msg[i+len("sls-emulator: "):]
	}
	if msg == "" {
		msg = "it exited without a word"
	}
	return errors.New(msg)
}

// printEnv prints the variables that producer.ConfigFromEnv and the
// examples read, as shell export lines for eval, then closes stdout so that
// the shell's command substitution ends while the emulator serves on. Unlike
// the settings, it shows the secret even when it came from -key-file or the
// environment: its output is meant for eval, not for a screen.
func printEnv(w io.Writer, s *slstest.Server, o options, logPath string) error {
	cred, err := s.Credentials().Credential(context.Background())
	if err != nil {
		return err
	}
	caFile, err := filepath.Abs(o.caFile)
	if err != nil {
		caFile = o.caFile
	}
	pid := strconv.Itoa(os.Getpid())
	var b strings.Builder
	for _, kv := range [][2]string{
		{"SLS_PROJECT", s.Project()},
		{"SLS_ENDPOINT", s.Endpoint().String()},
		{"SLS_LOGSTORE", o.logstores[0].name},
		{"ALIBABA_CLOUD_ACCESS_KEY_ID", cred.AccessKeyID},
		{"ALIBABA_CLOUD_ACCESS_KEY_SECRET", cred.AccessKeySecret},
		{"SLS_CA_FILE", caFile},
		{"SLS_EMULATOR_PID", pid},
	} {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	// A token left from an STS session would turn the emulator's AccessKey
	// into an STS credential, and a region would not matter with an
	// endpoint set; only the token needs to go.
	b.WriteString("unset ALIBABA_CLOUD_SECURITY_TOKEN\n")
	fmt.Fprintf(&b, "# sls-emulator serves project %s on %s in the background (pid %s; its log: %s)\n", shellQuote(s.Project()), s.Endpoint(), pid, logPath)
	b.WriteString(envTrailer)
	_, err = io.WriteString(w, b.String())
	if c, ok := w.(io.Closer); ok {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
