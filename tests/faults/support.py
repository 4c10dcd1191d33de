"""Shared by the fault tests: generated exports, and app processes run against a test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from django.db import connection

REPO = Path(__file__).resolve().parent.parent.parent


def kindle_clippings(book: str, author: str, count: int, start: int = 1) -> bytes:
    """A `My Clippings.txt` of `count` highlights of one book."""
    entries = []
    for number in range(start, start + count):
        entries.append(
            f"{book} ({author})\n"
            f"- Your Highlight on page {number} | location {number * 10}-{number * 10 + 1} | "
            f"Added on Thursday, 22 August 2024 18:10:53\n\n"
            f"Sentence {number} of {book}, worth keeping for its own sake.\n"
            "==========\n"
        )
    return "".join(entries).encode()


def readwise_csv(books: int, per_book: int) -> bytes:
    """A Readwise CSV export: `books` books of `per_book` highlights each."""
    lines = [
        "Highlight,Book Title,Book Author,Amazon Book ID,Note,Color,Tags,Location Type,Location,Highlighted at,Document tags"
    ]
    for book in range(books):
        for number in range(per_book):
            lines.append(
                f"Line {number} of volume {book} says something of note.,Volume {book},Writer {book % 7},,"
                f",yellow,,location,{number * 10 + 1},2024-03-01 08:15:30+00:00,"
            )
    return ("\n".join(lines) + "\n").encode()


def database_url() -> str:
    """The test database, as a URL for a subprocess (so it does not start a server of its own)."""
    params = connection.settings_dict
    return f"postgresql://{params['USER']}@/{params['NAME']}?host={params['HOST']}"


def app_env(**extra: str) -> dict[str, str]:
    """The environment of an app process (worker, web server) run by a test."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "SECRET_KEY": "a-test-secret-key-that-is-long-enough-0123456789-abcdefghij",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TASKS_BACKEND", None)
    env.update(extra)
    return env


def start_worker(log: Path, **env: str) -> subprocess.Popen[bytes]:
    """A real `manage.py db_worker`, polling often, its output in `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-startup-delay", "--no-reload"],
            cwd=REPO,
            env=app_env(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def wait_for(
    condition: Callable[[], object], timeout: float, what: str, logs: Mapping[str, Path] | None = None
) -> object:
    """Poll `condition` until it returns something true; fail with `what` (and the logs) after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    details = "".join(
        f"\n--- {name} ---\n{path.read_text(errors='replace')[-4000:]}" for name, path in (logs or {}).items()
    )
    raise AssertionError(f"timed out after {timeout} s waiting for {what}{details}")
