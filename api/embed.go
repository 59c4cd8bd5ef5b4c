// Package api embeds the OpenAPI description of the HTTP API, served at
// /openapi.yaml and checked against real responses by the HTTP adapter's
// tests.
package api

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document.
//
//go:embed openapi.yaml
var OpenAPI []byte
