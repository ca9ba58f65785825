// Command sls-emulator runs the SLS Kafka endpoint emulator of package
// slstest as a standalone process, so that Kafka clients and agents that are
// not Go tests (Beats, Telegraf, collectd, Fluent Bit, kcat, …) can be tried
// against something that behaves like Simple Log Service's Kafka endpoint:
// SASL_SSL with mechanism PLAIN only, username = project, password =
// <AccessKeyId>#<AccessKeySecret>, Kafka protocol 2.1 for producers (2.2 for
// consumer groups), no idempotent producer, topics = logstores, shards =
// partitions, the topic <logstore>.json (or the record header
// data-parse-format: json) expanding a JSON object one level deep into
// fields, and consumers reading back what was written. Package slstest's
// documentation lists what is served and which behaviours are assumed
// rather than documented by SLS.
//
// Usage:
//
//	sls-emulator [flags]
//
// With no flags it listens on 127.0.0.1:10012 (the SLS public Kafka port),
// serves project "demo" with one logstore "app" of 2 shards, generates an
// AccessKey and a CA, writes the CA certificate to
// <user cache dir>/sls-emulator/ca.pem ($XDG_CACHE_HOME or ~/.cache on
// Linux, ~/Library/Caches on macOS) and prints the settings a client needs,
// including a kcat command line that can be pasted as is:
//
//	sls-emulator -print
//	echo '{"level":"info","msg":"hello"}' | kcat -b 127.0.0.1:10012 \
//	    -X security.protocol=sasl_ssl -X sasl.mechanisms=PLAIN \
//	    -X sasl.username=demo -X sasl.password='LTAI…#…' \
//	    -X ssl.ca.location=$HOME/.cache/sls-emulator/ca.pem -P -t app.json
//
// Flags:
//
//	-listen addr         listen address (default 127.0.0.1:10012; port 0 picks a free port)
//	-advertise host      host name clients are told to connect to and the
//	                     certificate is valid for (default: the listen host;
//	                     127.0.0.1 when listening on all interfaces, so set it
//	                     when clients run elsewhere, e.g. in containers)
//	-project name        SLS project, the SASL username (default demo)
//	-logstore name:N     a logstore with N shards; repeatable (default app:2)
//	-key id:secret       a valid AccessKey; repeatable; the first key is
//	                     printed as the password (default: generated)
//	-key-file path       valid AccessKeys, one id:secret per line; blank
//	                     lines and # comments are skipped
//	-auth-failure mode   where a refused AccessKey fails: at-produce (default;
//	                     SASL passes, requests get TOPIC_AUTHORIZATION_FAILED,
//	                     as SLS documents) or at-sasl
//	-ca-file path        where to write the CA certificate PEM
//	-ca-key path         keep the CA across runs: load the CA certificate and
//	                     private key from path, or generate them and save them
//	                     there (mode 0600)
//	-latency d           delay every produce response by d (e.g. 200ms)
//	-max-connections n   close connections beyond n open at once (default 1024)
//	-idle-timeout d      close authenticated connections idle for d (default 10m)
//	-print               print every stored log as one JSON line
//	-v                   print the emulator's diagnostics at debug level
//	-env                 serve in the background and print shell export
//	                     lines instead of the settings (see below)
//
// Keys can also come from the environment: SLS_EMULATOR_KEYS holds
// comma-separated id:secret pairs. -key-file and SLS_EMULATOR_KEYS keep the
// secret off the command line, where other local users can read it, and the
// settings printed at start then show "<the secret from -key-file>" in its
// place. Keys from -key come first, then -key-file, then SLS_EMULATOR_KEYS;
// an id given twice is refused.
//
// With -env the command starts the emulator as a background process in a
// session of its own, prints one export line per variable that
// producer.ConfigFromEnv and the examples read (SLS_PROJECT, SLS_ENDPOINT,
// SLS_LOGSTORE, ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET,
// SLS_CA_FILE, and SLS_EMULATOR_PID to stop it), shell-quoted, and exits,
// so that a shell can take them in one line:
//
//	eval "$(sls-emulator -listen 127.0.0.1:0 -env)"
//	go run ./examples/quickstart
//	kill $SLS_EMULATOR_PID
//
// It prints the secret even when it came from -key-file: the output is for
// eval. The background process's diagnostics go to a log file next to the
// CA file, named in a comment line of the output; if it cannot start (a
// port in use), the command prints why and exits 1, with nothing on stdout.
//
// Without -ca-key the CA is generated at every start, so clients that read
// it from -ca-file must be restarted with the emulator. Two emulators
// started with the same -ca-file overwrite each other's CA; give each its
// own path.
//
// The process stops on SIGINT or SIGTERM and exits 0; a second signal while
// it stops (a printed log still waiting for a full pipe, say) ends it at
// once. A closed stdout (sls-emulator -print | head) does not stop it: the
// logs it cannot print are dropped.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// Writing to a closed pipe then fails with EPIPE, which the printer
	// ignores, instead of killing the process with SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, func() {
		// Restore the default action, so that a second signal ends the
		// process if the graceful stop hangs.
		stop()
		// A signal's cause matches context.Canceled with errors.Is;
		// only stop (main returning) leaves context.Canceled itself.
		// Nobody reads a background (-env) process's log as it stops.
		if context.Cause(ctx) != context.Canceled && os.Getenv(detachedEnv) == "" {
			fmt.Fprintln(stderr, "sls-emulator: stopping; interrupt again to stop at once")
		}
	})
	err := run(ctx, os.Args[1:], os.Stdout)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return
	}
	stop()
	// Exit 2 for command-line mistakes, as the flag package does, and 1
	// for everything else.
	var u usageError
	if errors.As(err, &u) {
		if !u.shown {
			fmt.Fprintf(stderr, "sls-emulator: %v\nRun sls-emulator -h for usage.\n", err)
		}
		os.Exit(2)
	}
	fmt.Fprintln(stderr, "sls-emulator:", err)
	os.Exit(1)
}

// stderr receives usage text and the emulator's diagnostics; stdout (the
// writer handed to run) receives only the settings and, with -print, the
// logs, so that it can be piped into a JSON tool.
var stderr io.Writer = os.Stderr
