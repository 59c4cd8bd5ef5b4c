#!/usr/bin/env bash
# Checks every relative link and heading anchor in README.md and docs/*.md
# (files that exist, headings that exist in them, in this file or another)
# with remark-validate-links, offline: links to http(s) addresses are not
# fetched. Pinned, installed through npm into .cache/npm-remark (gitignored;
# a prefix of its own, so that it and Redocly's .cache/npm do not prune each
# other). Fails, naming file:line, on the first run that finds a dead link.
set -euo pipefail

REMARK_CLI_VERSION=12.0.1
VALIDATE_LINKS_VERSION=13.1.0
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="$root/.cache/npm-remark"
bin="$prefix/node_modules/.bin/remark"
plugin="$prefix/node_modules/remark-validate-links"

installed() {
	node -p "require('$1/package.json').version" 2>/dev/null
}
if [[ ! -x "$bin" ]] ||
	[[ "$(installed "$prefix/node_modules/remark-cli")" != "$REMARK_CLI_VERSION" ]] ||
	[[ "$(installed "$plugin")" != "$VALIDATE_LINKS_VERSION" ]]; then
	mkdir -p "$prefix"
	npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error \
		"remark-cli@$REMARK_CLI_VERSION" "remark-validate-links@$VALIDATE_LINKS_VERSION" >&2
fi

cd "$root"
# --frail: a warning (a dead link) fails the run. repository:false: links
# are checked as files in this tree, whatever git remote there is (or none).
exec "$bin" --no-config --no-ignore --no-stdout --frail --quiet --no-color \
	--use "$plugin/index.js=repository:false" \
	README.md docs
