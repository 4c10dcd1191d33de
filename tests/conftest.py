"""Test-wide settings: a fast password hasher and background tasks run inline."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings


def pytest_configure(config: Any) -> None:
    # Changed once for the whole run (not per test), so rows made in setUpTestData use them too.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    # Serve static files from the source folders, with no collectstatic and no manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    # Tests write rows with the ORM between requests, which no kept page would notice; the page
    # cache has its own tests (tests/highlights/test_pagecache.py) that switch it on.
    settings.PAGE_CACHE = False
    settings.STATIC_ROOT = None
    # No connection pool in tests: the live server's threads and the test database's teardown
    # (DROP DATABASE) must not find connections parked in a pool.
    settings.DATABASES["default"]["OPTIONS"]["pool"] = False
    # One test database per run, so two runs at once (two terminals, CI beside a developer)
    # never drop each other's database.
    settings.DATABASES["default"]["TEST"]["NAME"] = f"test_commonplace_{os.getpid()}"
