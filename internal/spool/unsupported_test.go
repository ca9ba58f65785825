//go:build !unix

package spool

import (
	"errors"
	"testing"
)

func TestUnsupported(t *testing.T) {
	if _, err := Open(Options{Dir: t.TempDir()}); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Open: %v, want ErrUnsupported", err)
	}
}
