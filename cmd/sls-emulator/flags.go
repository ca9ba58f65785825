package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/slskafka/slskafka/auth"
	"github.com/slskafka/slskafka/slstest"
)

// logstoreFlag collects -logstore name:shards flags.
type logstoreFlag []logstoreSpec

type logstoreSpec struct {
	name   string
	shards int
}

func (f *logstoreFlag) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(*f))
	for i, ls := range *f {
		parts[i] = ls.name + ":" + strconv.Itoa(ls.shards)
	}
	return strings.Join(parts, ",")
}

func (f *logstoreFlag) Set(v string) error {
	name, shards, ok := strings.Cut(v, ":")
	if name == "" {
		return fmt.Errorf("want name:shards, got %q", v)
	}
	if strings.HasSuffix(name, ".json") {
		return fmt.Errorf("logstore %q: leave out .json; topic <logstore>.json is served for every logstore", name)
	}
	n := 2 // the shard count SLS gives a new logstore
	if ok {
		var err error
		n, err = strconv.Atoi(shards)
		if err != nil || n < 1 {
			return fmt.Errorf("logstore %q: shards must be a positive number, got %q", name, shards)
		}
	}
	for _, ls := range *f {
		if ls.name == name {
			return fmt.Errorf("logstore %q given twice", name)
		}
	}
	*f = append(*f, logstoreSpec{name: name, shards: n})
	return nil
}

// keyFlag collects the raw values of -key id:secret flags. Set accepts any
// value and parseKeys checks them after flag parsing: the flag package
// prints a value that Set rejects, secret included, to stderr.
type keyFlag []string

// keySpec is a valid AccessKey; from says where its secret came from when
// that was a file or the environment, whose point is to keep the secret out
// of sight: the settings printed then do not show it.
type keySpec struct{ id, secret, from string }

// String never shows secrets: flag prints it in usage and error messages.
func (f *keyFlag) String() string {
	if f == nil {
		return ""
	}
	ids := make([]string, len(*f))
	for i, v := range *f {
		id, _, _ := strings.Cut(v, ":")
		ids[i] = shownID(id) + ":***"
	}
	return strings.Join(ids, ",")
}

func (f *keyFlag) Set(v string) error {
	*f = append(*f, v)
	return nil
}

// parseKeys checks id:secret values that came from where (-key, a line of
// -key-file, $SLS_EMULATOR_KEYS). Its errors name the AccessKey id at
// most, never the secret.
func parseKeys(where string, raw []string) ([]keySpec, error) {
	keys := make([]keySpec, 0, len(raw))
	for _, v := range raw {
		id, secret, ok := strings.Cut(v, ":")
		if !ok || id == "" || secret == "" {
			// Without a colon the value may be the secret alone.
			return nil, fmt.Errorf("%s: want AccessKeyId:AccessKeySecret", where)
		}
		if err := (auth.Credential{AccessKeyID: id, AccessKeySecret: secret}).Validate(); err != nil {
			return nil, fmt.Errorf("%s %s: %w", where, shownID(id), err)
		}
		keys = append(keys, keySpec{id: id, secret: secret})
	}
	return keys, nil
}

// shownID is an AccessKey id as errors may show it: the id, which tells keys
// apart and is not a secret, if it looks like one; otherwise the text before
// the first colon may hold the secret (a value typed with another
// separator), and only its length is shown.
func shownID(id string) string {
	if id != "" && len(id) <= 64 && !strings.ContainsFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	}) {
		return id
	}
	return fmt.Sprintf("(an id of %d characters that is not an AccessKey id)", len(id))
}

// keysEnv names the environment variable that holds AccessKeys for the
// emulator, comma-separated id:secret pairs, so that a secret need not sit
// on the command line, where every local user can read it (ps).
const keysEnv = "SLS_EMULATOR_KEYS"

// readKeyFile reads AccessKeys from a file: one id:secret per line; blank
// lines and lines starting with # are skipped.
func readKeyFile(path string) ([]keySpec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-key-file: %w", err)
	}
	var keys []keySpec
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := parseKeys(fmt.Sprintf("-key-file %s line %d", path, i+1), []string{line})
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("-key-file %s holds no AccessKey; write one id:secret per line", path)
	}
	return keys, nil
}

// keysFromEnv reads AccessKeys from $SLS_EMULATOR_KEYS, if set.
func keysFromEnv() ([]keySpec, error) {
	v := strings.TrimSpace(os.Getenv(keysEnv))
	if v == "" {
		return nil, nil
	}
	var raw []string
	for _, kv := range strings.Split(v, ",") {
		raw = append(raw, strings.TrimSpace(kv))
	}
	return parseKeys("$"+keysEnv, raw)
}

// authFailureFlag is the -auth-failure flag.
type authFailureFlag struct{ mode slstest.AuthFailure }

func (f *authFailureFlag) String() string {
	if f == nil || f.mode == slstest.AtProduce {
		return "at-produce"
	}
	return "at-sasl"
}

func (f *authFailureFlag) Set(v string) error {
	switch v {
	case "at-produce":
		f.mode = slstest.AtProduce
	case "at-sasl":
		f.mode = slstest.AtSASL
	default:
		return fmt.Errorf("want at-produce or at-sasl")
	}
	return nil
}
