#!/usr/bin/env bash
# Build the documentation site strictly and test every page in a real headless Chromium.
#
#   .ci/docs.sh
#
# Installs what it needs: the package's `docs` extra (pip; it alone builds the site) and Debian's
# chromium and chromium-driver (apt). The build code lives in docs_build/ (not installed). The comparison experiments (`adamproofs compare --quick`) run in the
# background while chromium installs. The conformance matrix is read from build/conformance/
# (run .ci/matrix.sh first) or $ADAMPROOFS_MATRIX_DIR; without it the page says so.
# Leaves the site in site/ and screenshots in artifacts/screenshots/. Budget: < 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
step() { echo "== docs [$((SECONDS - start))s] $*"; }
PY="${PYTHON:-python}"

step "installing the docs extra (pip): the site toolchain, the build's libraries, websocket-client"
"$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore -e ".[docs]"

cache=artifacts/docs-cache
mkdir -p "$cache"
if [ -z "${ADAMPROOFS_COMPARE_DIR:-}" ]; then
  step "starting adamproofs compare --quick in the background (log: $cache/compare.log)"
  rm -rf "$cache/compare"
  "$PY" -m adamproofs compare --quick --out "$cache/compare" >"$cache/compare.log" 2>&1 &
  compare_pid=$!
fi

if ! command -v chromium >/dev/null 2>&1; then
  step "installing chromium (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi
chromium --version 2>/dev/null || true

if [ -n "${compare_pid:-}" ]; then
  step "waiting for the comparison experiments"
  if ! wait "$compare_pid"; then
    echo "adamproofs compare --quick failed; the end of its log:" >&2
    tail -n 40 "$cache/compare.log" >&2
    exit 1
  fi
  export ADAMPROOFS_COMPARE_DIR="$PWD/$cache/compare"
fi

step "mkdocs build --strict"
export NO_MKDOCS_2_WARNING=1
"$PY" -m mkdocs build --strict --site-dir site

step "browser test (headless chromium, every page at 1280 and 390 px)"
ADAMPROOFS_DOCS_SITE="$PWD/site" "$PY" -m pytest -m browser tests/test_docs_site.py -q \
  -p no:cacheprovider
step "done: site/ and artifacts/screenshots/"
