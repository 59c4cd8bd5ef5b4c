#!/usr/bin/env bash
# Fetches the pinned uPlot and Swagger UI from npm and copies their
# standalone production builds (and their licences) into static/vendor,
# where go:embed picks them up. Run it after changing a version, then
# commit static/vendor.
set -euo pipefail
UPLOT_VERSION=1.6.32
SWAGGER_UI_VERSION=5.35.0
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
dest="$here/static/vendor"
mkdir -p "$dest"

mkdir "$tmp/uplot"
(cd "$tmp/uplot" && npm pack --silent "uplot@${UPLOT_VERSION}" >/dev/null && tar xzf "uplot-${UPLOT_VERSION}.tgz")
cp "$tmp/uplot/package/dist/uPlot.iife.min.js" "$dest/uPlot.iife.min.js"
cp "$tmp/uplot/package/dist/uPlot.min.css" "$dest/uPlot.min.css"
cp "$tmp/uplot/package/LICENSE" "$dest/uPlot.LICENSE"

# Swagger UI renders api/openapi.yaml at /docs. Only the bundle (which
# holds React and the rest) and the stylesheet are needed; the
# sourceMappingURL lines are dropped, since the maps are not shipped.
mkdir "$tmp/swagger"
(cd "$tmp/swagger" && npm pack --silent "swagger-ui-dist@${SWAGGER_UI_VERSION}" >/dev/null && tar xzf "swagger-ui-dist-${SWAGGER_UI_VERSION}.tgz")
grep -v '^//# sourceMappingURL=' "$tmp/swagger/package/swagger-ui-bundle.js" > "$dest/swagger-ui-bundle.js"
grep -v '^/\*# sourceMappingURL=' "$tmp/swagger/package/swagger-ui.css" > "$dest/swagger-ui.css"
cat "$tmp/swagger/package/LICENSE" "$tmp/swagger/package/NOTICE" "$tmp/swagger/package/swagger-ui-bundle.js.LICENSE.txt" > "$dest/swagger-ui.LICENSE"
wc -c "$dest"/*
