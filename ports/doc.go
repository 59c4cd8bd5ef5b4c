// Package ports holds the interfaces between the use cases and the outside
// world, one file each, and the errors they speak: where ticks come from
// (PriceSource, and TickScanner for the producer), where prices, credit,
// orders, idempotency records and tokens are kept (the stores, whole, as
// the contract suites in adapters/storetest test them), the small slices
// of them that single use cases call (PriceMerger, OrderLister,
// CreditSetter), and the clock. Adapters implement them; mocks generated
// by mockgen are in portsmock, for the ports a test needs a scripted
// failure of (Debiter, OrderRepository). Nothing else lives here.
package ports
