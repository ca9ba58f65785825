package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/slskafka/slskafka/auth"
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

type keySpec struct{ id, secret string }

// String never shows secrets: flag prints it in usage and error messages.
func (f *keyFlag) String() string {
	if f == nil {
		return ""
	}
	ids := make([]string, len(*f))
	for i, v := range *f {
		id, _, _ := strings.Cut(v, ":")
		ids[i] = id + ":***"
	}
	return strings.Join(ids, ",")
}

func (f *keyFlag) Set(v string) error {
	*f = append(*f, v)
	return nil
}

// parseKeys checks -key values. Its errors name the AccessKey id at most,
// never the secret.
func parseKeys(raw keyFlag) ([]keySpec, error) {
	keys := make([]keySpec, 0, len(raw))
	for _, v := range raw {
		id, secret, ok := strings.Cut(v, ":")
		if !ok || id == "" || secret == "" {
			// Without a colon the value may be the secret alone.
			return nil, fmt.Errorf("-key: want AccessKeyId:AccessKeySecret")
		}
		if err := (auth.Credential{AccessKeyID: id, AccessKeySecret: secret}).Validate(); err != nil {
			return nil, fmt.Errorf("-key %s: %w", id, err) // the id is not a secret, and tells -key flags apart
		}
		keys = append(keys, keySpec{id: id, secret: secret})
	}
	return keys, nil
}
