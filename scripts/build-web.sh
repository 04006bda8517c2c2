#!/usr/bin/env bash
# Rebuild the web map's static files (src/skyfuse/web/static/) from web/ — reproducibly:
# `npm ci` installs exactly the versions pinned in web/package-lock.json (offline from the
# npm cache when the packages were fetched once: pass --offline), then web/build.mjs
# bundles with esbuild and converts the basemap. The built files are committed, so a plain
# `pip install` needs no npm; run this after changing anything under web/.
#
#   scripts/build-web.sh            # network allowed (npm registry) when not cached
#   scripts/build-web.sh --offline  # only the local npm cache
set -euo pipefail
cd "$(dirname "$0")/../web"
command -v npm >/dev/null || { echo "build-web: npm (Node.js >= 18) is required" >&2; exit 1; }
mode=(--prefer-offline)
[[ "${1:-}" == "--offline" ]] && mode=(--offline)
npm ci "${mode[@]}" --no-audit --no-fund --loglevel=error
node build.mjs
