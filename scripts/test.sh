#!/usr/bin/env bash
# The project's test command (README quick start, step 2; .ci/run calls exactly this).
# Installs the package with its test extras, makes sure a Chromium for the end-to-end tests is
# present (Debian's package; Playwright's own browser download is not used), then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[test]"
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "scripts/test.sh: the end-to-end tests need Chromium: run 'sudo apt-get install -y chromium'" >&2
    exit 1
  fi
fi
# Lint, architecture contracts (pyproject.toml [tool.importlinter]) and types before the tests:
# each must report zero findings, and a broken layer fails fast.
python3 -m ruff check .
lint-imports --no-cache
python3 -m mypy
# Two workers: the slow tests (browser, differencing attack, Spark parity) run beside the rest.
# Every test uses its own temporary folder and free port, so they can share the machine.
# --dist loadgroup: tests marked with one xdist_group run on one worker (each worker has its own
# session and module fixtures: a Spark clinic split over both would start Spark and build its
# warehouses on each); the rest are handed out one by one, as with --dist load.
exec python3 -m pytest -n 2 --dist loadgroup "$@"
