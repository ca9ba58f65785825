//go:build !unix

package main

import "syscall"

// detachedAttr starts the background emulator as any child: without Unix
// sessions it ends with the console that started it.
func detachedAttr() *syscall.SysProcAttr { return nil }

// keepInheritedFiles has nothing to do where descriptors are not inherited
// by default.
func keepInheritedFiles() {}
