//go:build unix && !linux

package spool

import (
	"os"

	"golang.org/x/sys/unix"
)

func fallocate(*os.File, int64) error { return unix.EOPNOTSUPP }

func populateWritable([]byte) error { return unix.EOPNOTSUPP }
