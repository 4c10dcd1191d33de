"""The embedded Postgres server's own settings: a page cache sized to the machine."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from unittest import mock

import psycopg
import pytest

from config import embedded

GB = 2**30


@pytest.mark.parametrize(("memory", "expected"), [(GB // 2, 128), (4 * GB, 512), (64 * GB, 1024)])
def test_the_page_cache_is_an_eighth_of_memory_within_bounds(memory: int, expected: int) -> None:
    sizes = {"SC_PHYS_PAGES": memory // 4096, "SC_PAGE_SIZE": 4096}
    with mock.patch.object(embedded.os, "sysconf", sizes.__getitem__):
        assert embedded.shared_buffers_mb() == expected


def test_a_new_server_starts_with_it() -> None:
    root = Path(tempfile.mkdtemp(prefix="cp-embedded-"))
    try:
        server = embedded.ensure_running(root)
        with psycopg.connect(host=server["HOST"], user=server["USER"], dbname="postgres") as conn:
            (megabytes,) = conn.execute(
                "SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'"
            ).fetchone()  # type: ignore[misc]
        assert megabytes == embedded.shared_buffers_mb()
        assert embedded.ensure_running(root) == server  # already right: no second restart
    finally:
        embedded.stop(root)
        shutil.rmtree(root, ignore_errors=True)
