// Package memory holds in-process adapters for every store port, which
// keep the same promises as the real adapters (the contract suites in
// adapters/storetest run against both), so that the service runs and is
// tested without any server; and the clocks: the system's, and a manual
// one for tests.
package memory
