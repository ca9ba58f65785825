//go:build unix

package main

import (
	"os"
	"strconv"
	"syscall"
)

// detachedAttr puts the background emulator in a session of its own, so
// that the terminal's signals (Ctrl-C in a later command, hang-up) do not
// reach it: it runs until killed.
func detachedAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// keepInheritedFiles marks the descriptors above stderr that this process
// inherited close-on-exec. Go opens its own files so, but a descriptor the
// shell handed down (a pipe a caller reads to its end) would otherwise stay
// open in the background emulator for as long as it serves, and the caller
// would wait for it.
func keepInheritedFiles() {
	ents, err := os.ReadDir("/dev/fd")
	if err != nil {
		return // no /dev/fd: nothing to do that is portable
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
