// Package oteltest holds the tests of the producer's OpenTelemetry metrics
// that need the OpenTelemetry SDK (a metric reader) and franz-go's kotel
// plugin. It is a module of its own so that neither reaches the module
// graph, or the go.sum, of the SDK's users.
package oteltest
