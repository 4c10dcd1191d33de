"""Work on many sources spread over worker processes, its results handed back in order.

An export of a whole archive is bound by one Python process's CPU: building each source's
Document and writing it as Markdown or JSON is four fifths of its time, the database the rest.
`spread` hands batches of sources to `WORKERS` worker processes (fresh interpreters from the
forkserver, each with its own connection), which read their batch and do the work, while the
calling process puts the results together in order: on two cores, about twice as fast.

All of them read the archive as it was when the work began, as one query would: the calling
process opens a repeatable-read transaction and exports its snapshot (`pg_export_snapshot`),
and each worker reads in that snapshot (`SET TRANSACTION SNAPSHOT`), as `pg_dump --jobs` does.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)


WORKERS = min(os.cpu_count() or 1, 4)
# Fewer highlights are worked on here: starting the workers (half a second each, Django and a
# connection) costs more than it saves on a small export.
SPREAD_AFTER = 20_000
BATCH_HIGHLIGHTS = 2_000  # a batch's size: big enough that handing it over is cheap
BATCH_SOURCES = 200
AHEAD = 3  # batches handed to each worker before its first result is taken
_SNAPSHOT = re.compile(r"[0-9A-F]+-[0-9A-F]+-[0-9]+")
_CONNECTION_KEYS = ("NAME", "USER", "PASSWORD", "HOST", "PORT")


def batches(counts: Sequence[tuple[int, int]]) -> list[list[int]]:
    """Source ids (with their highlight counts), in order, cut into batches of about
    `BATCH_HIGHLIGHTS` highlights or `BATCH_SOURCES` sources."""
    out: list[list[int]] = []
    batch: list[int] = []
    weight = 0
    for pk, count in counts:
        batch.append(pk)
        weight += count + 1
        if weight >= BATCH_HIGHLIGHTS or len(batch) >= BATCH_SOURCES:
            out.append(batch)
            batch, weight = [], 0
    if batch:
        out.append(batch)
    return out


def spread[T](
    sources: QuerySet[Any],
    work: Callable[..., list[T]],
    *args: Any,
    here: Callable[[], Iterator[T]],
) -> Iterator[T]:
    """`work(ids, *args)` for batches of `sources` in worker processes, the results in order.

    `sources` is a queryset of Source with `highlight_count`. With fewer than `SPREAD_AFTER`
    highlights, or inside a transaction (which another connection could not see), `here()`
    does it all in this process instead. Should a worker stop, the batches left are worked on
    here, in the same snapshot.
    """
    if connection.in_atomic_block or WORKERS < 2:
        yield from here()
        return
    with _snapshot() as snapshot:
        counts = list(sources.order_by("pk").values_list("pk", "highlight_count"))
        if sum(count for _, count in counts) < SPREAD_AFTER:
            yield from here()
            return
        zone = timezone.get_current_timezone_name()
        pool: ProcessPoolExecutor | None = _pool()
        window: collections.deque[tuple[list[int], Future[list[T]] | None]] = collections.deque()
        try:
            for batch in batches(counts):
                future = None
                if pool is not None:
                    try:
                        future = pool.submit(_run, snapshot, zone, work, batch, args)
                    except BrokenProcessPool:
                        logger.warning("a worker stopped; working on the rest of the export here")
                        pool.shutdown(wait=False, cancel_futures=True)
                        pool = None
                window.append((batch, future))
                while len(window) > AHEAD * WORKERS or (window and pool is None):
                    yield from _result(*window.popleft(), work, args)
            while window:
                yield from _result(*window.popleft(), work, args)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)


def _result[T](batch: list[int], future: Future[list[T]] | None, work: Callable[..., list[T]], args: Any) -> list[T]:
    if future is not None:
        try:
            return future.result()
        except BrokenProcessPool:
            logger.warning("a worker stopped; working on this batch of the export here")
    return work(batch, *args)


def _pool() -> ProcessPoolExecutor:
    database = {key: connection.settings_dict[key] for key in _CONNECTION_KEYS}
    settings_module = os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings")
    return ProcessPoolExecutor(
        max_workers=WORKERS,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_start,
        initargs=(settings_module, database),
    )


@contextmanager
def _snapshot() -> Iterator[str]:
    """A repeatable-read transaction here, and the name of its snapshot for workers to share."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_export_snapshot()")
            (name,) = cursor.fetchone()
        yield name


def _start(settings_module: str, database: dict[str, Any]) -> None:
    """A worker's start: Django set up, and connecting to the database its parent uses (a test
    database in the tests)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()
    connection.settings_dict.update(database)


def _run[T](snapshot: str, zone: str, work: Callable[..., list[T]], batch: list[int], args: Any) -> list[T]:
    """In a worker: `work` on one batch, in the parent's snapshot and time zone."""
    if not _SNAPSHOT.fullmatch(snapshot):
        raise ValueError(f"not a snapshot name: {snapshot!r}")
    with transaction.atomic(), timezone.override(zone):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        return work(batch, *args)
