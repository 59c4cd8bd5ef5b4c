// Package storetest holds one contract suite per store port. Every adapter
// of a port runs the same suite (memory in unit tests, Redis on one server
// and on a cluster, and PostgreSQL in integration tests), so the in-process
// fakes cannot drift from the real stores.
package storetest
