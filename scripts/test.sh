#!/bin/sh
# Run the whole test suite (server, socket, multi-process, web client, browser).
# Uses the embedded default unless DATABASE_URL / REDIS_URL are set.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
if [ -f frontend/package.json ]; then
  (cd frontend && npm test --silent)
fi
exec .venv/bin/python -m pytest "$@"
