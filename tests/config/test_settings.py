from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from config.settings import env_bool, env_int, env_list
from tests.samples import REPO


def _database_url() -> str:
    """The test server, as a URL, so subprocesses don't start an embedded server of their own."""
    params = connection.settings_dict
    return f"postgresql://{params['USER']}@/{params['NAME']}?host={params['HOST']}"


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
    )


def test_it_reads_typed_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "yes")
    monkeypatch.setenv("X_COUNT", "12")
    monkeypatch.setenv("X_HOSTS", "a.example, b.example ,")
    assert env_bool("X_FLAG") is True
    assert env_int("X_COUNT", 1) == 12
    assert env_list("X_HOSTS", []) == ["a.example", "b.example"]
    assert env_bool("X_MISSING", True) is True


def test_it_refuses_values_it_cannot_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "perhaps")
    monkeypatch.setenv("X_COUNT", "twelve")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG")
    with pytest.raises(ImproperlyConfigured, match="X_COUNT"):
        env_int("X_COUNT", 1)


@pytest.mark.django_db
def test_it_keeps_a_generated_secret_key_in_the_data_dir(tmp_path: Path) -> None:
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    env = {"COMMONPLACE_DATA_DIR": str(tmp_path), "DATABASE_URL": _database_url()}
    first = _run(code, **env)
    second = _run(code, **env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert len(first.stdout.strip()) >= 50
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


@pytest.mark.django_db
def test_it_passes_the_deployment_checks_with_production_settings() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env={
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": "k" * 20 + "-production-secret-that-is-long-and-random-5c1f0e9a7b",
            "ALLOWED_HOSTS": "commonplace.example.org",
            "CSRF_TRUSTED_ORIGINS": "https://commonplace.example.org",
            "HTTPS": "true",
            "DATABASE_URL": _database_url(),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_it_uses_database_url_when_set() -> None:
    code = "from django.conf import settings; d = settings.DATABASES['default']; print(d['NAME'], d['OPTIONS'])"
    result = _run(code, DATABASE_URL="postgresql://someone:secret@db.example:6543/elsewhere")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("elsewhere ")
    assert "'pool': {'check': " in result.stdout
