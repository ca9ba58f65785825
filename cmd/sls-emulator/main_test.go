package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"go.uber.org/goleak"
)

// runMainEnv makes the test binary run main instead of the tests, so that
// a test can run the command as a process: signals and a closed stdout
// act on a process, not on a call of run.
const runMainEnv = "SLS_EMULATOR_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// emulator is a run started by a test.
type emulator struct {
	settings map[string]string // the "name: value" lines printed at start
	lines    chan string       // later output lines
	cancel   context.CancelFunc
	done     chan error
}

// startRun starts run with args on a free port and a CA file in a temporary
// directory, and reads the settings it prints.
func startRun(t *testing.T, args ...string) *emulator {
	t.Helper()
	stderr = io.Discard
	t.Cleanup(func() { stderr = os.Stderr })
	ctx, cancel := context.WithCancel(context.Background())
	e := &emulator{settings: map[string]string{}, lines: make(chan string), cancel: cancel, done: make(chan error, 1)}
	out, w := io.Pipe()
	args = append([]string{"-listen", "127.0.0.1:0", "-ca-file", filepath.Join(t.TempDir(), "ca.pem")}, args...)
	go func() {
		err := run(ctx, args, w)
		w.CloseWithError(err)
		e.done <- err
	}()
	go func() {
		defer close(e.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			e.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		e.cancel()
		for range e.lines {
		}
	})
	for {
		k, v, _ := strings.Cut(e.next(t), ": ")
		e.settings[k] = v
		if k == "kcat" {
			return e
		}
	}
}

// next returns the next output line.
func (e *emulator) next(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-e.lines:
		if !ok {
			t.Fatalf("output ended early; run returned %v", <-e.done)
		}
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no output within 10s")
	}
	return ""
}

// nextLog returns the next output line as a printed log.
func (e *emulator) nextLog(t *testing.T) printedLog {
	t.Helper()
	var l printedLog
	line := e.next(t)
	if err := json.Unmarshal([]byte(line), &l); err != nil {
		t.Fatalf("printed log %q is not JSON: %v", line, err)
	}
	return l
}

// stop cancels run and checks that it returns nil.
func (e *emulator) stop(t *testing.T) {
	t.Helper()
	e.cancel()
	select {
	case err := <-e.done:
		if err != nil {
			t.Fatalf("run returned %v after cancel, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10s of cancel")
	}
}

// produce produces recs with the printed settings and password pass.
func produce(t *testing.T, settings map[string]string, pass string, recs ...*kgo.Record) error {
	t.Helper()
	cl := client(t, settings, pass, kgo.RecordDeliveryTimeout(10*time.Second))
	defer cl.Close()
	return cl.ProduceSync(t.Context(), recs...).FirstErr()
}

// client builds a producer client with the printed settings and password
// pass.
func client(t *testing.T, settings map[string]string, pass string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	pem, err := os.ReadFile(settings["ca"])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("CA file %s holds no certificate", settings["ca"])
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(settings["bootstrap"]),
		kgo.DialTLSConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}),
		kgo.SASL(plain.Auth{User: settings["username"], Pass: pass}.AsMechanism()),
		kgo.MaxVersions(kversion.V2_1_0()),
		kgo.DisableIdempotentWrite(),
		kgo.RequiredAcks(kgo.LeaderAck()),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// TestRunServesPrintsAndStops starts the command on a free port, connects
// with the settings it prints, sees the produced log printed, and stops it.
func TestRunServesPrintsAndStops(t *testing.T) {
	e := startRun(t,
		"-project", "proj1",
		"-logstore", "app:3",
		"-logstore", "audit",
		"-logstore", "one:1",
		"-key", "LTAItestkey:testsecret",
		"-key", "LTAIsecond:secret2",
		"-print",
	)
	settings := e.settings
	if settings["username"] != "proj1" || settings["password"] != "LTAItestkey#testsecret" || !strings.HasSuffix(settings["ca"], "ca.pem") {
		t.Errorf("settings = %v", settings)
	}
	if strings.HasSuffix(settings["bootstrap"], ":0") || !strings.HasPrefix(settings["bootstrap"], "127.0.0.1:") {
		t.Errorf("bootstrap = %q, want the bound 127.0.0.1 address", settings["bootstrap"])
	}
	if settings["listen"] != settings["bootstrap"] {
		t.Errorf("listen = %q, want the bound address %q", settings["listen"], settings["bootstrap"])
	}
	if want := "app (3 shards), audit (2 shards), one (1 shard)"; settings["logstores"] != want {
		t.Errorf("logstores = %q, want %q", settings["logstores"], want)
	}
	for _, want := range []string{"-b " + settings["bootstrap"], "sasl.username=proj1", "sasl.password=LTAItestkey#testsecret", "ssl.ca.location=" + settings["ca"], "-t app"} {
		if !strings.Contains(settings["kcat"], want) {
			t.Errorf("kcat line %q lacks %q", settings["kcat"], want)
		}
	}

	// The first key is the one printed; later -key flags are valid too.
	for _, pass := range []string{settings["password"], "LTAIsecond#secret2"} {
		if err := produce(t, settings, pass, &kgo.Record{Topic: "app.json", Value: []byte(`{"msg":"hi","key":"` + pass[:10] + `"}`)}); err != nil {
			t.Fatalf("produce with password %q: %v", pass, err)
		}
		got := e.nextLog(t)
		if got.Logstore != "app" || got.Fields["msg"] != "hi" || got.Fields["key"] != pass[:10] || len(got.Fields) != 2 || got.Shard < 0 || got.Shard > 2 || got.Time.IsZero() {
			t.Errorf("printed log = %+v", got)
		}
	}
	e.stop(t)
}

// TestPrintedKcatCommandWorks runs the printed kcat command line through a
// shell, as a user pasting it would.
func TestPrintedKcatCommandWorks(t *testing.T) {
	if _, err := exec.LookPath("kcat"); err != nil {
		if ci := os.Getenv("CI"); ci != "" && ci != "0" && ci != "false" {
			t.Fatalf("kcat not found (%v) and CI=%s: install it (apt-get install -y kcat)", err, ci)
		}
		t.Skipf("kcat not found (%v); install it (apt-get install -y kcat) to run this test", err)
	}
	// The secret holds shell metacharacters, so the printed line must quote.
	e := startRun(t, "-print", "-key", "LTAIkcat:it's$(false)&;")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", e.settings["kcat"])
	cmd.Stdin = strings.NewReader("pasted line\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("printed kcat command failed: %v\n%s", err, out)
	}
	if got := e.nextLog(t); got.Logstore != "app" || got.Fields["content"] != "pasted line" {
		t.Errorf("printed log = %+v", got)
	}
	e.stop(t)
}

func TestRunRejectsBadFlags(t *testing.T) {
	stderr = io.Discard
	t.Cleanup(func() { stderr = os.Stderr })
	for _, args := range [][]string{
		{"-logstore", "app:0"},
		{"-logstore", "app:x"},
		{"-logstore", "app.json:2"},
		{"-logstore", "app", "-logstore", "app:3"},
		{"-key", "nosecret"},
		{"-key", "id:se#cret"},
		{"-key", "id:se cret"},
		{"-latency", "-1s"},
		{"-auth-failure", "later"},
		{"-max-connections", "0"},
		{"-idle-timeout", "0s"},
		{"-project", ""},
		{"-env", "-print"},
		{"extra"},
		{"-nosuchflag"},
	} {
		err := run(context.Background(), args, io.Discard)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("run %q = %v, want a usage error", args, err)
		}
	}
	if err := run(context.Background(), []string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run -h = %v, want flag.ErrHelp", err)
	}
}

// TestKeyErrorsHideSecret checks that a rejected -key value is reported by
// its id at most: the flag package prints a value its Set rejects, secret
// included.
func TestKeyErrorsHideSecret(t *testing.T) {
	var buf bytes.Buffer
	stderr = &buf
	t.Cleanup(func() { stderr = os.Stderr })
	for _, v := range []string{
		"LTAIid:SECRET#withhash",
		"LTAIid:SECRET with space",
		"LTAI#id:SECRETvalue",
		"SECRETwithoutid",
		":SECRETemptyid",
	} {
		buf.Reset()
		err := run(context.Background(), []string{"-key", v}, io.Discard)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("-key %q: run = %v, want a usage error", v, err)
			continue
		}
		// main prints the error unless the flag package has.
		if out := buf.String() + err.Error(); strings.Contains(out, "SECRET") {
			t.Errorf("-key %q: the error output shows the secret:\n%s", v, out)
		}
		// An id is named when it looks like one; other text before the
		// colon may be a secret typed with another separator.
		if id, _, _ := strings.Cut(v, ":"); strings.HasPrefix(id, "LTAI") && !strings.Contains(id, "#") && !strings.Contains(err.Error(), id) {
			t.Errorf("-key %q: error %q does not name the AccessKey id", v, err)
		}
	}
}

func TestRunFailsWhenAddressTaken(t *testing.T) {
	e := startRun(t)
	addr := e.settings["bootstrap"]
	err := run(context.Background(), []string{"-listen", addr, "-ca-file", filepath.Join(t.TempDir(), "ca2.pem")}, io.Discard)
	if err == nil {
		t.Fatalf("a second emulator on %s started", addr)
	}
	if !strings.Contains(err.Error(), "-listen 127.0.0.1:0") || !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name the address and suggest -listen 127.0.0.1:0", err)
	}
	e.stop(t)
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"demo":           "demo",
		"LTAI1#secret":   "LTAI1#secret",
		"/tmp/ca.pem":    "/tmp/ca.pem",
		"has space":      "'has space'",
		"it's":           `'it'\''s'`,
		"":               "''",
		"$(rm -rf)":      "'$(rm -rf)'",
		"C:/Temp/ca.pem": "C:/Temp/ca.pem",
		"#comment":       "'#comment'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestAuthFailureFlag checks both places a wrong key can fail: after a
// successful SASL login with TOPIC_AUTHORIZATION_FAILED (the default, as
// SLS documents), or at SASL.
func TestAuthFailureFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want error
	}{
		{nil, kerr.TopicAuthorizationFailed},
		{[]string{"-auth-failure", "at-produce"}, kerr.TopicAuthorizationFailed},
		{[]string{"-auth-failure", "at-sasl"}, kerr.SaslAuthenticationFailed},
	} {
		e := startRun(t, tc.args...)
		id, _, _ := strings.Cut(e.settings["password"], "#")
		// franz-go retries a failed SASL login until the delivery
		// timeout.
		cl := client(t, e.settings, id+"#wrong-secret", kgo.RecordDeliveryTimeout(time.Second))
		err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: "app", Value: []byte("x")}).FirstErr()
		cl.Close()
		if !errors.Is(err, tc.want) {
			t.Errorf("%v: produce with a wrong secret = %v, want %v", tc.args, err, tc.want)
		}
		e.stop(t)
	}
}

// TestCAKeyKeepsTheCA checks that -ca-key saves the CA on the first run,
// privately, and that a second run with it serves a certificate that a
// client trusting the first run's CA file accepts.
func TestCAKeyKeepsTheCA(t *testing.T) {
	dir := t.TempDir()
	caKey := filepath.Join(dir, "ca-key.pem")
	first := startRun(t, "-ca-key", caKey)
	pem1, err := os.ReadFile(first.settings["ca"])
	if err != nil {
		t.Fatal(err)
	}
	first.stop(t)
	if fi, err := os.Stat(caKey); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("-ca-key file: %v, mode %v; want it written with mode 0600", err, fi.Mode())
	}

	second := startRun(t, "-ca-key", caKey, "-key", "LTAIkeep:keepsecret")
	pem2, err := os.ReadFile(second.settings["ca"])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pem1, pem2) {
		t.Error("the second run wrote another CA certificate")
	}
	// The second run's CA file is a different path; trust the first's.
	settings := maps.Clone(second.settings)
	caFile := filepath.Join(dir, "first-ca.pem")
	if err := os.WriteFile(caFile, pem1, 0o600); err != nil {
		t.Fatal(err)
	}
	settings["ca"] = caFile
	if err := produce(t, settings, "LTAIkeep#keepsecret", &kgo.Record{Topic: "app", Value: []byte("x")}); err != nil {
		t.Errorf("a client trusting the first run's CA: %v", err)
	}
	second.stop(t)

	if err := os.WriteFile(caKey, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"-listen", "127.0.0.1:0", "-ca-key", caKey, "-ca-file", filepath.Join(dir, "x.pem")}, io.Discard); err == nil || !strings.Contains(err.Error(), "-ca-key") {
		t.Errorf("run with a broken -ca-key file = %v, want an error naming -ca-key", err)
	}
}

// TestDefaultCAFileIsPerUser checks that the CA certificate goes to the
// user's cache directory, in a directory only the user may write, not to a
// fixed name in /tmp that another local user could take first.
func TestDefaultCAFileIsPerUser(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_CACHE_HOME sets os.UserCacheDir on Linux only")
	}
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	e := startRun(t, "-ca-file", "") // empty: the default
	want := filepath.Join(cache, "sls-emulator", "ca.pem")
	if e.settings["ca"] != want {
		t.Errorf("ca = %q, want %q", e.settings["ca"], want)
	}
	if fi, err := os.Stat(filepath.Dir(want)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("CA directory: %v, mode %v; want 0700", err, fi.Mode())
	}
	if err := produce(t, e.settings, e.settings["password"], &kgo.Record{Topic: "app", Value: []byte("x")}); err != nil {
		t.Error(err)
	}
	e.stop(t)
}

// TestKeysFromFileAndEnvironment checks that AccessKeys can come from
// -key-file and $SLS_EMULATOR_KEYS, off the command line, after -key.
func TestKeysFromFileAndEnvironment(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(keyFile, []byte("# emulator keys\n\nLTAIfile1:filesecret1\n  LTAIfile2:filesecret2  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(keysEnv, "LTAIenv1:envsecret1, LTAIenv2:envsecret2")
	e := startRun(t, "-key-file", keyFile)
	// The file's first key, its secret not shown: reading it from a file
	// is how one keeps it off the screen.
	if got := e.settings["password"]; got != "LTAIfile1#<the secret from -key-file>" || strings.Contains(e.settings["kcat"], "filesecret") {
		t.Errorf("password = %q, kcat = %q: want the file's first key without its secret", got, e.settings["kcat"])
	}
	for _, pass := range []string{"LTAIfile1#filesecret1", "LTAIfile2#filesecret2", "LTAIenv1#envsecret1", "LTAIenv2#envsecret2"} {
		if err := produce(t, e.settings, pass, &kgo.Record{Topic: "app", Value: []byte("x")}); err != nil {
			t.Errorf("produce with %s: %v", pass[:8], err)
		}
	}
	e.stop(t)

	e = startRun(t, "-key", "LTAIflag:flagsecret", "-key-file", keyFile)
	if e.settings["password"] != "LTAIflag#flagsecret" {
		t.Errorf("password = %q, want the -key flag's", e.settings["password"])
	}
	e.stop(t)
}

// TestKeySourcesRejectBadKeys checks that a bad key in -key-file or
// $SLS_EMULATOR_KEYS is a usage error that names where it came from and
// its id at most, never its secret.
func TestKeySourcesRejectBadKeys(t *testing.T) {
	var buf bytes.Buffer
	stderr = &buf
	t.Cleanup(func() { stderr = os.Stderr })
	dir := t.TempDir()
	for _, tc := range []struct {
		name, file, env, want string
	}{
		{name: "file line without id", file: "LTAIok:oksecret\nSECRETalone\n", want: "line 2"},
		{name: "file secret with #", file: "LTAIbad:SECRET#hash\n", want: "LTAIbad"},
		{name: "empty file", file: "# nothing\n", want: "holds no AccessKey"},
		{name: "env without colon", env: "SECRETalone", want: keysEnv},
		{name: "env secret with space", env: "LTAIenv:SECRET with space", want: "LTAIenv"},
		{name: "file secret before a colon", file: "LTAIabc#SECRETfile:note\n", want: "line 1"},
		{name: "env secret before a colon", env: "LTAIabc SECRETenv # rotated: 2026", want: "not an AccessKey id"},
		{name: "id twice", file: "LTAIdup:fileSECRETone\n", env: "LTAIdup:envSECRETtwo", want: "LTAIdup is given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(keysEnv, tc.env)
			args := []string{"-listen", "127.0.0.1:0", "-ca-file", filepath.Join(dir, "ca.pem")}
			if tc.file != "" {
				path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-key-file", path)
			}
			buf.Reset()
			err := run(context.Background(), args, io.Discard)
			var u usageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run = %v, want a usage error naming %q", err, tc.want)
			}
			if out := buf.String() + err.Error(); strings.Contains(out, "SECRET") {
				t.Errorf("the error output shows the secret: %s", out)
			}
		})
	}
	if err := run(context.Background(), []string{"-key-file", filepath.Join(dir, "missing")}, io.Discard); err == nil {
		t.Error("a missing -key-file was accepted")
	}
}
