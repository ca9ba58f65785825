//go:build !unix

package spool

import "os"

// supported: the spool needs mmap and flock.
const supported = false

var pageSize int64 = 4096

func mapFile(*os.File, int64) ([]byte, error) { return nil, ErrUnsupported }
func unmap([]byte) error                      { return ErrUnsupported }
func msyncRange([]byte, int64, int64) error   { return ErrUnsupported }
func lockDir(*os.File) (bool, error)          { return false, ErrUnsupported }
func preallocate(*os.File, int64) error       { return ErrUnsupported }

func ownedByMe(os.FileInfo) bool { return false }

func populateWritable([]byte) error { return ErrUnsupported }

func statFree(string) int64 { return -1 }
