#!/usr/bin/env bash
# Lints api/openapi.yaml with Redocly CLI, pinned, installed through npm
# into .cache/npm (gitignored) so that no global install is needed. The
# Node.js on the machine is enough (Redocly CLI 2 needs >= 20.19).
set -euo pipefail

REDOCLY_VERSION=2.77.0
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$root/.cache/npm"
bin="$prefix/node_modules/.bin/redocly"

if [[ ! -x "$bin" ]] || [[ "$("$bin" --version 2>/dev/null)" != "$REDOCLY_VERSION" ]]; then
	mkdir -p "$prefix"
	npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error \
		"@redocly/cli@$REDOCLY_VERSION" >&2
fi

cd "$root"
exec "$bin" lint --config redocly.yaml api/openapi.yaml
