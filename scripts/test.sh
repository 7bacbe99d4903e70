#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine, then run them.
#   bash scripts/test.sh            # all tests
#   bash scripts/test.sh -k fetch   # extra arguments go to pytest
# Needs only Python 3.10+; as root it also installs Chromium and the Noto fonts
# (Debian packages) for the browser tests, and PostgreSQL for the store's tests on it
# (the tests start their own server in a temporary folder). Screenshots of the browser tests
# are kept in test-artifacts/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
echo "== installing the project and its test dependencies"
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
# axe-core (the accessibility engine the browser tests run in Chromium): its axe.min.js, as
# shipped inside this PyPI wheel; only the wheel (--no-deps: the tests drive Chromium through
# tests/cdp.py, not Playwright)
.venv/bin/python -m pip install --quiet --no-deps 'axe-playwright-python==0.1.8'

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -e /usr/share/fonts/truetype/noto/NotoSansTamil-Regular.ttf ] || need+=(fonts-noto-core)
# PostgreSQL: initdb and pg_ctl (Debian keeps them in /usr/lib/postgresql/N/bin)
if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  need+=(postgresql)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing ${need[*]} for the browser and PostgreSQL tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "!! the browser and PostgreSQL tests need: ${need[*]} (apt-get install ${need[*]}); without them they are skipped (or fail under CI)" >&2
  fi
fi

echo "== running the tests"
exec .venv/bin/python -m pytest "$@"
