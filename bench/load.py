"""A load test from a second process: gunicorn on loopback, driven by wrk (or a Python fallback).

`wrk` (Debian package `wrk`) is used when it is on PATH; otherwise a small multiprocessing HTTP
client with keep-alive connections does the same job (less efficiently, so it reports a little
less throughput than wrk would). Either way the run is bounded in time and talks only to
127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class LoadResult:
    tool: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    detail: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    """gunicorn serving the app on a free loopback port, as run.py starts it."""

    def __init__(self, env: dict[str, str], workers: int = 2, threads: int = 4) -> None:
        self.port = free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "config.wsgi",
                "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(workers),
                "--threads", str(threads),
                "--reuse-port",  # as run.py: the kernel spreads wrk's connections over the workers
                "--graceful-timeout", "5",
                "--log-level", "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=self.log,
        )  # fmt: skip

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.output()}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s: {self.output()}")

    def output(self) -> str:
        """The end of gunicorn's log: its last error, when it failed."""
        self.log.seek(0)
        lines = [line for line in self.log.read().decode(errors="replace").splitlines() if line.strip()]
        return " / ".join(lines[-2:])[-500:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


WRK_SCRIPT = """
local paths = {%(paths)s}
local cookie = %(cookie)s
local next_id = 0
function setup(thread)
  thread:set("offset", next_id * 7919)
  next_id = next_id + 1
end
local counter = 0
function request()
  counter = counter + 1
  local path = paths[((counter + offset) %% #paths) + 1]
  return wrk.format("GET", path, {["Cookie"] = cookie})
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %%d %%d %%d %%d %%d %%d %%d %%d %%d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string for these characters


def run_wrk(base: str, paths: list[str], cookie: str, seconds: int, connections: int) -> LoadResult:
    script = WRK_SCRIPT % {
        "paths": ", ".join(_lua_string(p) for p in paths),
        "cookie": _lua_string(cookie),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        threads = min(2, connections)
        result = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s",
             "-s", handle.name, base + paths[0]],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )  # fmt: skip
    finally:
        os.unlink(handle.name)
    line = next((li for li in result.stdout.splitlines() if li.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {result.stdout[-1000:]} {result.stderr[-1000:]}")
    requests, duration, p50, p99, *errors = (int(x) for x in line.split()[1:])
    detail = "connect {} read {} write {} status {} timeout {}".format(*errors)
    return LoadResult("wrk", requests, duration / 1e6, p50 / 1000, p99 / 1000, sum(errors), detail)


def _client(args: tuple[int, list[str], str, int, float, float]) -> tuple[list[float], int, str]:
    """One keep-alive connection sending requests from `start` until `deadline` (wall-clock times)."""
    port, paths, cookie, offset, start_at, deadline = args
    latencies: list[float] = []
    errors = 0
    last_error = ""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    time.sleep(max(0.0, start_at - time.time()))
    i = offset
    while time.time() < deadline:
        path = paths[i % len(paths)]
        i += 1
        start = time.perf_counter()
        try:
            connection.request("GET", path, headers={"Cookie": cookie})
            response = connection.getresponse()
            response.read()
            if response.status >= 400:
                errors += 1
                last_error = f"HTTP {response.status} {path}"
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException) as error:
            errors += 1
            last_error = f"{type(error).__name__}: {error}"
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        latencies.append(time.perf_counter() - start)
    connection.close()
    return latencies, errors, last_error


def run_python(port: int, paths: list[str], cookie: str, seconds: int, connections: int) -> LoadResult:
    """The fallback: one process per connection, all starting together once they are up."""
    start_at = time.time() + 2.0 + 0.2 * connections  # time for the processes to start
    deadline = start_at + seconds
    jobs = [(port, paths, cookie, i * 7919, start_at, deadline) for i in range(connections)]
    with get_context("spawn").Pool(connections) as pool:
        results = pool.map(_client, jobs)
    latencies = sorted(x for r in results for x in r[0])
    errors = sum(r[1] for r in results)
    detail = next((r[2] for r in results if r[2]), "")
    if not latencies:
        return LoadResult("python", 0, seconds, 0.0, 0.0, errors, detail)
    return LoadResult(
        "python",
        len(latencies),
        float(seconds),
        1000 * latencies[len(latencies) // 2],
        1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        errors,
        detail,
    )


def load_test(
    env: dict[str, str], paths: list[str], cookie: str, seconds: int, connections: int, tool: str = "auto"
) -> LoadResult:
    server = Gunicorn(env)
    try:
        server.wait_ready()
        # One request first: a wrong cookie would measure the login page, not the archive.
        request = urllib.request.Request(server.base + paths[0], headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=30) as response:
            if "/accounts/login/" in response.url:
                raise RuntimeError("the session cookie did not sign in")
        # Warm up first (each worker imports views and compiles templates on its first requests).
        warm = max(1, min(3, seconds // 5))
        if tool == "wrk" or (tool == "auto" and shutil.which("wrk")):
            run_wrk(server.base, paths, cookie, warm, connections)
            return run_wrk(server.base, paths, cookie, seconds, connections)
        run_python(server.port, paths, cookie, warm, connections)
        return run_python(server.port, paths, cookie, seconds, connections)
    finally:
        server.stop()


def describe(result: Any) -> str:
    return f"{result.tool}: {result.requests} requests in {result.seconds:.1f} s"
