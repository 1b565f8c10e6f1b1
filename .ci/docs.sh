#!/usr/bin/env bash
# Build the documentation site strictly and test it in a real headless Chromium.
# Installs what it needs: Debian's chromium (+ driver), the docs toolchain, websocket-client.
# Leaves the site in site/ and screenshots in artifacts/screenshots/. Budget: < 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
step() { echo "== docs [$((SECONDS - start))s] $*"; }

if ! command -v chromium >/dev/null 2>&1; then
  step "installing chromium (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi
chromium --version 2>/dev/null || true

step "installing the docs toolchain (pip)"
python -m pip install -q --disable-pip-version-check \
  "mkdocs>=1.6,<2" "mkdocs-material>=9.5,<10" "mkdocstrings[python]>=0.25" \
  "matplotlib>=3.7" "websocket-client>=1.6"

step "mkdocs build --strict"
export NO_MKDOCS_2_WARNING=1
python -m mkdocs build --strict --site-dir site

step "browser test (headless chromium, every page)"
ADAMPROOFS_DOCS_SITE="$PWD/site" python -m pytest -m browser tests/test_docs_site.py -q \
  -p no:cacheprovider
step "done; screenshots in artifacts/screenshots/"
