#!/usr/bin/env bash
# Fetch the real recordings that the larger tests replay, without installing their packages:
#
#   full_flight_short.jsonl   57,793 real frames of AFR34ZG (tests/test_real_flight_beast.py)
#                             from the `traffic` 2.13 wheel on PyPI (MIT, X. Olive)
#
# into ${CHECKS_CACHE:-~/.cache/skyfuse-checks}/data (the folder ../shared/checks uses too).
# `traffic` itself is never installed (it pulls in ~1.2 GB): the wheel is downloaded with
# --no-deps and only the file is unzipped. Idempotent; exits 0 with a note when PyPI is out
# of reach (the test then skips and says why).
set -uo pipefail

DATA=${CHECKS_CACHE:-$HOME/.cache/skyfuse-checks}/data
WANT=full_flight_short.jsonl
if [ -f "$DATA/$WANT" ]; then
    echo "fetch-test-data: already there: $DATA/$WANT"
    exit 0
fi
PY=$(command -v python3)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$PY" -m pip download -q --no-deps -d "$tmp" "traffic==2.13" >/dev/null 2>&1; then
    echo "fetch-test-data: could not download traffic==2.13 from PyPI; the real-flight tests will skip"
    exit 0
fi
mkdir -p "$DATA"
"$PY" - "$tmp" "$DATA" "$WANT" <<'PY'
import pathlib, shutil, sys, zipfile
src, dst, want = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
for wheel in src.glob("traffic-*.whl"):
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith("/" + want))
        with z.open(name) as f, open(dst / (want + ".part"), "wb") as g:
            shutil.copyfileobj(f, g)
        (dst / (want + ".part")).rename(dst / want)
PY
echo "fetch-test-data: $DATA/$WANT"
