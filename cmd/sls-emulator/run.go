package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/slskafka/slskafka/slstest"
)

// options are the parsed command line.
type options struct {
	listen      string
	advertise   string
	project     string
	logstores   logstoreFlag
	keys        []keySpec
	authFailure authFailureFlag
	caFile      string
	caKey       string
	latency     time.Duration
	maxConns    int
	idle        time.Duration
	print       bool
	verbose     bool
	env         bool
}

// usageError marks a mistake on the command line. shown is set when the
// flag package has already printed it together with the usage text.
type usageError struct {
	error
	shown bool
}

func (e usageError) Unwrap() error { return e.error }

func parseFlags(args []string) (options, error) {
	var o options
	var keys keyFlag
	var keyFile string
	fs := flag.NewFlagSet("sls-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:10012", "listen `address`; port 0 picks a free port")
	fs.StringVar(&o.advertise, "advertise", "", "`host` clients are told to connect to, also put in the certificate (default: the listen host; 127.0.0.1 when listening on all interfaces)")
	fs.StringVar(&o.project, "project", "demo", "SLS project `name`, the SASL username")
	fs.Var(&o.logstores, "logstore", "logstore as `name:shards`; repeatable (default app:2)")
	fs.Var(&keys, "key", "valid AccessKey as `id:secret`; repeatable; the first is the one printed (its secret only if given with -key) (default: generated; see also -key-file and $"+keysEnv+")")
	fs.StringVar(&keyFile, "key-file", "", "read valid AccessKeys from `path`, one id:secret per line (# comments)")
	fs.Var(&o.authFailure, "auth-failure", "where a refused AccessKey fails: `at-produce` (SASL passes, requests get TOPIC_AUTHORIZATION_FAILED, as SLS documents) or at-sasl")
	fs.StringVar(&o.caFile, "ca-file", "", "`path` to write the CA certificate (PEM) to (default <user cache dir>/sls-emulator/ca.pem)")
	fs.StringVar(&o.caKey, "ca-key", "", "keep the CA across runs: load the CA certificate and key (PEM) from `path`, or generate and save them there")
	fs.DurationVar(&o.latency, "latency", 0, "delay every produce response by `duration`")
	fs.IntVar(&o.maxConns, "max-connections", 1024, "close connections beyond `n` open at once")
	fs.DurationVar(&o.idle, "idle-timeout", 10*time.Minute, "close an authenticated connection idle for `duration`")
	fs.BoolVar(&o.print, "print", false, "print every stored log as one JSON line")
	fs.BoolVar(&o.verbose, "v", false, "print the emulator's diagnostics at debug level")
	fs.BoolVar(&o.env, "env", false, "serve in the background and print export lines of SLS_PROJECT, SLS_ENDPOINT, SLS_LOGSTORE, ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET and SLS_CA_FILE, for eval \"$(sls-emulator -listen 127.0.0.1:0 -env)\"")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: sls-emulator [flags]\n\nRuns an emulator of the SLS Kafka endpoint (SASL_SSL, PLAIN) and prints client settings.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return o, err
		}
		return o, usageError{error: err, shown: true}
	}
	var err error
	if o.keys, err = parseKeys("-key", keys); err != nil {
		return o, usageError{error: err}
	}
	if keyFile != "" {
		fileKeys, err := readKeyFile(keyFile)
		if err != nil {
			return o, usageError{error: err}
		}
		for i := range fileKeys {
			fileKeys[i].from = "-key-file"
		}
		o.keys = append(o.keys, fileKeys...)
	}
	envKeys, err := keysFromEnv()
	if err != nil {
		return o, usageError{error: err}
	}
	for i := range envKeys {
		envKeys[i].from = "$" + keysEnv
	}
	o.keys = append(o.keys, envKeys...)
	seen := make(map[string]bool, len(o.keys))
	for _, k := range o.keys {
		if seen[k.id] {
			// The keyring keeps the last secret, while the printed
			// settings show the first: say so instead.
			return o, usageError{error: fmt.Errorf("AccessKey id %s is given twice (-key, -key-file, $%s): give each id once", k.id, keysEnv)}
		}
		seen[k.id] = true
	}
	if fs.NArg() > 0 {
		return o, usageError{error: fmt.Errorf("unexpected argument %q; every setting is a flag", fs.Arg(0))}
	}
	if o.project == "" {
		return o, usageError{error: fmt.Errorf("-project must not be empty")}
	}
	if o.env && o.print {
		// Both would write to stdout, which -env closes once the
		// variables are printed.
		return o, usageError{error: fmt.Errorf("-env and -print do not go together: -env prints only the variables")}
	}
	if o.latency < 0 {
		return o, usageError{error: fmt.Errorf("-latency must not be negative")}
	}
	if o.maxConns < 1 {
		return o, usageError{error: fmt.Errorf("-max-connections must be at least 1")}
	}
	if o.idle <= 0 {
		return o, usageError{error: fmt.Errorf("-idle-timeout must be positive")}
	}
	if o.caFile == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return o, usageError{error: fmt.Errorf("no user cache directory for the CA file (%w); give -ca-file", err)}
		}
		o.caFile = filepath.Join(dir, "sls-emulator", "ca.pem")
	}
	if len(o.logstores) == 0 {
		o.logstores = logstoreFlag{{name: "app", shards: 2}}
	}
	return o, nil
}

// run starts the emulator as the command line asks, prints the client
// settings to stdout, and serves until ctx is done. It returns nil after a
// clean shutdown.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	if o.env && os.Getenv(detachedEnv) == "" {
		return startDetached(ctx, args, o, stdout)
	}

	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	cfg := slstest.Config{
		Project:        o.project,
		Logstores:      make(map[string]int, len(o.logstores)),
		Addr:           o.listen,
		AdvertisedHost: o.advertise,
		AuthFailure:    o.authFailure.mode,
		Latency:        o.latency,
		MaxConnections: o.maxConns,
		IdleTimeout:    o.idle,
		Logger:         slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	}
	saveCA := false
	if o.caKey != "" {
		ca, err := loadCA(o.caKey)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			saveCA = true
		case err != nil:
			return err
		default:
			cfg.CA = &ca
		}
	}
	for _, ls := range o.logstores {
		cfg.Logstores[ls.name] = ls.shards
	}
	if len(o.keys) > 0 {
		cfg.AccessKeyID, cfg.AccessKeySecret = o.keys[0].id, o.keys[0].secret
	}

	var p *printer
	if o.print {
		p = newPrinter(stdout)
		cfg.OnLog = p.onLog
	}

	s, err := slstest.Start(cfg)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w: another process (an sls-emulator started earlier?) has that port; stop it, or let the system pick a free port with -listen 127.0.0.1:0", err)
	}
	if err != nil {
		return err
	}
	for _, k := range o.keys[min(1, len(o.keys)):] {
		s.AddKey(k.id, k.secret)
	}

	if saveCA {
		err = saveCAKey(o.caKey, s.CA())
	}
	if err == nil {
		err = writeFileAtomic(o.caFile, s.CACertPEM(), 0o644)
	}
	switch {
	case err != nil:
	case o.env:
		err = printEnv(stdout, s, o, os.Getenv(detachedEnv))
		fmt.Fprintf(stderr, "sls-emulator: serving project %s on %s (pid %d)\n", s.Project(), s.Endpoint(), os.Getpid())
	default:
		err = printSettings(stdout, s, o)
	}
	if p != nil {
		// Only now, so that no log line comes before the settings.
		p.start()
	}
	if err == nil {
		<-ctx.Done()
	}

	closeErr := s.Close()
	if p != nil {
		// Close returned, so OnLog is no longer called: drain what is
		// queued, then stop the printer.
		p.close()
	}
	if err != nil {
		return err
	}
	if closeErr != nil {
		return fmt.Errorf("stop emulator: %w", closeErr)
	}
	st := s.Stats()
	fmt.Fprintf(stderr, "sls-emulator: stopped after %d connections, %d authentications (%d refused), %d logs stored\n",
		st.Connections, st.Authentications, st.AuthFailures, st.Records)
	return nil
}

// printSettings prints what a client needs to connect, in "name: value"
// lines that are easy to read and to parse, then a kcat command line.
func printSettings(w io.Writer, s *slstest.Server, o options) error {
	cred, err := s.Credentials().Credential(context.Background())
	if err != nil {
		return err
	}
	password := cred.Password()
	if len(o.keys) > 0 && o.keys[0].from != "" {
		// Read from a file or the environment to keep it off screens and
		// command lines: a pasteable line would put it back.
		password = cred.AccessKeyID + "#<the secret from " + o.keys[0].from + ">"
	}
	names := make([]string, 0, len(o.logstores))
	for _, ls := range o.logstores {
		names = append(names, ls.name+" ("+shardCount(ls.shards)+")")
	}
	slices.Sort(names)
	caFile, err := filepath.Abs(o.caFile)
	if err != nil {
		caFile = o.caFile
	}
	topic := o.logstores[0].name
	var b strings.Builder
	listen := o.listen
	if host, _, err := net.SplitHostPort(o.listen); err == nil {
		listen = net.JoinHostPort(host, strconv.Itoa(s.Endpoint().Port))
	}
	fmt.Fprintf(&b, "SLS Kafka endpoint emulator\n")
	fmt.Fprintf(&b, "listen: %s\n", listen)
	fmt.Fprintf(&b, "bootstrap: %s\n", s.Endpoint())
	fmt.Fprintf(&b, "security.protocol: SASL_SSL\n")
	fmt.Fprintf(&b, "sasl.mechanism: PLAIN\n")
	fmt.Fprintf(&b, "username: %s\n", s.Project())
	fmt.Fprintf(&b, "password: %s\n", password)
	fmt.Fprintf(&b, "ca: %s\n", caFile)
	fmt.Fprintf(&b, "logstores: %s\n", strings.Join(names, ", "))
	fmt.Fprintf(&b, "topics: <logstore> stores the value in field content; <logstore>.json expands a JSON object into fields\n")
	fmt.Fprintf(&b, "kcat: kcat -b %s -X security.protocol=sasl_ssl -X sasl.mechanisms=PLAIN -X sasl.username=%s -X sasl.password=%s -X ssl.ca.location=%s -P -t %s\n",
		s.Endpoint(), shellQuote(s.Project()), shellQuote(password), shellQuote(caFile), shellQuote(topic))
	_, err = io.WriteString(w, b.String())
	return err
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe
// characters. '#' is safe inside a word (SLS passwords hold one) but starts
// a comment at the beginning of one.
func shellQuote(s string) string {
	safe := s != "" && s[0] != '#'
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("#@%+=:,./_-", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeFileAtomic writes data to path through a temporary file and a
// rename, so that a client reading the CA while the emulator starts never
// sees half a certificate. Missing directories are created for the user
// alone.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, ".sls-emulator-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// printer writes stored logs as JSON lines. The emulator calls OnLog from
// the goroutine serving a connection, one call at a time for all
// connections, so it must not wait on a slow terminal or pipe: lines are
// queued and written by one goroutine. Lines queue up until start, so that
// none is written before the settings.
type printer struct {
	w     io.Writer
	lines chan []byte
	done  chan struct{}
}

// printedLog is the JSON form of one printed log.
type printedLog struct {
	Time     time.Time         `json:"time"`
	Logstore string            `json:"logstore"`
	Shard    int               `json:"shard"`
	Offset   int64             `json:"offset"`
	Fields   map[string]string `json:"fields"`
}

func newPrinter(w io.Writer) *printer {
	return &printer{w: w, lines: make(chan []byte, 4096), done: make(chan struct{})}
}

// start starts writing queued lines. It must be called once, before the
// emulator is closed: until then a full queue blocks OnLog.
func (p *printer) start() {
	go func() {
		defer close(p.done)
		for line := range p.lines {
			// A failed write (closed pipe; main ignores SIGPIPE) is
			// not a reason to stop the emulator; keep draining so
			// OnLog never blocks for good.
			p.w.Write(line)
		}
	}()
}

func (p *printer) onLog(logstore string, l slstest.Log) {
	line, err := json.Marshal(printedLog{Time: l.Time, Logstore: logstore, Shard: l.Shard, Offset: l.Offset, Fields: l.Fields})
	if err != nil {
		return
	}
	// A full queue applies back-pressure to the producing clients rather
	// than dropping lines: -print is for watching every log.
	p.lines <- append(line, '\n')
}

// close writes what is queued and stops; OnLog must not be called after.
func (p *printer) close() {
	close(p.lines)
	<-p.done
}

// shardCount says "1 shard" or "n shards".
func shardCount(n int) string {
	if n == 1 {
		return "1 shard"
	}
	return strconv.Itoa(n) + " shards"
}
