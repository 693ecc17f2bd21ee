#!/bin/sh
# Set everything up and serve the chat on http://127.0.0.1:8000 (SQLite, one process).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
export DEBUG="${DEBUG:-1}"
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py bootstrap_admin
exec .venv/bin/python manage.py serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
