package main

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
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

// keyFlag collects -key id:secret flags.
type keyFlag []keySpec

type keySpec struct{ id, secret string }

// String never shows secrets: flag prints it in usage and error messages.
func (f *keyFlag) String() string {
	if f == nil {
		return ""
	}
	ids := make([]string, len(*f))
	for i, k := range *f {
		ids[i] = k.id + ":***"
	}
	return strings.Join(ids, ",")
}

func (f *keyFlag) Set(v string) error {
	id, secret, ok := strings.Cut(v, ":")
	if !ok || id == "" || secret == "" {
		return fmt.Errorf("want AccessKeyId:AccessKeySecret")
	}
	if strings.Contains(id, "#") || strings.Contains(secret, "#") {
		return fmt.Errorf("AccessKey %q: '#' separates id and secret in the SASL password and cannot be part of either", id)
	}
	if strings.IndexFunc(v, unicode.IsSpace) >= 0 {
		return fmt.Errorf("AccessKey %q: white space in an AccessKey id or secret; Alibaba Cloud keys never hold any", id)
	}
	*f = append(*f, keySpec{id: id, secret: secret})
	return nil
}
