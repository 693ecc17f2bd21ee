#!/bin/sh
# Create .venv, install the server with its test tools, and build the web client.
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e ".[dev]"
  touch "$stamp"
fi
if [ -f frontend/package.json ] && command -v npm >/dev/null 2>&1; then
  if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ ! -f static/app/index.html ] || [ -n "$(find frontend/src frontend/index.html -newer static/app/index.html 2>/dev/null | head -n 1)" ]; then
    (cd frontend && npm run --silent build)
  fi
fi
