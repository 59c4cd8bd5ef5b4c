// Package memory holds in-process adapters for every store port, and the
// clocks (the system's, and a manual one for tests). They keep
// the same promises as the real adapters (the contract suites in
// adapters/storetest run against both), so the service runs and is tested
// without any server.
package memory
