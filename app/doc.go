// Package app holds the use cases, one file each, named for what it does:
// ingesting ticks from a price source into the price store
// (ingest_ticks.go), buying stock (buy_stock.go), settling the orders an
// outage left pending (settle_orders.go), listing orders (list_orders.go),
// reading a stock's prices (get_prices.go), seeding users (seed_users.go),
// reconciling positions with the order ledger (reconcile.go), and minting
// and checking API tokens (tokens.go). Each takes the small
// ports it calls, orchestrates the domain, and refuses a nil dependency at
// construction; none speaks SQL, Redis, Kafka or HTTP. errors.go holds the
// errors they report beyond those of domain and ports.
package app
