// Package compat tests producer/writersls with the loggers it is for,
// zerolog and logrus, and benchmarks it against zerolog writing to
// io.Discard. It is a module of its own so that neither logger becomes a
// requirement of the SDK's module.
package compat
