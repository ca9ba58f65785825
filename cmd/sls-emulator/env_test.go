//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slskafka/slskafka/producer"
)

// envVars are the variables -env must export: what producer.ConfigFromEnv
// and the examples read.
var envVars = []string{"SLS_PROJECT", "SLS_ENDPOINT", "SLS_LOGSTORE", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "SLS_CA_FILE"}

// evalEnv runs `eval "$(sls-emulator -env args...)"` in a shell, as the
// README does, and returns what the command printed and the shell's
// environment after the eval. The emulator it leaves in the background is
// killed, by its pid, when the test ends.
func evalEnv(t *testing.T, args ...string) (printed string, env map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // bounds a hang only
	defer cancel()
	printedFile := filepath.Join(t.TempDir(), "printed")
	script := `out=$("$0" "$@") || exit; printf '%s\n' "$out" >"$PRINTED"; eval "$out"; env`
	args = append([]string{"-listen", "127.0.0.1:0", "-ca-file", filepath.Join(t.TempDir(), "ca.pem"), "-env"}, args...)
	cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", script, os.Args[0]}, args...)...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "ALIBABA_CLOUD_SECURITY_TOKEN=left-over", "PRINTED="+printedFile)
	// A descriptor the shell hands down, as a caller's pipe would be: the
	// background emulator must not hold it open.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd.ExtraFiles = []*os.File{w}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	w.Close()
	if err != nil {
		t.Fatalf("eval \"$(sls-emulator -env)\": %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(printedFile)
	if err != nil {
		t.Fatal(err)
	}
	printed = string(b)
	env = map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	pid, err := strconv.Atoi(env["SLS_EMULATOR_PID"])
	if err != nil {
		t.Fatalf("SLS_EMULATOR_PID = %q after the eval: %v\nprinted:\n%s", env["SLS_EMULATOR_PID"], err, printed)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	held := make(chan struct{})
	go func() {
		defer close(held)
		r.Read(make([]byte, 1)) // EOF once nothing holds the pipe's write end
	}()
	select {
	case <-held:
	case <-ctx.Done():
		t.Error("the background emulator holds a descriptor its caller handed down")
	}
	return printed, env
}

// TestEnvEvalThenConfigFromEnv is the README's line: eval the command's
// output in a shell, then a producer configured by ConfigFromEnv alone ships
// to the emulator process.
func TestEnvEvalThenConfigFromEnv(t *testing.T) {
	printed, env := evalEnv(t, "-project", "evalproj", "-logstore", "orders:3", "-key", "LTAIevalkey:it's$(false)")
	lines := strings.Split(strings.TrimSuffix(printed, "\n"), "\n")
	for _, k := range envVars {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "export "+k+"=") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d lines export %s, want 1; printed:\n%s", n, k, printed)
		}
	}
	if env["SLS_PROJECT"] != "evalproj" || env["SLS_LOGSTORE"] != "orders" || !strings.HasPrefix(env["SLS_ENDPOINT"], "127.0.0.1:") ||
		env["ALIBABA_CLOUD_ACCESS_KEY_ID"] != "LTAIevalkey" || env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] != "it's$(false)" {
		t.Errorf("environment after eval: %v", env)
	}
	if _, ok := env["ALIBABA_CLOUD_SECURITY_TOKEN"]; ok {
		t.Error("a left-over ALIBABA_CLOUD_SECURITY_TOKEN survived the eval; it would make the emulator's key an STS credential")
	}
	if _, err := os.Stat(env["SLS_CA_FILE"]); err != nil {
		t.Errorf("SLS_CA_FILE: %v", err)
	}

	for _, k := range envVars {
		t.Setenv(k, env[k])
	}
	t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "")
	os.Unsetenv("ALIBABA_CLOUD_SECURITY_TOKEN")
	cfg, err := producer.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	p, err := producer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // bounds a hang only
	defer cancel()
	if err := p.Ping(ctx, env["SLS_LOGSTORE"]); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := p.LogSync(ctx, env["SLS_LOGSTORE"], producer.Record{Fields: []producer.Field{{Key: "msg", Value: "from eval"}}}); err != nil {
		t.Fatalf("LogSync to the emulator process: %v", err)
	}
	if st := p.Stats(); st.Delivered != 1 {
		t.Errorf("Stats = %+v, want 1 delivered", st)
	}
}

// A taken port fails the command itself (not only the background process it
// starts), with a message that suggests a free port.
func TestEnvPortTaken(t *testing.T) {
	e := startRun(t)
	addr := e.settings["bootstrap"]
	cmd := exec.Command(os.Args[0], "-listen", addr, "-ca-file", filepath.Join(t.TempDir(), "ca.pem"), "-env")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("sls-emulator -env on a taken port: %v, want exit status 1; stderr:\n%s", err, stderr.String())
	}
	if stdout.Len() > 0 {
		t.Errorf("printed %q on stdout, want nothing for eval to run", stdout.String())
	}
	if msg := stderr.String(); !strings.Contains(msg, "-listen 127.0.0.1:0") || !strings.Contains(msg, addr) {
		t.Errorf("stderr %q does not name the address and suggest -listen 127.0.0.1:0", msg)
	}
	e.stop(t)
}
