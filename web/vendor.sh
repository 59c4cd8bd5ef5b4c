#!/usr/bin/env bash
# Fetches the pinned uPlot from npm and copies its standalone production
# build (and its licence) into static/vendor, where go:embed picks it up.
# Run it after changing UPLOT_VERSION, then commit static/vendor.
set -euo pipefail
UPLOT_VERSION=1.6.32
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "uplot@${UPLOT_VERSION}" >/dev/null && tar xzf "uplot-${UPLOT_VERSION}.tgz")
dest="$here/static/vendor"
mkdir -p "$dest"
cp "$tmp/package/dist/uPlot.iife.min.js" "$dest/uPlot.iife.min.js"
cp "$tmp/package/dist/uPlot.min.css" "$dest/uPlot.min.css"
cp "$tmp/package/LICENSE" "$dest/uPlot.LICENSE"
wc -c "$dest"/*
