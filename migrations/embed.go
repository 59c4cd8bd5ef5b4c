// Package migrations embeds the goose SQL migrations of the orders
// database, so the binary carries its own schema.
package migrations

import "embed"

// FS holds every migration, applied in the order of their numbers.
//
//go:embed *.sql
var FS embed.FS
