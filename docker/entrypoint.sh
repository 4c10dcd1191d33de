#!/bin/sh
# Entrypoint for every Commonplace container (web, worker, one-off `manage.py` commands).
# Checks the two settings a container cannot do without, applies migrations before gunicorn
# starts (unless MIGRATE_ON_START=false), then runs the command as PID 1.
set -eu

if [ -z "${DATABASE_URL:-}" ] && [ -z "${DATABASE_URL_FILE:-}" ]; then
    echo "commonplace: set DATABASE_URL (or DATABASE_URL_FILE); the image has no embedded Postgres." >&2
    exit 1
fi
if [ -z "${SECRET_KEY:-}" ] && [ -z "${SECRET_KEY_FILE:-}" ]; then
    echo "commonplace: set SECRET_KEY (or SECRET_KEY_FILE), e.g. from:" >&2
    echo "  python3 -c 'import secrets; print(secrets.token_urlsafe(60))'" >&2
    exit 1
fi

if [ "${1:-}" = "gunicorn" ] && [ "${MIGRATE_ON_START:-true}" = "true" ]; then
    python manage.py migrate --noinput
fi

exec "$@"
